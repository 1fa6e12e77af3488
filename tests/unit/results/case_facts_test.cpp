// What a unit's testcases say for decide(): a failed one, and the test ids
// without one, matched by the entry's framework.
#include <catch2/catch.hpp>

#include "shardrun/results.hpp"
#include "shardrun/suite.hpp"

using namespace shardrun;
using namespace shardrun::results;

namespace {

junit::CaseSummary testcase(std::string classname, std::string name, junit::Outcome outcome) {
  junit::CaseSummary c;
  c.classname = std::move(classname);
  c.name = std::move(name);
  c.outcome = outcome;
  return c;
}

Finished read_unit(std::vector<std::string> tests) {
  Finished f;
  f.tests = std::move(tests);
  f.junit_expected = true;
  f.junit_ok = true;
  return f;
}

}  // namespace

TEST_CASE("case facts: node ids without a testcase are missing; a failed testcase is seen") {
  Entry entry;
  entry.name = "api";
  Finished f = read_unit({"tests/test_a.py::test_one", "tests/test_a.py::test_two"});
  add_case_facts(f, entry, {testcase("tests.test_a", "test_one", junit::Outcome::kFailed)});
  CHECK(f.any_case_failed);
  CHECK(f.missing == std::vector<std::string>{"tests/test_a.py::test_two"});
}

TEST_CASE("case facts: passing testcases for every id leave nothing missing") {
  Entry entry;
  entry.name = "api";
  Finished f = read_unit({"tests/test_a.py::test_one"});
  add_case_facts(f, entry, {testcase("tests.test_a", "test_one", junit::Outcome::kPassed)});
  CHECK_FALSE(f.any_case_failed);
  CHECK(f.missing.empty());
}

TEST_CASE("case facts: without readable JUnit every test id is missing") {
  Entry entry;
  entry.name = "api";
  Finished f = read_unit({"a", "b"});
  f.junit_ok = false;
  add_case_facts(f, entry, {});
  CHECK_FALSE(f.any_case_failed);
  CHECK(f.missing == std::vector<std::string>{"a", "b"});
}

TEST_CASE("case facts: pytest's exit status 5 with no testcase is a unit that found no tests") {
  Entry entry;
  entry.name = "py";
  entry.command.script = "python3 -m pytest {tests} --junitxml={junit}";
  Finished f = read_unit({"tests/test_import_checks.py"});
  f.status.code = 5;
  add_case_facts(f, entry, {});
  CHECK(f.found_no_tests);
  CHECK(f.missing == std::vector<std::string>{"tests/test_import_checks.py"});
  // The same status with a testcase in the report, or without a readable
  // report, or killed: not that.
  Finished with_case = read_unit({"tests/test_a.py"});
  with_case.status.code = 5;
  add_case_facts(with_case, entry, {testcase("tests.test_a", "test_one", junit::Outcome::kPassed)});
  CHECK_FALSE(with_case.found_no_tests);
  Finished unread = read_unit({"tests/test_a.py"});
  unread.status.code = 5;
  unread.junit_ok = false;
  add_case_facts(unread, entry, {});
  CHECK_FALSE(unread.found_no_tests);
  Finished timed_out = read_unit({"tests/test_a.py"});
  timed_out.status.code = 5;
  timed_out.status.timed_out = true;
  add_case_facts(timed_out, entry, {});
  CHECK_FALSE(timed_out.found_no_tests);
}
