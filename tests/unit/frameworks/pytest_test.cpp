// The pytest adapter: its discover output, and its testcases matched back
// to node ids, plain names and test files.
#include <catch2/catch.hpp>

#include "shardrun/frameworks.hpp"

using namespace shardrun;
using frameworks::pytest;

namespace {

std::vector<std::string> parse_test_ids(std::string_view output) {
  return pytest().parse_discover_output(output);
}

/// Each id's testcase time (-1: no testcase), through case_of_ids.
std::vector<double> match_case_times(const std::vector<std::string>& ids,
                                     const std::vector<junit::CaseSummary>& cases) {
  std::vector<double> times;
  for (long c : pytest().case_of_ids(ids, cases))
    times.push_back(c < 0 ? -1.0 : cases[static_cast<std::size_t>(c)].time);
  return times;
}

}  // namespace

TEST_CASE("pytest --collect-only -q output becomes ids, without its summary") {
  std::string out =
      "tests/test_a.py::test_one\n"
      "tests/test_a.py::TestX::test_two[param with space]\n"
      "tests/test_b.py::test_three\r\n"
      "\n"
      "3 tests collected in 0.01s\n";
  CHECK(parse_test_ids(out) ==
        std::vector<std::string>{"tests/test_a.py::test_one",
                                 "tests/test_a.py::TestX::test_two[param with space]",
                                 "tests/test_b.py::test_three"});
}

TEST_CASE("summary-like lines, leading blanks and duplicates are skipped") {
  std::string out =
      "\n\n"
      "==================== warnings summary ====================\n"
      "a\n"
      "b\n"
      "a\n"
      "5 passed in 1s\n";
  CHECK(parse_test_ids(out) == std::vector<std::string>{"a", "b"});
  CHECK(parse_test_ids("").empty());
  CHECK(parse_test_ids("no tests ran in 0.01s\n").empty());
}

TEST_CASE("pytest junit testcases map back to node ids") {
  std::vector<junit::CaseSummary> cases = {
      {"tests.test_a", "test_one", 1.5, junit::Outcome::kPassed},
      {"tests.test_a.TestX", "test_two[p]", 0.25, junit::Outcome::kFailed},
      {"", "plain", 3.0, junit::Outcome::kPassed},
  };
  auto times = match_case_times({"tests/test_a.py::test_one", "tests/test_a.py::TestX::test_two[p]",
                                 "plain", "tests/test_a.py::missing"},
                                cases);
  CHECK(times == std::vector<double>{1.5, 0.25, 3.0, -1.0});
}

TEST_CASE("case_of_ids: pytest ids, plain names, and ids without a testcase") {
  std::vector<junit::CaseSummary> cases = {
      {"pkg.test_a", "test_x", 0.5, junit::Outcome::kPassed},
      {"pkg.test_a.TestK", "test_y[1]", 0.1, junit::Outcome::kFailed},
      {"suite.api", "plain-id", 0, junit::Outcome::kErrored},
  };
  std::vector<std::string> wanted = {"pkg/test_a.py::TestK::test_y[1]", "pkg/test_a.py::test_x",
                                     "pkg/test_a.py::test_gone", "plain-id"};
  CHECK(pytest().case_of_ids(wanted, cases) == std::vector<long>{1, 0, -1, 2});
  // Two ids for one testcase: only the first gets it.
  CHECK(pytest().case_of_ids({"plain-id", "plain-id"}, cases) == std::vector<long>{2, -1});
  CHECK(pytest().case_of_ids({"a"}, {}) == std::vector<long>{-1});
}

TEST_CASE("id_of_cases: node ids have one testcase, test files all of their module's") {
  std::vector<junit::CaseSummary> cases = {
      {"pkg.test_a", "test_x", 0, junit::Outcome::kPassed},
      {"pkg.test_a.TestK", "test_y", 0, junit::Outcome::kPassed},
      {"proj.pkg.test_b", "test_z", 0, junit::Outcome::kPassed},  // another rootdir
      {"test_b.TestQ", "test_w", 0, junit::Outcome::kPassed},     // rootdir below pkg/
      {"other", "test_v", 0, junit::Outcome::kPassed},
  };
  CHECK(pytest().id_of_cases({"pkg/test_a.py", "pkg/test_b.py"}, cases) ==
        std::vector<long>{0, 0, 1, 1, -1});
  CHECK(pytest().id_of_cases({"pkg/test_a.py::TestK::test_y"}, cases) ==
        std::vector<long>{-1, 0, -1, -1, -1});
  // A tail two files share ("test_a") names neither.
  CHECK(pytest().id_of_cases({"x/test_a.py", "y/test_a.py"},
                             {{"test_a", "t", 0, junit::Outcome::kPassed}}) ==
        std::vector<long>{-1});
}

TEST_CASE("pytest ids may be files when they are not node ids") {
  CHECK(pytest().ids_may_be_files({"tests/test_a.py", "tests/test_b.py"}));
  CHECK_FALSE(pytest().ids_may_be_files({"tests/test_a.py::test_one"}));
  CHECK_FALSE(pytest().ids_may_be_files({}));
}

TEST_CASE("pytest's exit status 5 with an empty report: the unit found no tests") {
  Entry entry;
  entry.command.script = "python3 -m pytest -q {tests} --junitxml={junit}";
  CHECK(pytest().found_no_tests(entry, 5, 0));
  // Anything else is what it says: a report with testcases, another status.
  CHECK_FALSE(pytest().found_no_tests(entry, 5, 1));
  CHECK_FALSE(pytest().found_no_tests(entry, 1, 0));
  CHECK_FALSE(pytest().found_no_tests(entry, 0, 0));
  // A command that does not name pytest: 5 may mean anything there.
  entry.command.script = "./run-tests.sh {tests} {junit}";
  CHECK_FALSE(pytest().found_no_tests(entry, 5, 0));
  entry.command.shell = false;
  entry.command.argv = {"py.test", "{tests}", "--junitxml={junit}"};
  CHECK(pytest().found_no_tests(entry, 5, 0));
  // The generic adapter never says so.
  CHECK_FALSE(frameworks::generic().found_no_tests(entry, 5, 0));
}
