// Text that is not YAML is refused before yaml-cpp builds a model from it
// (issue 13, part 2): libfyaml's verdict with its line and column, bytes
// that are not UTF-8, and the edge cases of the encoding (BOM, CRLF, NUL,
// a very long line). The suite-shaped cases are fixtures/bad/yaml-*.yaml.

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <functional>
#include <string>

#include "shardrun/error.hpp"
#include "shardrun/suite.hpp"
#include "shardrun/yaml_syntax.hpp"

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

// What `run` writes to file descriptor 2.
std::string stderr_of(const std::function<void()>& run) {
  std::fflush(stderr);
  FILE* capture = std::tmpfile();
  REQUIRE(capture != nullptr);
  const int saved = ::dup(2);
  REQUIRE(saved >= 0);
  REQUIRE(::dup2(::fileno(capture), 2) == 2);
  run();
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  std::string written;
  std::rewind(capture);
  for (int c = std::fgetc(capture); c != EOF; c = std::fgetc(capture)) {
    written += static_cast<char>(c);
  }
  std::fclose(capture);
  return written;
}

const std::string kSuite = "version: 1\ntests:\n  - name: a\n    command: ";

}  // namespace

TEST_CASE("an unterminated quote is refused, not run", "[suite][yaml]") {
  // yaml-cpp read this as the command "touch ran ".
  CHECK(error_of(kSuite + "\"touch ran\n") ==
        "s.yaml:4:15: error: invalid YAML: double-quoted scalar without closing quote");
  CHECK(error_of(kSuite + "'touch ran\n") ==
        "s.yaml:4:15: error: invalid YAML: single-quoted scalar without closing quote");
}

TEST_CASE("libfyaml's diagnostics never reach stderr", "[suite][yaml]") {
  std::string error;
  const std::string written = stderr_of([&] {
    // An error libfyaml prints instead of collecting: it has no location, so
    // the check points where the last good event ended (after '---').
    error = error_of("--- |0\n");
    CHECK(error_of(kSuite + "\"x\n") != "no error");
  });
  CHECK(error == "s.yaml:1:4: error: invalid YAML: indentation indicator 0");
  CHECK(written.empty());
}

TEST_CASE("warnings and duplicate keys are not syntax errors", "[suite][yaml]") {
  // libfyaml warns about an unknown directive; it is still YAML.
  const Suite suite =
      parse_suite("%FOO bar\n---\nversion: 1\ntests: [{name: a, command: b}]\n", "s.yaml");
  CHECK(suite.tests.size() == 1);
  // Duplicate keys are valid to the parser; the Walker reports them.
  const std::string duplicate = kSuite + "a\n    command: b\n";
  CHECK_NOTHROW(check_yaml_syntax(duplicate, "s.yaml"));
  CHECK(error_of(duplicate) ==
        "s.yaml:5:5: error: duplicate key 'command' (first defined at line 4)");
}

TEST_CASE("bytes that are not UTF-8 are refused wherever they are", "[suite][yaml]") {
  const std::string tail = "; save it as UTF-8";
  // Where libfyaml does not look: a comment, a tag.
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

TEST_CASE("BOM, CRLF, NUL and a 10 MB line", "[suite][yaml]") {
  // A UTF-8 byte order mark: accepted (YAML allows one at the start).
  const Suite bom = parse_suite("\xef\xbb\xbf" + kSuite + "echo hi\n", "s.yaml");
  CHECK(bom.tests[0].name == "a");
  CHECK(bom.tests[0].command.script == "echo hi");

  // CRLF line breaks: accepted, and no '\r' reaches a value.
  const Suite crlf = parse_suite(
      "version: 1\r\ntests:\r\n  - name: a\r\n    command: echo hi\r\n"
      "    env:\r\n      A: \"two\r\n        lines\"\r\n",
      "s.yaml");
  CHECK(crlf.tests[0].command.script == "echo hi");
  REQUIRE(crlf.tests[0].env.size() == 1);
  CHECK(crlf.tests[0].env[0].second == "two lines");

  // A NUL byte: refused where it is.
  CHECK(error_of(std::string("version: 1\nna\0me: x\n", 20)) ==
        "s.yaml:2:3: error: the suite file contains a NUL byte (is it a binary file?)");

  // A 10 MB line: refused by the 4 MiB size limit before any parser runs.
  const std::string huge = kSuite + "echo " + std::string(10'000'000, 'x') + "\n";
  CHECK(error_of(huge) == "s.yaml: error: suite file is too large (" + std::to_string(huge.size()) +
                              " bytes; the limit is 4 MiB)");
  // A 3 MiB line under the limit is read whole.
  const Suite longest = parse_suite(kSuite + "echo " + std::string(3 << 20, 'x') + "\n", "s.yaml");
  CHECK(longest.tests[0].command.script.size() == 5 + (3u << 20));
}

TEST_CASE("text that hangs or crashes libfyaml 0.7.12 never reaches it", "[suite][yaml]") {
  // An endless loop in libfyaml: a directive that is not UTF-8.
  CHECK(error_of("%\xe1\n") ==
        "s.yaml:1:2: error: the suite file is not valid UTF-8 (byte 0xE1); save it as UTF-8");
  // A double free in libfyaml: a tab after ':' while an explicit key is
  // pending. Inputs found by a survey of mutated YAML texts.
  const std::string guard =
      "error: a tab after ':' in a file that also has '? ' (an explicit key, or text that looks "
      "like one) cannot be checked safely; use spaces after the ':'";
  CHECK(error_of("? -:\t-\n") == "s.yaml:1:5: " + guard);
  CHECK(error_of("? -: \t-\n") == "s.yaml:1:6: " + guard);
  CHECK(error_of("? key:\t:\n") == "s.yaml:1:7: " + guard);
  CHECK(error_of("? \xc3\xa9:\t-\n") == "s.yaml:1:5: " + guard);
  CHECK(error_of("?\n    \\' :\t-\n") == "s.yaml:2:9: " + guard);
  CHECK(error_of("# T\n? block:\t|\n  x\n") == "s.yaml:2:9: " + guard);
  // The match is coarse: a '? ' in a command is enough. A false alarm with
  // a clear message, instead of a crash.
  CHECK(error_of(kSuite + "\"ls a? b\"\n    env:\n      A:\t'1'\n") == "s.yaml:6:9: " + guard);
  // Without '? ' a tab after ':' is left to libfyaml, and is fine.
  const Suite suite = parse_suite(kSuite + "\"ls a?b\"\n    env:\n      A:\t'1'\n", "s.yaml");
  REQUIRE(suite.tests[0].env.size() == 1);
  CHECK(suite.tests[0].env[0].second == "1");
}
