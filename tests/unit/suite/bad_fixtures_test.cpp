// Every fixtures/bad/*.yaml file fails to load with the error written on
// its first line: "# expect: LINE:COL: MESSAGE".

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "shardrun/error.hpp"
#include "shardrun/suite.hpp"

namespace fs = std::filesystem;
using namespace shardrun;

TEST_CASE("fixtures/bad: each file fails with the error on its first line", "[suite][fixtures]") {
  const fs::path dir = fs::path(SHARDRUN_SOURCE_DIR) / "fixtures" / "bad";
  REQUIRE(fs::is_directory(dir));
  std::vector<fs::path> files;
  for (const auto& item : fs::directory_iterator(dir)) {
    if (item.path().extension() == ".yaml") files.push_back(item.path());
  }
  std::sort(files.begin(), files.end());
  // Guards against the loop passing vacuously (a moved or emptied folder).
  REQUIRE(files.size() >= 20);

  const std::string prefix = "# expect: ";
  for (const fs::path& file : files) {
    INFO("fixture: " << file.filename().string());
    std::ifstream in(file);
    std::string first;
    std::getline(in, first);
    REQUIRE(first.starts_with(prefix));
    const std::string expected = first.substr(prefix.size());
    std::string actual = "no error";
    try {
      load_suite(file);
    } catch (const SuiteError& e) {
      CHECK(e.file() == file.string());
      actual = std::to_string(e.line()) + ":" + std::to_string(e.column()) + ": " + e.detail();
    }
    CHECK(actual == expected);
  }
}

TEST_CASE("configs: every example suite users copy loads", "[suite][fixtures]") {
  const fs::path dir = fs::path(SHARDRUN_SOURCE_DIR) / "configs";
  int count = 0;
  for (const auto& item : fs::directory_iterator(dir)) {
    if (item.path().extension() != ".yaml") continue;
    INFO(item.path().string());
    Suite suite;
    REQUIRE_NOTHROW(suite = load_suite(item.path()));
    CHECK_FALSE(suite.tests.empty());
    ++count;
  }
  CHECK(count >= 5);
}

TEST_CASE("configs/pytest.yaml leads with the fastest mode: files", "[suite][fixtures]") {
  Suite suite = load_suite(fs::path(SHARDRUN_SOURCE_DIR) / "configs" / "pytest.yaml");
  REQUIRE_FALSE(suite.tests.empty());
  CHECK_FALSE(suite.tests.front().files.empty());
  CHECK(suite.tests.front().command.mentions("tests"));
}
