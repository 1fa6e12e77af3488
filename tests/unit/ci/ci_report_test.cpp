// The CI output's wiring: test files found under the entry's cwd and shown
// relative to the workspace; where the summary goes (GITHUB_STEP_SUMMARY,
// --summary-md) and when annotations are printed (GITHUB_ACTIONS=true).
#include <catch2/catch.hpp>

#include <cstdio>
#include <map>
#include "../temp_dir.hpp"

#include "shardrun/ci_report.hpp"

using namespace shardrun;
namespace fs = std::filesystem;

namespace {

using shardrun::testing::TempDir;

auto env_of(std::map<std::string, std::string> vars) {
  return [vars](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

junit::FailedCase failed_case(const std::string& entry, const std::string& file, long line) {
  junit::FailedCase c;
  c.entry = entry;
  c.classname = "test_a";
  c.name = "test_bad";
  c.message = "assert 1 == 2";
  c.file = file;
  c.line = line;
  return c;
}

// What `out` received, from a tmpfile.
std::string read_all(std::FILE* f) {
  std::rewind(f);
  std::string text;
  for (int c; (c = std::fgetc(f)) != EOF;) text += static_cast<char>(c);
  return text;
}

RunSummary ran_one_failure() {
  RunSummary s;
  s.suite = "demo";
  s.tests = 2;
  s.failures = 1;
  s.exit_code = 1;
  s.shards = 1;
  s.units.resize(1);
  s.units[0].shard = 0;
  FailedTest t;
  t.entry = "api";
  t.test = "test_a.test_bad";
  t.message = "assert 1 == 2";
  t.file = "tests/test_a.py";
  t.line = 10;
  s.failed_tests = {t};
  s.located_failures = 1;
  return s;
}

}  // namespace

TEST_CASE("failed_tests: a file pytest wrote relative to its rootdir becomes workspace-relative") {
  TempDir dir;
  fs::create_directories(dir / "repo/svc/tests");
  dir.write("repo/svc/tests/test_a.py", "");
  Suite suite;
  suite.dir = dir / "repo";
  Entry api;
  api.name = "api";
  api.cwd = dir / "repo/svc/tests";  // rootdir svc/ (its pytest.ini) is above the cwd
  suite.tests.push_back(api);
  const std::vector<FailedTest> tests =
      failed_tests({failed_case("api", "tests/test_a.py", 10), failed_case("api", "gone.py", 3),
                    failed_case("other", "", 0)},
                   suite, dir / "repo");
  REQUIRE(tests.size() == 3);
  CHECK(tests[0].file == "svc/tests/test_a.py");
  CHECK(tests[0].line == 10);
  CHECK(tests[0].test == "test_a.test_bad");
  CHECK(tests[0].entry == "api");
  CHECK(tests[1].file == "gone.py");  // not found: as written
  CHECK(tests[2].file.empty());
}

TEST_CASE("write_ci_output appends to GITHUB_STEP_SUMMARY and --summary-md, once each") {
  TempDir dir;
  const fs::path step = dir.write("step.md", "# earlier step\n");
  std::FILE* out = std::tmpfile();
  REQUIRE(out != nullptr);
  auto env = env_of({{"GITHUB_STEP_SUMMARY", step.string()}});
  CHECK(write_ci_output(ran_one_failure(), dir / "copy.md", env, out).empty());
  const std::string summary = dir.read("step.md");
  CHECK(summary.rfind("# earlier step\n## shardrun: demo — ❌ 1 of 2 tests failed", 0) == 0);
  CHECK(dir.read("copy.md") == summary.substr(std::string("# earlier step\n").size()));
  // --summary-md naming the step summary: appended once, not twice.
  CHECK(write_ci_output(ran_one_failure(), step, env, out).empty());
  const std::string twice = dir.read("step.md");
  CHECK(twice.size() == summary.size() + (summary.size() - std::string("# earlier step\n").size()));
  // Without GITHUB_ACTIONS=true, no annotations.
  CHECK(read_all(out).empty());
  std::fclose(out);
}

TEST_CASE("write_ci_output prints annotations only when GITHUB_ACTIONS=true") {
  std::FILE* out = std::tmpfile();
  REQUIRE(out != nullptr);
  write_ci_output(ran_one_failure(), std::nullopt, env_of({{"GITHUB_ACTIONS", "false"}}), out);
  CHECK(read_all(out).empty());
  write_ci_output(ran_one_failure(), std::nullopt, env_of({{"GITHUB_ACTIONS", "true"}}), out);
  CHECK(read_all(out) ==
        "::error file=tests/test_a.py,line=10,title=test_a.test_bad::assert 1 == 2\n");
  std::fclose(out);
}

TEST_CASE("write_ci_output says nothing for a run that ran nothing, and warns when it cannot") {
  TempDir dir;
  RunSummary empty;
  const fs::path md = dir / "s.md";
  CHECK(write_ci_output(empty, md, env_of({}), stdout).empty());
  CHECK_FALSE(fs::exists(md));
  const std::vector<std::string> warnings =
      write_ci_output(ran_one_failure(), dir / "no" / "s.md", env_of({}), stdout);
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("summary not written: cannot open") == 0);
}
