// CI-native output: the Markdown summary (escaping, caps, sections), GitHub's
// workflow-command escaping and ::error lines, and appending to a file.
#include <catch2/catch.hpp>

#include <string>
#include "../temp_dir.hpp"

#include "shardrun/ci_output.hpp"
#include "shardrun/error.hpp"

using namespace shardrun;
namespace fs = std::filesystem;

namespace {

using shardrun::testing::TempDir;

std::string fmt_name(int i) {
  return "t" + std::to_string(i);
}

FailedTest failed(const std::string& test, const std::string& message, const std::string& file = "",
                  long line = 0) {
  FailedTest t;
  t.entry = "api";
  t.test = test;
  t.message = message;
  t.file = file;
  t.line = line;
  return t;
}

RunSummary failing_run() {
  RunSummary s;
  s.suite = "checkout";
  s.run_dir = "/work/repo/.shardrun/runs/20240101-120000-42";
  s.report = "/work/repo/shardrun-junit.xml";
  s.shards = 2;
  s.elapsed = 7.3;
  s.tests = 12;
  s.failures = 2;
  s.errors = 1;
  s.skipped = 1;
  s.exit_code = 1;
  s.failed_tests = {failed("test_a.test_bad", "assert 1 == 2", "tests/test_a.py", 10),
                    failed("test_a.test_pipe", "x | y", "tests/test_a.py", 14),
                    failed("test_b.test_db", "connection refused")};
  s.failed_tests.back().errored = true;
  s.located_failures = 2;
  s.shard_reports = {ShardReport{true, false, 2, 4.0}, ShardReport{true, true, 1, 6.5}};
  UnitRecord a, b, c;
  a.label = "api#0", a.entry = "api", a.shard = 0, a.start = 0, a.end = 1.5, a.testcases = 5;
  a.failures = 2, a.result = "failed";
  b.label = "api#1", b.entry = "api", b.shard = 0, b.start = 1.5, b.end = 4.0, b.testcases = 4;
  b.result = "passed";
  c.label = "smoke", c.entry = "smoke", c.shard = 1, c.start = 0, c.end = 6.5, c.testcases = 3;
  c.failures = 1, c.result = "failed";
  s.units = {a, b, c};
  return s;
}

}  // namespace

TEST_CASE("markdown_text escapes what would break a table cell or render as markup") {
  CHECK(markdown_text("a | b") == "a \\| b");
  CHECK(markdown_text("line1\nline2\r\nline3") == "line1<br>line2<br>line3");
  CHECK(markdown_text("use `x` and *y* _z_ [l](u) ~s~ \\") ==
        "use \\`x\\` and \\*y\\* \\_z\\_ \\[l\\](u) \\~s\\~ \\\\");
  CHECK(markdown_text("<script>&amp;") == "&lt;script&gt;&amp;amp;");
  CHECK(markdown_text("tab\there\x01") == "tab here ");
}

TEST_CASE("markdown_text cuts long text at a code point and says so") {
  CHECK(markdown_text("abcdef", 3) == "abc…");
  CHECK(markdown_text("abc", 3) == "abc");
  // "é" is two bytes: a cut after 2 characters keeps it whole.
  CHECK(markdown_text("aébc", 2) == "aé…");
  // The cut comes before escaping, so an escape is never split.
  CHECK(markdown_text("||||", 2) == "\\|\\|…");
}

TEST_CASE("markdown_code fences around backticks and escapes pipes for a table") {
  CHECK(markdown_code("test_x") == "`test_x`");
  CHECK(markdown_code("a`b") == "``a`b``");
  CHECK(markdown_code("``x") == "``` ``x ```");
  CHECK(markdown_code("p[a|b]") == "`p[a\\|b]`");
  CHECK(markdown_code("two\nlines") == "`two lines`");
  CHECK(markdown_code("").empty());
}

TEST_CASE("the summary has the headline, totals, failed tests, shards and slowest units") {
  MarkdownOptions options;
  options.base = "/work/repo";
  const std::string md = summary_markdown(failing_run(), options);
  CHECK(md.rfind("## shardrun: checkout — ❌ 3 of 12 tests failed\n", 0) == 0);
  // tests, passed (12 - 2 - 1 - 1), failed, errors, skipped, flaky, shards, time
  CHECK(md.find("| 12 | 8 | 2 | 1 | 1 | 0 | 2 | 7.3s |") != std::string::npos);
  // Paths under the workspace are shown relative to it.
  CHECK(md.find("Report `shardrun-junit.xml` · run `.shardrun/runs/20240101-120000-42` · exit 1") !=
        std::string::npos);
  CHECK(md.find("| `test_a.test_bad` | api | assert 1 == 2 |") != std::string::npos);
  CHECK(md.find("| `test_a.test_pipe` | api | x \\| y |") != std::string::npos);
  CHECK(md.find("| `test_b.test_db` | api | **error:** connection refused |") != std::string::npos);
  CHECK(md.find("| 1 | 1 | 3 | 1 | 6.5s | shard problem |") != std::string::npos);
  // Slowest first.
  const auto smoke = md.find("| `smoke` | smoke | 1 | 6.5s | 3 | failed |");
  const auto api1 = md.find("| `api#1` | api | 0 | 2.5s | 4 | passed |");
  REQUIRE(smoke != std::string::npos);
  REQUIRE(api1 != std::string::npos);
  CHECK(smoke < api1);
  CHECK(md.find("more") == std::string::npos);
  CHECK(md.size() >= 2);
  CHECK(md.substr(md.size() - 2) == "\n\n");
}

TEST_CASE("the summary lists at most options.failed_tests and counts the rest") {
  RunSummary s = failing_run();
  s.failures = 40;
  s.errors = 2;
  s.tests = 50;
  s.failed_tests.clear();
  for (int i = 0; i < 42; ++i) s.failed_tests.push_back(failed(fmt_name(i), "boom"));
  MarkdownOptions options;
  options.failed_tests = 30;
  const std::string md = summary_markdown(s, options);
  CHECK(md.find("`t29`") != std::string::npos);
  CHECK(md.find("`t30`") == std::string::npos);
  CHECK(md.find("… and 12 more failed tests (see the JUnit report)") != std::string::npos);
}

TEST_CASE("the summary caps each message and keeps a multi-line one in its row") {
  RunSummary s = failing_run();
  s.failed_tests = {failed("t", std::string(500, 'x') + "\nnext")};
  s.failures = 1;
  s.errors = 0;
  MarkdownOptions options;
  options.message_chars = 100;
  const std::string md = summary_markdown(s, options);
  CHECK(md.find("| `t` | api | " + std::string(100, 'x') + "… |\n") != std::string::npos);
  s.failed_tests = {failed("t", "first\nsecond | `third`")};
  CHECK(summary_markdown(s).find("| first<br>second \\| \\`third\\` |\n") != std::string::npos);
}

TEST_CASE("a passing run, a flaky one and an interrupted one say so in the headline") {
  RunSummary s;
  s.suite = "demo";
  s.tests = 4;
  s.shards = 1;
  CHECK(summary_markdown(s).rfind("## shardrun: demo — ✅ 4 tests passed\n", 0) == 0);
  CHECK(summary_markdown(s).find("### Failed tests") == std::string::npos);

  s.flaky = {FlakyTest{"api", "tests/test_f.py::test_once", 1}};
  std::string md = summary_markdown(s);
  CHECK(md.find("| `tests/test_f.py::test_once` | api | 1 |") != std::string::npos);
  s.exit_code = 1;  // --fail-on-flaky
  CHECK(summary_markdown(s).rfind("## shardrun: demo — ❌ 1 test passed only on a retry", 0) == 0);

  s.exit_code = 130;
  s.problems = {"shard 0: setup | failed"};
  md = summary_markdown(s);
  CHECK(md.rfind("## shardrun: demo — ⚠️ interrupted (exit 130)", 0) == 0);
  CHECK(md.find("- shard 0: setup \\| failed\n") != std::string::npos);
}

TEST_CASE("workflow command escaping follows GitHub's rules") {
  CHECK(escape_command_data("100% a\r\nb: c, d") == "100%25 a%0D%0Ab: c, d");
  CHECK(escape_command_property("100% a\nb: c, d") == "100%25 a%0Ab%3A c%2C d");
}

TEST_CASE("annotations: one ::error per located failed test, then the rest counted") {
  RunSummary s = failing_run();
  s.failed_tests[0].message = "AssertionError: 50% off\nassert 1 == 2";
  s.failed_tests[1].test = "test_a.test_x[a,b:c]";
  std::vector<std::string> lines = github_annotations(s);
  REQUIRE(lines.size() == 2);  // the third test has no file
  CHECK(lines[0] ==
        "::error file=tests/test_a.py,line=10,title=test_a.test_bad::AssertionError: 50%25 "
        "off%0Aassert 1 == 2");
  CHECK(lines[1] == "::error file=tests/test_a.py,line=14,title=test_a.test_x[a%2Cb%3Ac]::x | y");

  s.failed_tests.clear();
  for (int i = 0; i < 60; ++i) s.failed_tests.push_back(failed(fmt_name(i), "m", "t.py", i + 1));
  s.located_failures = 75;  // more than were kept
  lines = github_annotations(s, 50);
  REQUIRE(lines.size() == 51);
  CHECK(lines[49].rfind("::error file=t.py,line=50,title=t49::m", 0) == 0);
  CHECK(lines[50] == "shardrun: 25 more failed tests not annotated (at most 50 are)");
}

TEST_CASE("annotations: none without a file and line") {
  RunSummary s = failing_run();
  for (FailedTest& t : s.failed_tests) t.line = 0;
  s.located_failures = 0;
  CHECK(github_annotations(s).empty());
}

TEST_CASE("append_text appends and never truncates") {
  TempDir dir;
  const fs::path file = dir.write("summary.md", "earlier step\n");
  append_text(file, "one\n");
  append_text(file, "two\n");
  CHECK(dir.read("summary.md") == "earlier step\none\ntwo\n");
  append_text(dir / "new.md", "fresh\n");
  CHECK(dir.read("new.md") == "fresh\n");
  CHECK_THROWS_AS(append_text(dir / "missing" / "x.md", "x"), Error);
}
