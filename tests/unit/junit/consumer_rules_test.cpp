// The merged report as CI consumers read it (issue 13, part 3; DESIGN §8
// rules 2, 3, 4, 7, 10): one test per item, a fixture of fixtures/junit/ in,
// the rule checked on the re-parsed committed report. The same fixtures seed
// the fuzzer (tests/fuzz/corpus/fuzz_junit/) and are merged by the binary
// and read back with junitparser in tests/integration/test_report_consumers.py.
#include <set>
#include <tuple>

#include "shardrun/junit_attempts.hpp"
#include "support.hpp"

using namespace shardrun::junit;
using namespace junit_test;

namespace {

using Identity = std::tuple<std::string, std::string, std::string>;

std::set<Identity> identities(const Report& report) {
  std::set<Identity> all;
  for (pugi::xml_node suite : report.root.children("testsuite"))
    for (pugi::xml_node tc : suite.children("testcase"))
      all.emplace(attr(suite, "name"), attr(tc, "classname"), attr(tc, "name"));
  return all;
}

std::vector<std::string> result_elements(pugi::xml_node testcase) {
  std::vector<std::string> names;
  for (pugi::xml_node child : testcase.children()) {
    const std::string name = child.name();
    if (name == "failure" || name == "error" || name == "skipped") names.push_back(name);
  }
  return names;
}

// A writer over one fixture, committed; its warnings are kept.
struct Merged {
  std::unique_ptr<Report> report;
  std::vector<std::string> warnings;
};

Merged merge_one(const TempDir& dir, const std::string& name, const SuiteLabel& label = {}) {
  ReportWriter writer(dir / "out.xml");
  const AddResult added = writer.add_file(fixture(name), label);
  INFO(added.error);
  REQUIRE(added.ok);
  writer.commit();
  Merged merged{load_report(dir / "out.xml"), writer.warnings()};
  check_invariants(*merged.report);
  return merged;
}

// 2024-01-02T03:04:05Z
const auto kUnitStart = std::chrono::system_clock::from_time_t(1704164645);

}  // namespace

TEST_CASE("item 1: a testcase that failed and was skipped is written failed, without <skipped>") {
  TempDir dir;
  Merged m = merge_one(dir, "failure_and_skipped.xml");
  pugi::xml_node tc = case_named(suite_named(m.report->root, "mixed"), "failed_and_skipped");
  CHECK(result_elements(tc) == std::vector<std::string>{"failure"});
  // The skip message is kept, in the failure's text.
  CHECK(all_text(tc.child("failure")) == "real failure\n\nskipped: xfail");

  TempDir dir2;
  Merged e = merge_one(dir2, "skipped_and_error.xml");
  pugi::xml_node suite = suite_named(e.report->root, "skip_error");
  CHECK(attr(suite, "errors") == "1");
  CHECK(attr(suite, "skipped") == "1");
  pugi::xml_node errored = case_named(suite, "error_then_skipped");
  CHECK(result_elements(errored) == std::vector<std::string>{"error"});
  CHECK(all_text(errored.child("error")) ==
        "fixture broke\nsetup trace\n\nskipped: teardown skipped");
  // Two <skipped>: junitparser would count the testcase twice.
  pugi::xml_node skips = case_named(suite, "two_skips");
  CHECK(result_elements(skips) == std::vector<std::string>{"skipped"});
  CHECK(attr(skips.child("skipped"), "message") == "first reason");
  CHECK(all_text(skips.child("skipped")) == "first reason\n\nskipped: second reason\ndetails");
}

TEST_CASE("item 2: suite names carry the entry, never the shard, unit or run") {
  // One input as two runs at different worker counts would write it: in a
  // different shard, as a different unit (a batch, a retry).
  auto run = [](const TempDir& dir, const std::string& shard, const std::string& unit) {
    SuiteLabel label{"api", {{"shardrun.shard", shard}, {"shardrun.unit", unit}}, kUnitStart};
    ReportWriter writer(dir / "out.xml");
    REQUIRE(writer.add_file(fixture("pytest_report.xml"), label).ok);
    REQUIRE(writer.add_file(fixture("nested_suites.xml"), label).ok);
    REQUIRE(
        writer.add_buffer("<testsuite><testcase classname='c' name='t'/></testsuite>", label).ok);
    writer.commit();
    auto report = load_report(dir / "out.xml");
    check_invariants(*report);
    return report;
  };
  TempDir one, other;
  auto first = run(one, "0", "api#1");
  auto second = run(other, "3", "api#2.retry1");
  CHECK(identities(*first) == identities(*second));
  CHECK(suite_named(first->root, "pytest [api]"));
  CHECK(suite_named(first->root, "grandchild [api]"));
  CHECK(suite_named(first->root, "api"));  // an unnamed suite: the entry alone
  for (pugi::xml_node suite : first->root.children("testsuite")) {
    INFO(attr(suite, "name"));
    CHECK(attr(suite, "name").find("shard") == std::string::npos);
    CHECK(attr(suite, "name").find('#') == std::string::npos);
  }
  // Where it ran is in the properties.
  pugi::xml_node props = suite_named(second->root, "pytest [api]").child("properties");
  CHECK(attr(props.find_child_by_attribute("property", "name", "shardrun.shard"), "value") == "3");
  CHECK(attr(props.find_child_by_attribute("property", "name", "shardrun.unit"), "value") ==
        "api#2.retry1");
}

TEST_CASE("item 3: every failure, error and skipped gets a body that starts with its message") {
  TempDir dir;
  Merged m = merge_one(dir, "empty_bodies.xml");
  pugi::xml_node suite = suite_named(m.report->root, "bodies");
  // testcase, element, message, body
  const std::vector<std::tuple<std::string, std::string, std::string, std::string>> expected = {
      {"bare_failure", "failure", "failed", "failed"},
      {"message_only", "failure", "expected 2, got 3", "expected 2, got 3"},
      {"type_only", "error", "TimeoutError", "TimeoutError"},
      {"blank_body", "error", "connection refused", "connection refused"},
      {"body_elsewhere", "failure", "assert x",
       "assert x\nTraceback (most recent call last):\n  File \"t.py\", line 3\n"
       "AssertionError: assert x"},
      {"body_starts_with_message", "failure", "boom", "boom\n  at t.py:3"},
      {"bare_skipped", "skipped", "skipped", "skipped"},
      {"skipped_message", "skipped", "no database", "no database"},
  };
  for (const auto& [name, element, message, body] : expected) {
    INFO(name);
    pugi::xml_node result = case_named(suite, name).child(element.c_str());
    REQUIRE(result);
    CHECK(attr(result, "message") == message);
    CHECK(all_text(result) == body);
  }
  CHECK(attr(case_named(suite, "message_only").child("failure"), "type") == "AssertionError");

  // shardrun's own testcases too: a not-run unit, an exit status, a crash.
  TempDir dir2;
  ReportWriter writer(dir2 / "out.xml");
  SyntheticCase skipped{"s", "not_run", Outcome::kSkipped, 0, "not run: interrupted", "", "", ""};
  SyntheticCase failed{"s", "exit", Outcome::kFailed, 0, "", "shardrun.exit-status", "", ""};
  SyntheticCase crash{"s",
                      "crash",
                      Outcome::kErrored,
                      0,
                      "killed by signal 11 (SIGSEGV)",
                      "shardrun.crash",
                      "last lines of the log",
                      ""};
  writer.add_synthetic_suite("suite", {}, {skipped, failed, crash});
  writer.commit();
  auto report = load_report(dir2 / "out.xml");
  check_invariants(*report);
  pugi::xml_node synthetic = suite_named(report->root, "suite");
  CHECK(all_text(case_named(synthetic, "not_run").child("skipped")) == "not run: interrupted");
  CHECK(attr(case_named(synthetic, "exit").child("failure"), "message") == "shardrun.exit-status");
  CHECK(all_text(case_named(synthetic, "exit").child("failure")) == "shardrun.exit-status");
  CHECK(all_text(case_named(synthetic, "crash").child("error")) ==
        "killed by signal 11 (SIGSEGV)\nlast lines of the log");
}

TEST_CASE("item 4: a testcase without a name gets one, with a warning") {
  TempDir dir;
  Merged m = merge_one(dir, "unnamed_testcases.xml");
  std::vector<std::string> names;
  for (pugi::xml_node tc : suite_named(m.report->root, "anon").children("testcase"))
    names.push_back(attr(tc, "name"));
  CHECK(names == std::vector<std::string>{"(unnamed testcase 1)", "(unnamed testcase 2)", "named",
                                          "(unnamed testcase 4)"});
  REQUIRE(m.warnings.size() == 3);
  CHECK(m.warnings[0] ==
        R"x(testcase 1 of suite "anon" has no name; written as "(unnamed testcase 1)")x");
  CHECK(attr(m.report->root, "failures") == "1");
}

TEST_CASE("item 5: several failures in one testcase are one <failure> with all their text") {
  TempDir dir;
  Merged m = merge_one(dir, "multiple_failures.xml");
  pugi::xml_node tc = case_named(suite_named(m.report->root, "multi"), "three_failures");
  CHECK(result_elements(tc) == std::vector<std::string>{"failure"});
  CHECK(attr(tc.child("failure"), "message") == "first");
  CHECK(all_text(tc.child("failure")) ==
        "first\none\n\nfailure: second failure, first line\n\nmore\n\nfailure: ValueError");

  // An error wins over a failure (rule 2): the <error> stays, the failure's text joins it.
  TempDir dir2;
  Merged mixed = merge_one(dir2, "failure_and_skipped.xml");
  pugi::xml_node both = case_named(suite_named(mixed.report->root, "mixed"), "error_and_failure");
  CHECK(result_elements(both) == std::vector<std::string>{"error"});
  CHECK(all_text(both.child("error")) == "e\n\nfailure: f");
}

TEST_CASE("item 6: comma decimal times are read, with or without digit grouping") {
  TempDir dir;
  Merged m = merge_one(dir, "comma_times.xml");
  pugi::xml_node suite = suite_named(m.report->root, "commas");
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"decimal_comma", "1.5"},    {"grouped_point", "1234.5"}, {"grouped_comma", "1234.5"},
      {"grouped_only", "1234567"}, {"small", "0.004"},          {"double_comma", "0"},
      {"bad_group", "0"},          {"two_decimal_commas", "0"}};
  for (const auto& [name, time] : expected) {
    INFO(name);
    CHECK(attr(case_named(suite, name), "time") == time);
  }
  CHECK(attr(suite, "time") == "1237037.504");
}

TEST_CASE("item 7: suites without a timestamp get the unit's start, nested ones their parent's") {
  ScopedTz tz("UTC0");
  TempDir dir;
  SuiteLabel label{"api", {}, kUnitStart};
  Merged m = merge_one(dir, "no_timestamps.xml", label);
  const std::string start = "2024-01-02T03:04:05+00:00";
  CHECK(attr(suite_named(m.report->root, "outer [api]"), "timestamp") == start);
  CHECK(attr(suite_named(m.report->root, "inner [api]"), "timestamp") == start);
  CHECK(attr(suite_named(m.report->root, "dated_child [api]"), "timestamp") ==
        "2024-05-06T07:08:09Z");
  CHECK(attr(suite_named(m.report->root, "own_time [api]"), "timestamp") ==
        "2024-05-06T08:00:00+02:00");

  // Without a start (shardrun merge) nothing is invented for an input suite.
  TempDir dir2;
  Merged merged = merge_one(dir2, "no_timestamps.xml");
  CHECK_FALSE(suite_named(merged.report->root, "inner").attribute("timestamp"));
  CHECK(attr(suite_named(merged.report->root, "dated_child"), "timestamp") ==
        "2024-05-06T07:08:09Z");

  // Synthetic suites: the label's start, else the time of writing.
  TempDir dir3;
  ReportWriter writer(dir3 / "out.xml");
  writer.add_synthetic_suite("shardrun", label,
                             {SyntheticCase{"c", "n", Outcome::kPassed, 0, "", "", "", ""}});
  writer.commit();
  auto report = load_report(dir3 / "out.xml");
  CHECK(attr(suite_named(report->root, "shardrun [api]"), "timestamp") == start);
}

TEST_CASE("item 8: every declared count is recomputed from the testcases, a mismatch warned") {
  TempDir dir;
  Merged m = merge_one(dir, "declared_counts.xml");
  // errors="5" does not invent an error; failures="7" does not invent failures.
  pugi::xml_node errors = suite_named(m.report->root, "errors_claimed");
  CHECK(attr(errors, "tests") == "1");
  CHECK(attr(errors, "errors") == "0");
  pugi::xml_node failures = suite_named(m.report->root, "failures_claimed");
  CHECK(attr(failures, "failures") == "1");
  CHECK(attr(m.report->root, "tests") == "7");
  CHECK(attr(m.report->root, "errors") == "0");
  CHECK(attr(m.report->root, "failures") == "3");
  // A count that matches the suite's whole subtree ("sums") is no mismatch.
  CHECK(m.warnings == std::vector<std::string>{
                          R"(suite "errors_claimed" declares errors="5" but its testcases show )"
                          R"(errors=0; the report counts the testcases)",
                          R"(suite "failures_claimed" declares failures="7" but its testcases )"
                          R"(show failures=1; the report counts the testcases)"});

  TempDir dir2;
  Merged liar = merge_one(dir2, "lying_counts.xml");
  REQUIRE(liar.warnings.size() == 2);  // the <testsuites> root and the suite
  CHECK(liar.warnings[0] ==
        R"(suite "liar" declares tests="99" failures="7" skipped="3" but its testcases )"
        R"(show tests=3 failures=1 skipped=1; the report counts the testcases)");
}

TEST_CASE("item 9: identical duplicate testcases stay distinct: the later ones are renamed") {
  TempDir dir;
  Merged m = merge_one(dir, "duplicate_outcomes.xml");
  pugi::xml_node suite = suite_named(m.report->root, "dup");
  std::vector<std::string> names;
  for (pugi::xml_node tc : suite.children("testcase")) names.push_back(attr(tc, "name"));
  CHECK(names == std::vector<std::string>{"t", "t (2)", "t (3)", "t (2) (2)"});
  // Both failures count; GitLab would fold the two identical ones into one.
  CHECK(attr(suite, "failures") == "2");
  CHECK(m.warnings.size() == 3);

  // The same test in two suites (two entries) is two identities: no rename.
  TempDir dir2;
  ReportWriter writer(dir2 / "out.xml");
  REQUIRE(writer.add_file(fixture("duplicates.xml"), {"api", {}, {}}).ok);
  REQUIRE(writer.add_file(fixture("duplicates.xml"), {"smoke", {}, {}}).ok);
  CHECK(writer.warnings().size() == 2);  // "same" twice within each
  writer.commit();
  auto report = load_report(dir2 / "out.xml");
  check_invariants(*report);
  CHECK(case_named(suite_named(report->root, "dups [smoke]"), "same"));
}
