// UnitResults and the retry XML (DESIGN §8 rule 9): held-back testcases
// become Attempts, and the attempt that counts is written with the earlier
// ones as <flakyFailure>/<flakyError> or <rerunFailure>/<rerunError>
// children. Checked on the committed report, re-parsed like a consumer would.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "shardrun/junit_attempts.hpp"
#include "support.hpp"

using namespace shardrun::junit;
using namespace junit_test;

namespace {

// A pytest-like first attempt: one pass, one assertion failure, one fixture error.
const char* kFirstAttempt = R"(<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="1" failures="1" skipped="0" tests="3" time="0.5">
<testcase classname="test_a" name="test_ok" time="0.1"/>
<testcase classname="test_a" name="test_flaky" time="0.2"><failure message="assert 0 == 1">def test_flaky():
&gt;   assert 0 == 1
E   assert 0 == 1</failure><system-out>first attempt output</system-out></testcase>
<testcase classname="test_a" name="test_setup" time="0.05"><error message="failed on setup">RuntimeError: broken fixture</error></testcase>
</testsuite></testsuites>)";

/// Commits `writer` and returns the report, with the shared invariants checked.
std::unique_ptr<Report> commit(ReportWriter& writer, const TempDir& dir) {
  writer.commit();
  auto report = load_report(dir / "out.xml");
  check_invariants(*report);
  return report;
}

std::vector<std::string> child_names(pugi::xml_node node) {
  std::vector<std::string> names;
  for (pugi::xml_node child : node.children())
    if (child.type() == pugi::node_element) names.push_back(child.name());
  return names;
}

}  // namespace

TEST_CASE("unit results: cases are listed in document order with the report's outcome") {
  UnitResults r = UnitResults::read_buffer(kFirstAttempt);
  REQUIRE(r.ok());
  REQUIRE(r.cases().size() == 3);
  CHECK(r.cases()[0].name == "test_ok");
  CHECK(r.cases()[0].outcome == Outcome::kPassed);
  CHECK(r.cases()[1].outcome == Outcome::kFailed);
  CHECK(r.cases()[1].time == Approx(0.2));
  CHECK(r.cases()[2].outcome == Outcome::kErrored);
}

TEST_CASE("unit results: an attempt keeps message, type, text and output") {
  UnitResults r = UnitResults::read_buffer(kFirstAttempt);
  Attempt failed = r.attempt(1, TextLimit{});
  CHECK(failed.outcome == Outcome::kFailed);
  CHECK(failed.classname == "test_a");
  CHECK(failed.name == "test_flaky");
  CHECK(failed.message == "assert 0 == 1");
  CHECK(failed.text == "def test_flaky():\n>   assert 0 == 1\nE   assert 0 == 1");
  CHECK(failed.system_out == "first attempt output");
  Attempt errored = r.attempt(2, TextLimit{});
  CHECK(errored.outcome == Outcome::kErrored);
  CHECK(errored.text == "RuntimeError: broken fixture");
  // Bounded: only the last line of the trace survives a one-line limit.
  CHECK(r.attempt(1, TextLimit{1, 1024}).text == "E   assert 0 == 1");
}

TEST_CASE("unit results: a dropped case is left out and its suites recounted without warnings") {
  TempDir dir;
  ReportWriter writer(dir / "out.xml");
  UnitResults r = UnitResults::read_buffer(kFirstAttempt);
  r.drop(1);
  r.drop(2);
  AddResult added = r.add_to(writer, {});
  REQUIRE(added.ok);
  REQUIRE(added.cases.size() == 1);
  CHECK(added.cases[0].name == "test_ok");
  auto report = commit(writer, dir);
  // The input said errors="1" tests="3"; with cases left out that no longer
  // holds, and is not a mismatch to warn about (rule 2).
  CHECK(report->root.attribute("tests").as_int() == 1);
  CHECK(report->root.attribute("errors").as_int() == 0);
  CHECK(writer.warnings().empty());
}

TEST_CASE("unit results: dropping every case writes nothing at all") {
  TempDir dir;
  ReportWriter writer(dir / "out.xml");
  writer.add_buffer(R"(<testsuite name="other"><testcase classname="c" name="kept"/></testsuite>)",
                    {});
  UnitResults r = UnitResults::read_buffer(kFirstAttempt);
  for (std::size_t i = 0; i < r.cases().size(); ++i) r.drop(i);
  AddResult added = r.add_to(writer, {});
  CHECK(added.ok);
  CHECK(added.cases.empty());
  auto report = commit(writer, dir);
  CHECK(report->root.attribute("tests").as_int() == 1);
  // No empty "pytest" suite is left behind.
  CHECK_FALSE(report->root.find_child_by_attribute("testsuite", "name", "pytest"));
}

TEST_CASE("unit results: a test that passed on a retry is passed with flaky children") {
  TempDir dir;
  ReportWriter writer(dir / "out.xml");
  UnitResults first = UnitResults::read_buffer(kFirstAttempt);
  std::vector<Attempt> flaky_failure = {first.attempt(1, TextLimit{})};
  std::vector<Attempt> flaky_error = {first.attempt(2, TextLimit{})};

  UnitResults retry = UnitResults::read_buffer(R"(<testsuite name="pytest" tests="2">
<testcase classname="test_a" name="test_flaky" time="0.3"><system-out>second attempt output</system-out></testcase>
<testcase classname="test_a" name="test_setup" time="0.01"/></testsuite>)");
  retry.add_earlier(0, flaky_failure);
  retry.add_earlier(1, flaky_error);
  AddResult added = retry.add_to(writer, {"retry", {}, {}});
  REQUIRE(added.ok);
  auto report = commit(writer, dir);
  CHECK(report->root.attribute("tests").as_int() == 2);
  CHECK(report->root.attribute("failures").as_int() == 0);
  CHECK(report->root.attribute("errors").as_int() == 0);

  pugi::xml_node suite = suite_named(report->root, "pytest [retry]");
  pugi::xml_node tc = case_named(suite, "test_flaky");
  // Surefire's order: the earlier attempts, then the case's own output.
  CHECK(child_names(tc) == std::vector<std::string>{"flakyFailure", "system-out"});
  pugi::xml_node f = tc.child("flakyFailure");
  CHECK(attr(f, "message") == "assert 0 == 1");
  CHECK(attr(f, "type") == "failure");  // Surefire's schema requires one
  CHECK(all_text(f.child("stackTrace")) ==
        "def test_flaky():\n>   assert 0 == 1\nE   assert 0 == 1");
  CHECK(all_text(f.child("system-out")) == "first attempt output");
  CHECK(all_text(tc.child("system-out")) == "second attempt output");
  CHECK(millis(tc) == 300);  // the time of the attempt that counts

  pugi::xml_node setup = case_named(suite, "test_setup");
  CHECK(child_names(setup) == std::vector<std::string>{"flakyError"});
  CHECK(attr(setup.child("flakyError"), "message") == "failed on setup");
  CHECK(attr(setup.child("flakyError"), "type") == "error");
}

TEST_CASE("unit results: a test that never passed keeps its failure plus rerun children") {
  TempDir dir;
  ReportWriter writer(dir / "out.xml");
  UnitResults first = UnitResults::read_buffer(kFirstAttempt);
  Attempt one = first.attempt(1, TextLimit{});
  Attempt two = first.attempt(2, TextLimit{});  // an error on the second attempt

  UnitResults last = UnitResults::read_buffer(R"(<testsuite name="pytest">
<testcase classname="test_a" name="test_flaky"><failure message="still 0" type="AssertionError">final trace</failure></testcase>
</testsuite>)");
  last.add_earlier(0, {one, two});
  REQUIRE(last.add_to(writer, {}).ok);
  auto report = commit(writer, dir);
  CHECK(report->root.attribute("failures").as_int() == 1);
  pugi::xml_node tc = case_named(suite_named(report->root, "pytest"), "test_flaky");
  CHECK(child_names(tc) == std::vector<std::string>{"failure", "rerunFailure", "rerunError"});
  CHECK(attr(tc.child("failure"), "message") == "still 0");
  CHECK(attr(tc.child("rerunFailure"), "message") == "assert 0 == 1");
  CHECK(all_text(tc.child("rerunError").child("stackTrace")) == "RuntimeError: broken fixture");
}

TEST_CASE("unit results: synthetic cases, and a held test written from its last attempt") {
  TempDir dir;
  ReportWriter writer(dir / "out.xml");
  Attempt crash;
  crash.outcome = Outcome::kErrored;
  crash.classname = "suite.api";
  crash.name = "test_x.py::test_crash";
  crash.message = "killed by signal 11 (SIGSEGV)";
  crash.type = "shardrun.crash";
  crash.text = "log tail\x1b[31m red\n";
  Attempt earlier = crash;
  earlier.outcome = Outcome::kFailed;
  earlier.message = "assert False";

  UnitResults r = UnitResults::synthetic("suite", {case_of(crash)});
  REQUIRE(r.ok());
  REQUIRE(r.cases().size() == 1);
  CHECK(r.cases()[0].outcome == Outcome::kErrored);
  r.add_earlier(0, {earlier});
  REQUIRE(r.add_to(writer, {}).ok);
  auto report = commit(writer, dir);
  pugi::xml_node tc = case_named(suite_named(report->root, "suite"), "test_x.py::test_crash");
  CHECK(child_names(tc) == std::vector<std::string>{"error", "rerunFailure"});
  CHECK(attr(tc.child("error"), "type") == "shardrun.crash");
  // Control characters reach the report as visible text, never raw.
  CHECK(all_text(tc.child("error")) == "killed by signal 11 (SIGSEGV)\nlog tail\\x1B[31m red\n");
  CHECK(report->bytes.find('\x1b') == std::string::npos);
}

TEST_CASE("unit results: unreadable input reports why, like add_file") {
  TempDir dir;
  UnitResults missing = UnitResults::read_file(dir / "nope.xml");
  CHECK_FALSE(missing.ok());
  CHECK(missing.error() == "no such file");
  UnitResults empty = UnitResults::read_file(dir.write("empty.xml", ""));
  CHECK(empty.error() == "empty file");
  UnitResults truncated = UnitResults::read_buffer("<testsuite><testcase name=");
  CHECK_FALSE(truncated.ok());
  ReportWriter writer(dir / "out.xml");
  CHECK_FALSE(truncated.add_to(writer, {}).ok);
  CHECK(writer.totals().tests == 0);
}

TEST_CASE("tail_text: last lines within a byte limit, never mid-character") {
  CHECK(tail_text("a\nb\nc\n", TextLimit{2, 100}) == "b\nc\n");
  CHECK(tail_text("a\nb\nc", TextLimit{5, 100}) == "a\nb\nc");
  CHECK(tail_text("abcdef", TextLimit{5, 3}) == "def");
  CHECK(tail_text("abc", TextLimit{0, 100}).empty());
  // "é" is two bytes: a cut through it starts after it instead.
  CHECK(tail_text("x\xc3\xa9yz", TextLimit{5, 3}) == "yz");
  CHECK(tail_text("x\xc3\xa9yz", TextLimit{5, 4}) == "\xc3\xa9yz");
}
