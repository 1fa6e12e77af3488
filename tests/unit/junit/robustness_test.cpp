// Bad and hostile input, synthetic suites, merge_files, and commit failures
// (DESIGN §8 rule 11, §3 "Results").
#include <sys/resource.h>

#include <csignal>
#include <regex>

#include "shardrun/error.hpp"
#include "support.hpp"

using namespace shardrun::junit;
using namespace junit_test;

TEST_CASE("unreadable inputs give ok=false with a reason and add nothing") {
  TempDir dir;
  ReportWriter writer(dir / "out.xml");
  struct Bad {
    std::string fixture_name;
    std::string error;
  };
  const std::vector<Bad> bad = {
      {"does_not_exist.xml", "no such file"},
      {"empty.xml", "empty file"},
      {"truncated.xml",
       "line 5, column 40: Error parsing element attribute (unexpected end of file)"},
      {"not_xml.xml", "not XML: no root element"},
      {"wrong_root.xml", "root element is <html>, expected <testsuite> or <testsuites>"},
  };
  for (const Bad& b : bad) {
    INFO(b.fixture_name);
    const AddResult added = writer.add_file(fixture(b.fixture_name), {});
    CHECK_FALSE(added.ok);
    CHECK(added.error == b.error);
    CHECK(added.cases.empty());
  }
  CHECK_FALSE(writer.add_file(dir.path(), {}).ok);
  CHECK(writer.add_buffer(" \n\t", {}).error == "empty file");
  CHECK(writer.add_buffer("<testsuite>\n<testcase>\n</testsuite>", {}).error ==
        "line 3, column 3: Start-end tags mismatch");
  CHECK(writer.totals().tests == 0);

  REQUIRE(writer.add_file(fixture("duplicates.xml"), {}).ok);
  writer.commit();
  auto report = load_report(dir / "out.xml");
  check_invariants(*report);
  CHECK(std::distance(report->root.begin(), report->root.end()) == 1);
}

TEST_CASE("10,000 nested suites are hoisted without recursion") {
  constexpr int kDepth = 10000;
  std::string xml = "<testsuites>";
  for (int i = 0; i < kDepth; ++i)
    xml += "<testsuite name='s" + std::to_string(i) + "'><testcase classname='c' name='t" +
           std::to_string(i) + "' time='0.001'/>";
  for (int i = 0; i < kDepth; ++i) xml += "</testsuite>";
  xml += "</testsuites>";

  TempDir dir;
  ReportWriter writer(dir / "out.xml");
  const AddResult added = writer.add_buffer(xml, {});
  REQUIRE(added.ok);
  CHECK(added.cases.size() == kDepth);
  CHECK(added.cases.back().name == "t9999");
  writer.commit();
  auto report = load_report(dir / "out.xml");
  check_invariants(*report);
  CHECK(std::distance(report->root.begin(), report->root.end()) == kDepth);
  CHECK(attr(report->root, "time") == "10");
}

TEST_CASE("10,000 nested elements inside a testcase are copied without recursion") {
  constexpr int kDepth = 10000;
  std::string xml = "<testsuite name='deep'><testcase classname='c' name='n'><failure message='m'>";
  for (int i = 0; i < kDepth; ++i) xml += "<a>";
  xml += "bottom";
  for (int i = 0; i < kDepth; ++i) xml += "</a>";
  xml += "</failure></testcase></testsuite>";

  TempDir dir;
  ReportWriter writer(dir / "out.xml");
  REQUIRE(writer.add_buffer(xml, {}).ok);
  writer.commit();
  auto report = load_report(dir / "out.xml");
  pugi::xml_node node = case_named(suite_named(report->root, "deep"), "n").child("failure");
  for (int i = 0; i < kDepth; ++i) node = node.child("a");
  CHECK(all_text(node) == "bottom");
}

TEST_CASE("DOCTYPE entities are never expanded") {
  TempDir dir;
  auto report = merge_fixture(dir, "doctype_entities.xml");
  pugi::xml_node failure =
      case_named(suite_named(report->root, "doctype"), "entity").child("failure");
  // The body after its message (rule 7), the references as text.
  CHECK(all_text(failure) == "x\n&secret;&lol;");
  CHECK(report->bytes.find("<!DOCTYPE") == std::string::npos);
}

TEST_CASE("NUL bytes, duplicate attributes and foreign prefixes do not spoil the output") {
  TempDir dir;
  ReportWriter writer(dir / "out.xml");
  const std::string xml =
      std::string(
          "<testsuite name='s'><testcase classname='c' name='first' name='second' xsi:type='t' "
          "file='f.py'><system-out>a") +
      '\0' + "b</system-out></testcase></testsuite>";
  const AddResult added = writer.add_buffer(xml, {});
  INFO(added.error);
  REQUIRE(added.ok);
  writer.commit();
  auto report = load_report(dir / "out.xml");
  pugi::xml_node testcase = case_named(suite_named(report->root, "s"), "first");
  CHECK(all_text(testcase.child("system-out")) == "a\\x00b");
  CHECK(attr(testcase, "file") == "f.py");
  CHECK(report->bytes.find("second") == std::string::npos);
  CHECK(report->bytes.find("xsi:") == std::string::npos);
}

TEST_CASE("UTF-16 and Latin-1 inputs are converted to UTF-8") {
  TempDir dir;
  ReportWriter writer(dir / "out.xml");
  const std::string ascii = "<testsuite name='utf16 caf";
  std::string utf16 = "\xff\xfe";  // little-endian BOM
  for (char c : ascii) utf16 += std::string{c, '\0'};
  utf16 += std::string("\xe9\0", 2);  // U+00E9
  for (char c : std::string("'/>")) utf16 += std::string{c, '\0'};
  REQUIRE(writer.add_buffer(utf16, {}).ok);
  REQUIRE(
      writer
          .add_buffer(
              "<?xml version='1.0' encoding='ISO-8859-1'?><testsuite name='latin1 caf\xe9'/>", {})
          .ok);
  writer.commit();
  auto report = load_report(dir / "out.xml");
  suite_named(report->root, "utf16 caf\xc3\xa9");
  suite_named(report->root, "latin1 caf\xc3\xa9");
}

TEST_CASE("synthetic suites carry sanitised error, failure, skipped and output") {
  TempDir dir;
  ReportWriter writer(dir / "out.xml");
  SyntheticCase crash{"suite",
                      "api#1",
                      Outcome::kErrored,
                      1.25,
                      "killed by signal 9",
                      "shardrun.crash",
                      "log tail \x1b[0m ]]> end",
                      ""};
  SyntheticCase failed{"suite", "smoke", Outcome::kFailed, 0, "", "", "exit status 2\nmore", "out"};
  SyntheticCase skipped{"suite", "later", Outcome::kSkipped, 0, "not run: interrupted", "", "", ""};
  SyntheticCase passed{"suite", "ok", Outcome::kPassed, 0.5, "", "", "", "fine\n"};
  writer.add_synthetic_suite("shardrun", {"api", {{"shardrun.shard", "1"}}, {}},
                             {crash, failed, skipped, passed});
  CHECK(writer.totals().tests == 4);
  CHECK(writer.totals().errors == 1);
  CHECK(writer.totals().failures == 1);
  CHECK(writer.totals().skipped == 1);
  CHECK(writer.totals().time == Approx(1.75));
  writer.commit();

  auto report = load_report(dir / "out.xml");
  check_invariants(*report);
  pugi::xml_node suite = suite_named(report->root, "shardrun [api]");
  CHECK(attr(suite.child("properties").child("property"), "value") == "1");
  CHECK(std::regex_match(attr(suite, "timestamp"),
                         std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d)")));
  pugi::xml_node error = case_named(suite, "api#1").child("error");
  CHECK(attr(error, "message") == "killed by signal 9");
  CHECK(attr(error, "type") == "shardrun.crash");
  CHECK(all_text(error) == "killed by signal 9\nlog tail \\x1B[0m ]]> end");
  CHECK(attr(case_named(suite, "smoke").child("failure"), "message") == "exit status 2");
  CHECK(all_text(case_named(suite, "smoke").child("system-out")) == "out");
  CHECK(attr(case_named(suite, "later").child("skipped"), "message") == "not run: interrupted");
  CHECK(all_text(case_named(suite, "later").child("skipped")) == "not run: interrupted");
  CHECK(all_text(case_named(suite, "ok").child("system-out")) == "fine\n");
  CHECK(attr(case_named(suite, "ok"), "time") == "0.5");
}

TEST_CASE("merge_files labels each input and turns unreadable ones into errors") {
  TempDir dir;
  const fs::path missing = dir / "missing.xml";
  std::vector<std::string> warnings;
  const Totals totals = merge_files({fixture("pytest_report.xml"), missing,
                                     fixture("truncated.xml"), fixture("pytest_report.xml")},
                                    dir / "merged.xml", &warnings);
  CHECK(totals.tests == 10);
  CHECK(totals.errors == 2);
  CHECK(totals.failures == 2);

  auto report = load_report(dir / "merged.xml");
  check_invariants(*report);
  pugi::xml_node pytest = suite_named(report->root, "pytest");
  CHECK(
      attr(
          pytest.child("properties").find_child_by_attribute("property", "name", "shardrun.source"),
          "value") == "pytest_report.xml");
  // The second copy: the same suite name, its testcases renamed (rule 10).
  std::vector<pugi::xml_node> merged;
  for (pugi::xml_node suite : report->root.children("testsuite"))
    if (attr(suite, "name") == "shardrun.merge") merged.push_back(suite);
  REQUIRE(merged.size() == 2);
  pugi::xml_node lost = case_named(merged[0], missing.string());
  CHECK(attr(lost, "classname") == "shardrun.merge");
  CHECK(attr(lost.child("error"), "message") == "no such file");
  pugi::xml_node broken = case_named(merged[1], fixture("truncated.xml").string());
  CHECK(attr(broken.child("error"), "message").rfind("line 5, column 40:", 0) == 0);
  std::vector<pugi::xml_node> copies;
  for (pugi::xml_node suite : report->root.children("testsuite"))
    if (attr(suite, "name") == "pytest") copies.push_back(suite);
  REQUIRE(copies.size() == 2);
  case_named(copies[1], "test_ok (2)");

  // Two unreadable inputs, then the 4 duplicate testcases of the second pytest copy.
  REQUIRE(warnings.size() == 6);
  CHECK(warnings[0].find("no such file") != std::string::npos);
  CHECK(warnings[2].rfind("duplicate testcase", 0) == 0);
}

TEST_CASE("a writer cannot be made for a folder that does not exist") {
  TempDir dir;
  try {
    ReportWriter writer(dir / "no" / "such" / "out.xml");
    FAIL("no error");
  } catch (const shardrun::Error& e) {
    CHECK(e.code() == shardrun::ExitCode::kInfra);
    CHECK(std::string(e.what()).find((dir / "no" / "such").string()) != std::string::npos);
    CHECK(std::string(e.what()).find("No such file or directory") != std::string::npos);
  }
}

TEST_CASE("a failed commit leaves the existing report and no temporary file behind") {
  TempDir dir;
  const fs::path output = dir / "out.xml";
  write_bytes(output, "OLD REPORT");
  ReportWriter writer(output);
  REQUIRE(writer.add_file(fixture("pytest_report.xml"), {}).ok);

  SECTION("the output path is a directory") {
    fs::remove(output);
    fs::create_directories(output / "inside");
    CHECK_THROWS_AS(writer.commit(), shardrun::Error);
    CHECK(fs::is_directory(output / "inside"));
    CHECK(dir.entries() == std::set<std::string>{"out.xml"});
  }

  SECTION("writing the report fails part-way (file size limit), and a retry then succeeds") {
    // As root, permissions do not stop writes; RLIMIT_FSIZE does. Pick a
    // limit the body fits under but body + root header does not.
    std::uintmax_t full_size = 0;
    {
      TempDir probe;
      ReportWriter probe_writer(probe / "probe.xml");
      REQUIRE(probe_writer.add_file(fixture("pytest_report.xml"), {}).ok);
      probe_writer.commit();
      full_size = fs::file_size(probe / "probe.xml");
    }
    struct rlimit old {};
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
    const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
    struct rlimit small = old;
    small.rlim_cur = full_size - 20;
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
    bool threw = false;
    std::string message;
    try {
      writer.commit();
    } catch (const shardrun::Error& e) {
      threw = true;
      message = e.what();
    }
    ::setrlimit(RLIMIT_FSIZE, &old);
    std::signal(SIGXFSZ, old_handler);
    CHECK(threw);
    CHECK(message.find("File too large") != std::string::npos);
    CHECK(read_bytes(output) == "OLD REPORT");
    CHECK(dir.entries() == std::set<std::string>{"out.xml"});

    writer.commit();
    auto report = load_report(output);
    check_invariants(*report);
    CHECK(attr(report->root, "tests") == "4");
  }
}
