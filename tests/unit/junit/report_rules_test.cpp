// DESIGN §8 rules 1-8 and 10, each checked on a fixture through the public
// API and on the re-parsed committed report. The rules issue 13 changed
// (what consumers read) have their own file, consumer_rules_test.cpp.
#include <regex>

#include "support.hpp"

using namespace shardrun::junit;
using namespace junit_test;

namespace {

// The input, parsed the way the writer parses it, for byte comparisons.
std::string input_text(const std::string& fixture_name, const char* suite, const char* testcase,
                       const char* element) {
  static pugi::xml_document doc;
  REQUIRE(doc.load_file(fixture(fixture_name).c_str(),
                        pugi::parse_default | pugi::parse_ws_pcdata_single));
  pugi::xml_node root = doc.document_element();
  pugi::xml_node s = std::string(root.name()) == "testsuite"
                         ? root
                         : root.find_child_by_attribute("testsuite", "name", suite);
  return all_text(s.find_child_by_attribute("testcase", "name", testcase).child(element));
}

std::vector<std::string> suite_names(const Report& report) {
  std::vector<std::string> names;
  for (pugi::xml_node suite : report.root.children("testsuite"))
    names.push_back(attr(suite, "name"));
  return names;
}

}  // namespace

TEST_CASE("rule 1-4: a pytest report is written flat, recounted, labelled and dated") {
  TempDir dir;
  SuiteLabel label{"api", {{"shardrun.shard", "2"}, {"shardrun.unit", "api#3"}}, {}};
  ReportWriter writer(dir / "out.xml", "checkout");
  const AddResult added = writer.add_file(fixture("pytest_report.xml"), label);
  REQUIRE(added.ok);
  REQUIRE(added.cases.size() == 4);
  CHECK(added.cases[0].classname == "tests.test_api");
  CHECK(added.cases[0].name == "test_ok");
  CHECK(added.cases[0].time == Approx(0.003));
  CHECK(added.cases[1].outcome == Outcome::kFailed);
  CHECK(added.cases[2].outcome == Outcome::kSkipped);
  CHECK(added.cases[3].outcome == Outcome::kPassed);
  // Nothing reaches the output path before commit().
  CHECK_FALSE(fs::exists(dir / "out.xml"));
  writer.commit();

  auto report = load_report(dir / "out.xml");
  check_invariants(*report);
  CHECK(report->bytes.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites", 0) == 0);
  CHECK(attr(report->root, "name") == "checkout");
  CHECK(attr(report->root, "tests") == "4");
  CHECK(attr(report->root, "failures") == "1");
  CHECK(attr(report->root, "skipped") == "1");
  CHECK(attr(report->root, "time") == "0.512");
  CHECK(writer.totals().tests == 4);
  CHECK(writer.totals().time == Approx(0.512));

  pugi::xml_node suite = suite_named(report->root, "pytest [api]");
  CHECK(attr(suite, "hostname") == "ci-runner-7");
  CHECK(std::regex_match(attr(suite, "timestamp"),
                         std::regex(R"(2024-01-02T03:04:05\.123456[+-]\d\d:\d\d)")));
  // The suite's own properties first, then the label's.
  std::vector<std::pair<std::string, std::string>> properties;
  for (pugi::xml_node p : suite.child("properties").children("property"))
    properties.emplace_back(attr(p, "name"), attr(p, "value"));
  CHECK(properties == std::vector<std::pair<std::string, std::string>>{{"python", "3.11.4"},
                                                                       {"shardrun.shard", "2"},
                                                                       {"shardrun.unit", "api#3"}});
  CHECK(attr(case_named(suite, "test_sum"), "time") == "0.25");
}

TEST_CASE("rule 6: system-out and system-err are byte-identical and never re-indented") {
  TempDir dir;
  auto report = merge_fixture(dir, "pytest_report.xml");
  pugi::xml_node testcase = case_named(suite_named(report->root, "pytest"), "test_log");
  const std::string out = input_text("pytest_report.xml", "pytest", "test_log", "system-out");
  const std::string err = input_text("pytest_report.xml", "pytest", "test_log", "system-err");
  REQUIRE(out.find("\n    indented line\n\ttab-indented line   \n") != std::string::npos);
  CHECK(all_text(testcase.child("system-out")) == out);
  CHECK(err == "\n\n");
  CHECK(all_text(testcase.child("system-err")) == err);
  // Checked on the raw bytes too: no whitespace added inside the element.
  CHECK(report->bytes.find("<system-out>" + out + "</system-out>") != std::string::npos);
  // A failure body is copied as it is, after its message (rule 7).
  const std::string failure = input_text("pytest_report.xml", "pytest", "test_sum", "failure");
  CHECK(all_text(case_named(suite_named(report->root, "pytest"), "test_sum").child("failure")) ==
        "assert 3 == 4\n" + failure);
}

TEST_CASE("rule 1: nested suites are hoisted; containers without testcases dropped") {
  TempDir dir;
  auto report = merge_fixture(dir, "nested_suites.xml");
  CHECK(suite_names(*report) ==
        std::vector<std::string>{"root", "child", "grandchild", "leaf", "empty"});
  CHECK(attr(suite_named(report->root, "root"), "tests") == "1");
  CHECK(attr(suite_named(report->root, "root"), "timestamp") == "2024-05-06T07:08:09Z");
  CHECK(attr(suite_named(report->root, "grandchild"), "failures") == "1");
  CHECK(attr(suite_named(report->root, "empty"), "tests") == "0");
  CHECK(attr(report->root, "tests") == "4");
  CHECK(attr(report->root, "time") == "1.875");
}

TEST_CASE("rule 2: input counts are never trusted") {
  TempDir dir;
  auto report = merge_fixture(dir, "lying_counts.xml");
  pugi::xml_node suite = suite_named(report->root, "liar");
  CHECK(attr(suite, "tests") == "3");
  CHECK(attr(suite, "failures") == "1");
  CHECK(attr(suite, "skipped") == "1");
  CHECK(attr(suite, "errors") == "0");
  CHECK(attr(suite, "time") == "1.754");
  CHECK(attr(report->root, "tests") == "3");
  CHECK(attr(report->root, "time") == "1.754");
}

TEST_CASE("rule 2-3: failure beats skipped, error beats failure, flaky children do not fail") {
  TempDir dir;
  ReportWriter writer(dir / "out.xml");
  const AddResult added = writer.add_file(fixture("failure_and_skipped.xml"), {});
  REQUIRE(added.ok);
  REQUIRE(added.cases.size() == 4);
  CHECK(added.cases[0].outcome == Outcome::kFailed);
  CHECK(added.cases[1].outcome == Outcome::kPassed);
  CHECK(added.cases[2].outcome == Outcome::kFailed);
  CHECK(added.cases[3].outcome == Outcome::kErrored);
  writer.commit();
  auto report = load_report(dir / "out.xml");
  check_invariants(*report);
  pugi::xml_node suite = suite_named(report->root, "mixed");
  CHECK(attr(suite, "failures") == "2");
  CHECK(attr(suite, "errors") == "1");
  CHECK(attr(suite, "skipped") == "0");
  // Only the element that decides the outcome stays (rules 2, 3).
  CHECK_FALSE(case_named(suite, "failed_and_skipped").child("skipped"));
  CHECK_FALSE(case_named(suite, "error_and_failure").child("failure"));
  CHECK(attr(case_named(suite, "error_and_failure").child("error"), "message") == "e");
  // Flaky and rerun children are not result elements: they stay as they are.
  CHECK(attr(case_named(suite, "flaky_pass").child("flakyFailure"), "type") == "AssertionError");
  CHECK(case_named(suite, "rerun_failed").child("rerunFailure"));
  CHECK(case_named(suite, "rerun_failed").child("failure"));
}

TEST_CASE(
    "rule 2 and 7: several failures in one testcase become one, each bare one gets a message") {
  TempDir dir;
  auto report = merge_fixture(dir, "multiple_failures.xml");
  pugi::xml_node suite = suite_named(report->root, "multi");
  CHECK(attr(suite, "tests") == "3");
  CHECK(attr(suite, "failures") == "2");
  CHECK(attr(suite, "errors") == "1");
  pugi::xml_node three = case_named(suite, "three_failures");
  CHECK(std::distance(three.children("failure").begin(), three.children("failure").end()) == 1);
  CHECK(attr(three.child("failure"), "message") == "first");
  CHECK(attr(case_named(suite, "bare_error").child("error"), "message") == "error");
  CHECK(attr(case_named(suite, "bare_failure").child("failure"), "message") == "failed");
}

TEST_CASE("rule 6: a derived message is the first line cut at 200 characters") {
  TempDir dir;
  ReportWriter writer(dir / "out.xml");
  const std::string line(300, 'x');
  REQUIRE(writer
              .add_buffer("<testsuite name='s'><testcase classname='c' name='n'><failure>" + line +
                              "\nsecond</failure></testcase></testsuite>",
                          {})
              .ok);
  writer.commit();
  auto report = load_report(dir / "out.xml");
  pugi::xml_node failure = case_named(suite_named(report->root, "s"), "n").child("failure");
  CHECK(attr(failure, "message") == std::string(200, 'x'));
  CHECK(all_text(failure) == line + "\nsecond");
}

TEST_CASE("rule 5: control characters and bad bytes become visible text, CDATA stays intact") {
  TempDir dir;
  auto report = merge_fixture(dir, "control_chars.xml");
  pugi::xml_node suite = suite_named(report->root, "colour\\x1B[31m");
  pugi::xml_node esc = case_named(suite, "esc_in_text");
  CHECK(attr(esc.child("failure"), "message") == "red \\x1B[31mtext\\x1B[0m");
  CHECK(all_text(esc.child("failure")) ==
        "red \\x1B[31mtext\\x1B[0m\nline \\x1B[1mbold\\x1B[0m and a bad byte \\xFF here");
  CHECK(all_text(esc.child("system-out")) ==
        "before ]]> after \\x1B[0m\ncaf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x99\x82");
  pugi::xml_node ref = case_named(suite, "reference \\x1B in name");
  CHECK(all_text(ref.child("system-err")) == "truncated \\xE6\\x97 sequence");

  // The file itself: valid UTF-8, no raw control bytes, and no character
  // reference other than to tab, newline or carriage return.
  CHECK(report->bytes == sanitize_text(report->bytes));
  const std::regex reference(R"(&#(x[0-9A-Fa-f]+|[0-9]+);)");
  for (auto it = std::sregex_iterator(report->bytes.begin(), report->bytes.end(), reference);
       it != std::sregex_iterator(); ++it) {
    CHECK(((*it)[0] == "&#9;" || (*it)[0] == "&#10;" || (*it)[0] == "&#13;"));
  }
  CHECK(report->bytes.find("&#27;") == std::string::npos);
}

TEST_CASE("rule 8: suite-level errors become testcases; declared errors alone do not") {
  TempDir dir;
  auto report = merge_fixture(dir, "suite_level_error.xml");
  pugi::xml_node collect = suite_named(report->root, "collect");
  CHECK(attr(collect, "tests") == "2");
  CHECK(attr(collect, "errors") == "1");
  pugi::xml_node synthetic = case_named(collect, "<suite-level error>");
  CHECK(attr(synthetic, "classname") == "collect");
  CHECK(attr(synthetic.child("error"), "message") == "ImportError while importing test module");
  CHECK(all_text(synthetic.child("error")) ==
        "ImportError while importing test module\nTraceback: no module named foo");
  CHECK_FALSE(collect.child("error"));  // no longer at suite level

  // errors="2" with nothing to show for it is a count like any other (rule 2).
  pugi::xml_node declared = suite_named(report->root, "declared");
  CHECK(attr(declared, "tests") == "0");
  CHECK(attr(declared, "errors") == "0");
  CHECK(attr(report->root, "errors") == "1");
}

TEST_CASE("rule 4: suites keep their names, even when several share one") {
  TempDir dir;
  ReportWriter writer(dir / "out.xml");
  for (int i = 0; i < 3; ++i) REQUIRE(writer.add_file(fixture("pytest_report.xml"), {}).ok);
  REQUIRE(writer.add_buffer("<testsuite name='pytest (2)'/>", {}).ok);
  writer.commit();
  auto report = load_report(dir / "out.xml");
  check_invariants(*report);
  // A name that depended on what came before would change a test's identity
  // with the order units finish in; Jenkins merges suites of one name.
  CHECK(suite_names(*report) ==
        std::vector<std::string>{"pytest", "pytest", "pytest", "pytest (2)"});
  CHECK(attr(report->root, "tests") == "12");
}

TEST_CASE("rule 10: repeated identities are renamed and warned about, capped") {
  TempDir dir;
  ReportWriter writer(dir / "out.xml");
  REQUIRE(writer.add_file(fixture("duplicates.xml"), {}).ok);
  REQUIRE(writer.warnings().size() == 1);
  CHECK(writer.warnings()[0] ==
        R"x(duplicate testcase: suite "dups" classname "d" name "same", written as "same (2)")x");

  std::string many = "<testsuite name='many'>";
  for (int i = 0; i < 26; ++i) many += "<testcase classname='x' name='n'/>";
  REQUIRE(writer.add_buffer(many + "</testsuite>", {}).ok);
  // 1 + 25 duplicates: 20 listed, then one line counting the rest.
  REQUIRE(writer.warnings().size() == 21);
  CHECK(writer.warnings().back() == "... and 6 more duplicate testcases");
  writer.commit();
  auto report = load_report(dir / "out.xml");
  check_invariants(*report);
  CHECK(attr(report->root, "tests") == "29");
  CHECK(case_named(suite_named(report->root, "many"), "n (26)"));
}

TEST_CASE("rule 5: times are normalised; unparsable timestamps are dropped") {
  TempDir dir;
  auto report = merge_fixture(dir, "times.xml");
  pugi::xml_node suite = suite_named(report->root, "times");
  CHECK_FALSE(suite.attribute("timestamp"));
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"negative", "0"},    {"nan", "0"},      {"comma", "1.5"},      {"words", "0"},
      {"exponent", "1000"}, {"spaces", "2.5"}, {"fine_grained", "0"}, {"missing", "0"}};
  for (const auto& [name, time] : expected) {
    INFO(name);
    CHECK(attr(case_named(suite, name), "time") == time);
  }
  CHECK(attr(suite, "time") == "1004");
}

TEST_CASE("rule 10: a duplicate is found also after many distinct testcases") {
  // More than the recent-hash window, so the first testcases' hashes have
  // been folded into the sorted vector by the time the duplicate arrives.
  TempDir dir;
  ReportWriter writer(dir / "out.xml");
  std::vector<SyntheticCase> cases(70000);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    cases[i].classname = "bulk";
    cases[i].name = "t" + std::to_string(i);
    cases[i].outcome = Outcome::kPassed;
  }
  writer.add_synthetic_suite("first", {}, cases);
  CHECK(writer.warnings().empty());
  // The same suite name again: the same identities (rule 4).
  writer.add_synthetic_suite("first", {}, {cases[5], cases[69999]});
  REQUIRE(writer.warnings().size() == 2);
  CHECK(writer.warnings()[0] ==
        R"x(duplicate testcase: suite "first" classname "bulk" name "t5", written as "t5 (2)")x");
  CHECK(writer.totals().tests == 70002);
}
