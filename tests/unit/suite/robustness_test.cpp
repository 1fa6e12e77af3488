// Hostile input: deep nesting, alias bombs, huge files, binary garbage.
// Each must end in a SuiteError (or a valid suite), never a crash or hang.

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <random>

#include "shardrun/error.hpp"
#include "shardrun/suite.hpp"

namespace fs = std::filesystem;
using namespace shardrun;

namespace {

// The SuiteError parsing `text` throws; fails the test on anything else.
SuiteError error_of(const std::string& text) {
  try {
    parse_suite(text, "s.yaml");
  } catch (const SuiteError& e) {
    return e;
  }
  FAIL("parse_suite did not throw a SuiteError");
  throw;  // unreachable
}

const std::string kNesting = "the suite nests lists and maps more than 64 levels deep";

}  // namespace

TEST_CASE("100,000 opening brackets are refused before parsing", "[robustness]") {
  const SuiteError e = error_of("version: 1\ntests: " + std::string(100000, '['));
  CHECK(e.detail() == kNesting);
  CHECK(e.line() == 2);
  CHECK(e.column() == 8 + 63);  // the 64th bracket is level 65 below the root map

  const SuiteError braces = error_of(std::string(100000, '{'));
  CHECK(braces.detail() == kNesting);
  CHECK(braces.column() == 65);
}

TEST_CASE("nesting up to the limit is left to the schema", "[robustness]") {
  // 60 levels: accepted by the pre-scan, then refused as a wrong type.
  const std::string deep = std::string(60, '[') + std::string(60, ']');
  const SuiteError e = error_of("version: 1\ntests: " + deep + "\n");
  CHECK(e.detail() == "each item of 'tests' must be a map with 'name' and 'command', not a list");
}

TEST_CASE("deep block nesting is refused", "[robustness]") {
  std::string compact = "version: 1\ntests:\n";
  for (int i = 0; i < 200; ++i) compact += "- ";
  compact += "x\n";
  CHECK(error_of(compact).detail() == kNesting);

  std::string indented;
  for (int i = 0; i < 200; ++i) indented += std::string(static_cast<size_t>(i), ' ') + "k:\n";
  const SuiteError e = error_of(indented);
  CHECK(e.detail() == kNesting);
  CHECK(e.line() == 65);
}

TEST_CASE("brackets inside quotes, comments and block scalars do not count", "[robustness]") {
  const std::string many(100, '[');
  const std::string text =
      "version: 1\n"
      "# " +
      many +
      "\n"
      "setup:\n"
      "  - \"echo '" +
      many +
      "'\"\n"
      "  - 'printf \"" +
      many +
      "\"'\n"
      "  - |\n"
      "    cat <<EOF\n"
      "    " +
      many +
      "\n"
      "    EOF\n"
      "  - echo " +
      many +
      "\n"
      "tests: [{name: a, command: b}]\n";
  const Suite suite = parse_suite(text, "s.yaml");
  REQUIRE(suite.setup.size() == 4);
  CHECK(suite.setup[2].script == "cat <<EOF\n" + many + "\nEOF\n");
}

TEST_CASE("an alias bomb (billion laughs) stops at the walk budget", "[robustness]") {
  // Classic shape: each level lists the previous one ten times (10^9 words).
  // yaml-cpp shares aliased nodes, so parsing is cheap; the walk refuses the
  // first nested list instead of expanding it.
  std::string bomb = "version: 1\ntests:\n  - name: a\n    command: &c0 [x, x, x, x, x]\n";
  for (int i = 1; i <= 9; ++i) {
    const std::string prev = "*c" + std::to_string(i - 1);
    bomb += "  - name: a" + std::to_string(i) + "\n    command: x {tests}\n    discover: &c" +
            std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) bomb += (j ? ", " : "") + prev;
    bomb += "]\n";
  }
  CHECK(error_of(bomb).detail() == "each word of 'discover' must be text, not a list");

  // A bomb the schema accepts: one 1 MiB scalar repeated by 64 aliases.
  std::string flat = "version: 1\ntests:\n  - name: a0\n    command: &big \"" +
                     std::string(1024 * 1024, 'x') + "\"\n";
  for (int i = 1; i < 64; ++i) {
    flat += "  - {name: a" + std::to_string(i) + ", command: *big}\n";
  }
  const SuiteError big = error_of(flat);
  CHECK(big.detail() ==
        "the suite is too big (more than 1000000 values or 32 MiB of text, counting each use of an "
        "alias (*name))");

  // Many small nodes repeated: an env map of 1000 keys shared by 2000 tests.
  std::string wide = "version: 1\ntests:\n  - name: t0\n    command: x\n    env: &e {";
  for (int i = 0; i < 1000; ++i) wide += (i ? ", K" : "K") + std::to_string(i) + ": v";
  wide += "}\n";
  for (int i = 1; i < 2000; ++i) {
    wide += "  - {name: t" + std::to_string(i) + ", command: x, env: *e}\n";
  }
  CHECK(error_of(wide).detail().starts_with("the suite is too big (more than 1000000 values"));
}

TEST_CASE("a large suite without aliases stays within the budget", "[robustness]") {
  std::string text = "version: 1\ntests:\n";
  for (int i = 0; i < 10000; ++i) {
    const std::string n = std::to_string(i);
    text += "  - name: t" + n + "\n    command: pytest -q t" + n + ".py --junitxml={junit}\n" +
            "    env: {A: '1', B: '2'}\n";
  }
  const Suite suite = parse_suite(text, "s.yaml");
  REQUIRE(suite.tests.size() == 10000);
  CHECK(suite.tests[9999].name == "t9999");
  CHECK(suite.tests[9999].where.line == 3 + 9999 * 3);
}

TEST_CASE("a self-referencing alias ends in an error", "[robustness]") {
  CHECK(error_of("version: 1\ntests: &t [*t]\n").detail() ==
        "each item of 'tests' must be a map with 'name' and 'command', not a list");
  CHECK(error_of("version: 1\ntests:\n  - &e {name: a, command: *e}\n").detail() ==
        "'command' must be a string or a list of words, not a map");
}

TEST_CASE("files over 4 MiB are refused without reading them whole", "[robustness]") {
  const SuiteError text_error = error_of(std::string(4 * 1024 * 1024 + 1, '#'));
  CHECK(text_error.detail() == "suite file is too large (4194305 bytes; the limit is 4 MiB)");
  CHECK(text_error.line() == 0);

  const fs::path file =
      fs::temp_directory_path() / ("shardrun-big-" + std::to_string(getpid()) + ".yaml");
  { std::ofstream(file) << "version: 1\n"; }
  fs::resize_file(file, 50 * 1024 * 1024);  // sparse: cheap to make
  try {
    load_suite(file);
    FAIL("no error");
  } catch (const SuiteError& e) {
    CHECK(e.detail() == "suite file is too large (52428800 bytes; the limit is 4 MiB)");
  }
  fs::remove(file);
}

TEST_CASE("NUL bytes are refused with their location", "[robustness]") {
  const SuiteError e = error_of(std::string("version: 1\nna\0me: x\n", 20));
  CHECK(e.detail() == "the suite file contains a NUL byte (is it a binary file?)");
  CHECK(e.line() == 2);
  CHECK(e.column() == 3);
}

TEST_CASE("random bytes and mutated suites never crash", "[robustness]") {
  const std::string valid =
      "version: 1\nname: x\nworkers: 2\nenv: {A: '1'}\nsetup: [\"s {run_dir}\"]\n"
      "shard:\n  env: {B: \"{shard}\"}\n  resources:\n    - {type: port, name: P}\n"
      "tests:\n  - name: a\n    command: run {tests} --junitxml={junit}\n"
      "    discover: [list, '{shards}']\n    timeout: 1m\n    retries: 2\n"
      "  - {name: b, command: &c [x, y]}\n  - {name: c, command: *c}\n";
  REQUIRE_NOTHROW(parse_suite(valid, "s.yaml"));
  std::mt19937 rng(12345);
  const std::string alphabet = "[]{}:-,'\"&*!|>#?%@` \n\t\\ab1{}";
  int errors = 0;
  int parsed = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string text;
    if (round % 3 == 0) {
      text.resize(rng() % 512);
      for (char& c : text) c = static_cast<char>(rng() % 255 + 1);
    } else {
      text = valid;
      const int edits = 1 + static_cast<int>(rng() % 8);
      for (int k = 0; k < edits; ++k) {
        const size_t pos = rng() % (text.size() + 1);
        switch (rng() % 3) {
          case 0:
            text.insert(pos, 1, alphabet[rng() % alphabet.size()]);
            break;
          case 1:
            if (pos < text.size()) text.erase(pos, 1 + rng() % 4);
            break;
          default:
            if (pos < text.size()) text[pos] = alphabet[rng() % alphabet.size()];
        }
      }
    }
    try {
      parse_suite(text, "fuzz.yaml");
      ++parsed;
    } catch (const SuiteError& e) {
      ++errors;
      CHECK_FALSE(e.detail().empty());
    }
  }
  // Both outcomes occur, so the loop really exercised the parser.
  CHECK(errors > 1000);
  CHECK(parsed > 0);
}
