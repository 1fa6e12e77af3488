// The YAML check against the YAML test suite (fixtures/yaml-test-suite/):
// every invalid case is refused, every vendored valid case accepted.
// yaml-cpp alone accepted 34 of these 94 invalid cases (issue 13).

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "shardrun/error.hpp"
#include "shardrun/suite.hpp"
#include "shardrun/yaml_syntax.hpp"

namespace fs = std::filesystem;
using namespace shardrun;

namespace {

std::vector<fs::path> cases(const std::string& kind) {
  const fs::path dir = fs::path(SHARDRUN_SOURCE_DIR) / "fixtures" / "yaml-test-suite" / kind;
  std::vector<fs::path> files;
  for (const auto& item : fs::directory_iterator(dir)) {
    if (item.path().extension() == ".yaml") files.push_back(item.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string read(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

int line_count(const std::string& text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 1;
}

}  // namespace

TEST_CASE("every invalid case of the YAML test suite is refused", "[suite][yaml]") {
  const std::vector<fs::path> files = cases("invalid");
  REQUIRE(files.size() == 94);  // all of them (fixtures/yaml-test-suite/README.md)
  int by_libfyaml = 0;
  std::vector<std::string> by_guard;
  for (const fs::path& file : files) {
    INFO("case: " << file.filename().string());
    const std::string text = read(file);
    try {
      check_yaml_syntax(text, file.filename().string());
      FAIL_CHECK("accepted");
    } catch (const SuiteError& e) {
      CHECK(e.file() == file.filename().string());
      if (e.detail().starts_with("a tab after ':'")) {
        by_guard.push_back(file.stem().string());  // would make libfyaml 0.7.12 free twice
      } else {
        ++by_libfyaml;
        CHECK(e.detail().starts_with("invalid YAML: "));
        CHECK(e.detail().size() > std::string_view("invalid YAML: ").size());
      }
      CHECK(e.line() >= 1);
      CHECK(e.line() <= line_count(text));
      CHECK(e.column() >= 1);
    }
    // The whole loader refuses it too, with a location.
    try {
      parse_suite(text, "case.yaml");
      FAIL_CHECK("parse_suite accepted it");
    } catch (const SuiteError& e) {
      CHECK(e.line() >= 1);
    }
  }
  CHECK(by_libfyaml == 92);
  CHECK(by_guard == std::vector<std::string>{"Y79Y-007", "Y79Y-009"});
}

TEST_CASE("the vendored valid cases of the YAML test suite are accepted", "[suite][yaml]") {
  const std::vector<fs::path> files = cases("valid");
  REQUIRE(files.size() >= 50);
  int accepted = 0;
  for (const fs::path& file : files) {
    INFO("case: " << file.filename().string());
    try {
      check_yaml_syntax(read(file), file.filename().string());
      ++accepted;
    } catch (const SuiteError& e) {
      FAIL_CHECK(e.what());
    }
  }
  CHECK(accepted == static_cast<int>(files.size()));
}
