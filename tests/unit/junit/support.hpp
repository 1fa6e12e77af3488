#pragma once
// Helpers for the junit tests: temporary folders, fixtures, and re-parsing a
// committed report with pugixml to check it the way a consumer would.

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include <pugixml.hpp>
#include "../temp_dir.hpp"

#include "shardrun/junit.hpp"

namespace junit_test {

namespace fs = std::filesystem;

inline fs::path fixture(const std::string& name) {
  return fs::path(SHARDRUN_SOURCE_DIR) / "fixtures" / "junit" / name;
}

using shardrun::testing::TempDir;

// Sets TZ for one test and restores it afterwards.
class ScopedTz {
 public:
  explicit ScopedTz(const char* tz) {
    if (const char* old = std::getenv("TZ")) old_ = old;
    ::setenv("TZ", tz, 1);
    ::tzset();
  }
  ~ScopedTz() {
    if (old_.empty()) {
      ::unsetenv("TZ");
    } else {
      ::setenv("TZ", old_.c_str(), 1);
    }
    ::tzset();
  }
  ScopedTz(const ScopedTz&) = delete;
  ScopedTz& operator=(const ScopedTz&) = delete;

 private:
  std::string old_;
};

inline std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

/// A committed report, re-parsed.
struct Report {
  std::string bytes;
  pugi::xml_document doc;
  pugi::xml_node root;  ///< <testsuites>
};

inline std::unique_ptr<Report> load_report(const fs::path& path) {
  auto report = std::make_unique<Report>();
  report->bytes = read_bytes(path);
  const pugi::xml_parse_result parsed =
      report->doc.load_buffer(report->bytes.data(), report->bytes.size(),
                              pugi::parse_default | pugi::parse_ws_pcdata_single);
  INFO(parsed.description() << " at " << parsed.offset);
  REQUIRE(parsed);
  report->root = report->doc.document_element();
  REQUIRE(std::string(report->root.name()) == "testsuites");
  return report;
}

/// All text and CDATA directly inside `node`, concatenated (child_value()
/// returns only the first piece).
inline std::string all_text(pugi::xml_node node) {
  std::string text;
  for (pugi::xml_node child : node.children()) {
    if (child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata)
      text += child.value();
  }
  return text;
}

inline pugi::xml_node suite_named(pugi::xml_node root, const std::string& name) {
  pugi::xml_node suite = root.find_child_by_attribute("testsuite", "name", name.c_str());
  INFO("suite " << name);
  REQUIRE(suite);
  return suite;
}

inline pugi::xml_node case_named(pugi::xml_node suite, const std::string& name) {
  pugi::xml_node testcase = suite.find_child_by_attribute("testcase", "name", name.c_str());
  INFO("testcase " << name);
  REQUIRE(testcase);
  return testcase;
}

inline std::string attr(pugi::xml_node node, const char* name) {
  return node.attribute(name).value();
}

inline std::uint64_t millis(pugi::xml_node node) {
  return static_cast<std::uint64_t>(std::llround(node.attribute("time").as_double() * 1000));
}

/// The first non-blank line of `text`, trimmed.
inline std::string first_line_of(const std::string& text) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    return line.substr(first, line.find_last_not_of(" \t\r") - first + 1);
  }
  return {};
}

/// What every written report must satisfy, checked independently of the
/// writer: flat suites, each suite's and the root's counts equal to what its
/// testcases show (error > failure > skipped), every testcase named and its
/// identity (suite + classname + name) unique, at most one result element
/// per testcase, and each one with a message its body starts with.
inline void check_invariants(const Report& report) {
  std::uint64_t tests = 0, failures = 0, errors = 0, skipped = 0, ms = 0;
  std::set<std::string> identities;
  for (pugi::xml_node suite : report.root.children()) {
    REQUIRE(std::string(suite.name()) == "testsuite");
    REQUIRE_FALSE(suite.child("testsuite"));
    std::uint64_t s_tests = 0, s_failures = 0, s_errors = 0, s_skipped = 0, s_ms = 0;
    for (pugi::xml_node testcase : suite.children("testcase")) {
      ++s_tests;
      s_ms += millis(testcase);
      if (testcase.child("error")) {
        ++s_errors;
      } else if (testcase.child("failure")) {
        ++s_failures;
      } else if (testcase.child("skipped")) {
        ++s_skipped;
      }
      INFO("testcase " << attr(testcase, "classname") << " " << attr(testcase, "name"));
      CHECK_FALSE(attr(testcase, "name").empty());
      CHECK(identities
                .insert(attr(suite, "name") + '\0' + attr(testcase, "classname") + '\0' +
                        attr(testcase, "name"))
                .second);
      int results = 0;
      for (pugi::xml_node child : testcase.children()) {
        const std::string kind = child.name();
        if (kind != "failure" && kind != "error" && kind != "skipped") continue;
        ++results;
        const std::string message = attr(child, "message");
        CHECK_FALSE(message.empty());
        CHECK(first_line_of(all_text(child)).rfind(first_line_of(message), 0) == 0);
      }
      CHECK(results <= 1);
    }
    INFO("suite " << attr(suite, "name"));
    CHECK(suite.attribute("tests").as_ullong() == s_tests);
    CHECK(suite.attribute("failures").as_ullong() == s_failures);
    CHECK(suite.attribute("errors").as_ullong() == s_errors);
    CHECK(suite.attribute("skipped").as_ullong() == s_skipped);
    CHECK(millis(suite) == s_ms);
    tests += s_tests;
    failures += s_failures;
    errors += s_errors;
    skipped += s_skipped;
    ms += s_ms;
  }
  CHECK(report.root.attribute("tests").as_ullong() == tests);
  CHECK(report.root.attribute("failures").as_ullong() == failures);
  CHECK(report.root.attribute("errors").as_ullong() == errors);
  CHECK(report.root.attribute("skipped").as_ullong() == skipped);
  CHECK(millis(report.root) == ms);
}

/// Adds one fixture to a fresh writer, commits, and returns the re-parsed report.
inline std::unique_ptr<Report> merge_fixture(const TempDir& dir, const std::string& name,
                                             const shardrun::junit::SuiteLabel& label = {}) {
  shardrun::junit::ReportWriter writer(dir / "out.xml");
  const shardrun::junit::AddResult added = writer.add_file(fixture(name), label);
  INFO(added.error);
  REQUIRE(added.ok);
  writer.commit();
  auto report = load_report(dir / "out.xml");
  check_invariants(*report);
  return report;
}

}  // namespace junit_test
