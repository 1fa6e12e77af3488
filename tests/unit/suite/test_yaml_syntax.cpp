// Text that is not YAML is refused before yaml-cpp builds a model from it
// (issue 13, part 2): bytes that are not UTF-8.

#include <catch2/catch.hpp>
#include <string>

#include "shardrun/error.hpp"
#include "shardrun/suite.hpp"

using namespace shardrun;

namespace {

// "FILE:LINE:COL: error: MESSAGE" of the SuiteError parsing `text` throws.
std::string error_of(const std::string& text) {
  try {
    parse_suite(text, "s.yaml");
  } catch (const SuiteError& e) {
    return e.what();
  }
  return "no error";
}

const std::string kSuite = "version: 1\ntests:\n  - name: a\n    command: ";

}  // namespace

TEST_CASE("bytes that are not UTF-8 are refused wherever they are", "[suite][yaml]") {
  const std::string tail = "; save it as UTF-8";
  // In a comment, in a tag.
  CHECK(error_of("version: 1\n# caf\xe9\n") ==
        "s.yaml:2:6: error: the suite file is not valid UTF-8 (byte 0xE9)" + tail);
  CHECK(error_of(kSuite + "!\xe9 x\n") ==
        "s.yaml:4:15: error: the suite file is not valid UTF-8 (byte 0xE9)" + tail);
  // The column counts characters: "é" before the bad byte is one.
  CHECK(error_of(kSuite + "\"\xc3\xa9\xff\"\n") ==
        "s.yaml:4:16: error: the suite file is not valid UTF-8 (byte 0xFF)" + tail);
  // Overlong, surrogate, above U+10FFFF, cut short at the end.
  for (const char* bad :
       {"\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xf0\x9f\x98"}) {
    INFO("bytes: " << bad);
    CHECK(error_of(kSuite + "touch " + bad)
              .starts_with("s.yaml:4:20: error: the suite file is "
                           "not valid UTF-8"));
  }
  // Well-formed text of every length is fine.
  const Suite suite =
      parse_suite(kSuite + "echo caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n", "s.yaml");
  CHECK(suite.tests[0].command.script == "echo caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}
