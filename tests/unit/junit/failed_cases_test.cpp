// ReportWriter::failed_cases: what the CI summary and annotations learn of
// each failed testcase as it is written: entry, message, file and line.
#include "shardrun/junit_attempts.hpp"
#include "support.hpp"

using namespace shardrun::junit;
using namespace junit_test;

namespace {

// pytest -o junit_family=xunit1: `line` is the 0-based line of the def, the
// traceback's last line names the 1-based line that failed.
const char* kPytest = R"(<testsuites><testsuite name="pytest">
<testcase classname="test_a" name="test_ok" file="tests/test_a.py" line="3" time="0.1"/>
<testcase classname="test_a" name="test_bad" file="tests/test_a.py" line="7" time="0.2">
<failure message="AssertionError: x | `y`&#10;assert 1 == 2">def test_bad():
&gt;       assert x == 2

tests/helpers.py:4: in check
tests/test_a.py:10: AssertionError</failure></testcase>
<testcase classname="test_a" name="test_err" file="tests/test_a.py" line="20" time="0">
<error message="fixture 'db' not found">file /src/tests/test_a.py, line 21
E  fixture 'db' not found
/src/tests/test_a.py:21</error></testcase>
<testcase classname="test_a" name="test_bare" file="tests/test_a.py" line="40">
<failure message="no traceback"/></testcase>
<testcase classname="test_a" name="test_skip" file="tests/test_a.py" line="30">
<skipped message="later"/></testcase>
</testsuite></testsuites>)";

}  // namespace

TEST_CASE("failed_cases: message, file and the line that failed, for each failed testcase") {
  TempDir dir;
  ReportWriter writer(dir / "out.xml");
  REQUIRE(writer.add_buffer(kPytest, SuiteLabel{"api", {}, {}}).ok);
  const std::vector<FailedCase>& failed = writer.failed_cases();
  REQUIRE(failed.size() == 3);  // not the passed nor the skipped one
  CHECK(failed[0].entry == "api");
  CHECK(failed[0].classname == "test_a");
  CHECK(failed[0].name == "test_bad");
  CHECK(failed[0].outcome == Outcome::kFailed);
  CHECK(failed[0].message == "AssertionError: x | `y`\nassert 1 == 2");
  CHECK(failed[0].file == "tests/test_a.py");
  CHECK(failed[0].line == 10);  // from the traceback, not the def's 7
  // A setup error names the def with an absolute path.
  CHECK(failed[1].outcome == Outcome::kErrored);
  CHECK(failed[1].message == "fixture 'db' not found");
  CHECK(failed[1].line == 21);
  // No traceback: the line attribute as written.
  CHECK(failed[2].line == 40);
  CHECK(writer.located_failures() == 3);
}

TEST_CASE("failed_cases: without a file there is no line; the message comes from the body") {
  TempDir dir;
  ReportWriter writer(dir / "out.xml");
  REQUIRE(writer
              .add_buffer(R"(<testsuite name="s"><testcase classname="c" name="n" line="5">)"
                          R"(<failure>first line
second</failure></testcase></testsuite>)",
                          SuiteLabel{})
              .ok);
  REQUIRE(writer.failed_cases().size() == 1);
  CHECK(writer.failed_cases()[0].message == "first line");
  CHECK(writer.failed_cases()[0].file.empty());
  CHECK(writer.failed_cases()[0].line == 0);
  CHECK(writer.located_failures() == 0);
}

TEST_CASE("failed_cases: messages are cut, and only the first kKeptFailedCases are kept") {
  TempDir dir;
  ReportWriter writer(dir / "out.xml");
  std::string xml = R"(<testsuite name="s">)";
  const std::string long_message = std::string(kFailedMessageBytes - 1, 'x') + "é";
  for (std::size_t i = 0; i < kKeptFailedCases + 10; ++i)
    xml += "<testcase classname=\"c\" name=\"t" + std::to_string(i) +
           "\" file=\"f.py\" line=\"1\"><failure message=\"" + long_message + "\"/></testcase>";
  xml += "</testsuite>";
  REQUIRE(writer.add_buffer(xml, SuiteLabel{}).ok);
  REQUIRE(writer.failed_cases().size() == kKeptFailedCases);
  CHECK(writer.failed_cases().back().name == "t" + std::to_string(kKeptFailedCases - 1));
  // Cut before the two-byte "é" that would cross the limit.
  CHECK(writer.failed_cases()[0].message == std::string(kFailedMessageBytes - 1, 'x'));
  CHECK(writer.located_failures() == kKeptFailedCases + 10);
  CHECK(writer.totals().failures == kKeptFailedCases + 10);
}

TEST_CASE("failed_cases: a test that passed on a retry is not failed; one that failed again is") {
  TempDir dir;
  ReportWriter writer(dir / "out.xml");
  UnitResults first = UnitResults::read_buffer(
      R"(<testsuite name="s"><testcase classname="c" name="flaky"><failure message="1st"/>)"
      R"(</testcase><testcase classname="c" name="broken"><failure message="1st"/></testcase>)"
      R"(</testsuite>)");
  REQUIRE(first.ok());
  const Attempt flaky = first.attempt(0, {});
  const Attempt broken = first.attempt(1, {});
  UnitResults second = UnitResults::read_buffer(
      R"(<testsuite name="s"><testcase classname="c" name="flaky"/>)"
      R"(<testcase classname="c" name="broken"><failure message="2nd"/></testcase></testsuite>)");
  REQUIRE(second.ok());
  second.add_earlier(0, {flaky});
  second.add_earlier(1, {broken});
  REQUIRE(second.add_to(writer, SuiteLabel{"api", {}, {}}).ok);
  REQUIRE(writer.failed_cases().size() == 1);
  CHECK(writer.failed_cases()[0].name == "broken");
  CHECK(writer.failed_cases()[0].message == "2nd");
}
