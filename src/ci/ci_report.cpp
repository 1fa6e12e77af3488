// The CI-native output of a run (issue 12): where it goes (the environment
// GitHub Actions sets, --summary-md), and the report's failed testcases as
// the status module renders them, with their files found under the
// workspace. The rendering itself is the status module's (ci_output.hpp).
#include <fmt/format.h>

#include <algorithm>

#include "shardrun/ci_output.hpp"
#include "shardrun/ci_report.hpp"
#include "shardrun/error.hpp"

namespace shardrun {

namespace fs = std::filesystem;

namespace {

// `file` as a test runner wrote it (pytest: relative to its rootdir, which
// is the entry's cwd or a folder above it), found on disk: the first of
// cwd, its parent, ... that holds it. Empty when none does.
fs::path find_test_file(const fs::path& file, const fs::path& cwd) {
  std::error_code ec;
  if (file.is_absolute()) return fs::exists(file, ec) ? file.lexically_normal() : fs::path{};
  for (fs::path dir = cwd; !dir.empty(); dir = dir.parent_path()) {
    const fs::path candidate = (dir / file).lexically_normal();
    if (fs::is_regular_file(candidate, ec)) return candidate;
    if (dir == dir.root_path()) break;
  }
  return {};
}

// A file as GitHub wants it in an annotation: relative to the workspace
// (the repository's checkout). Left as written when it is not found there.
std::string workspace_file(const std::string& file, const fs::path& cwd,
                           const fs::path& workspace) {
  const fs::path found = find_test_file(file, cwd);
  if (found.empty()) return file;
  const fs::path rel = found.lexically_relative(workspace.lexically_normal());
  if (rel.empty() || *rel.begin() == "..") return file;
  return rel.string();
}

}  // namespace

fs::path ci_workspace(const EnvLookup& getenv) {
  for (const char* name : {"GITHUB_WORKSPACE", "CI_PROJECT_DIR"})
    if (auto dir = getenv(name); dir && !dir->empty()) return fs::absolute(*dir);
  std::error_code ec;
  return fs::current_path(ec);
}

std::vector<FailedTest> failed_tests(const std::vector<junit::FailedCase>& cases,
                                     const Suite& suite, const fs::path& workspace) {
  std::vector<FailedTest> tests;
  tests.reserve(cases.size());
  for (const junit::FailedCase& c : cases) {
    FailedTest t;
    t.entry = c.entry;
    t.test = c.classname.empty() ? c.name : c.classname + "." + c.name;
    t.errored = c.outcome == junit::Outcome::kErrored;
    t.message = c.message;
    t.line = c.line;
    if (!c.file.empty()) {
      auto entry = std::find_if(suite.tests.begin(), suite.tests.end(),
                                [&](const Entry& e) { return e.name == c.entry; });
      const fs::path cwd = entry != suite.tests.end() ? entry->cwd : suite.dir;
      t.file = workspace_file(c.file, cwd, workspace);
    }
    tests.push_back(std::move(t));
  }
  return tests;
}

std::vector<std::string> write_ci_output(const RunSummary& summary,
                                         const std::optional<fs::path>& summary_md,
                                         const EnvLookup& getenv, std::FILE* out) {
  std::vector<std::string> warnings;
  // A run that ran nothing and had no problem has nothing to say.
  if (summary.units.empty() && summary.problems.empty() && summary.tests == 0) return warnings;

  std::vector<fs::path> targets;
  if (auto step = getenv("GITHUB_STEP_SUMMARY"); step && !step->empty())
    targets.emplace_back(*step);
  if (summary_md) targets.push_back(*summary_md);
  if (!targets.empty()) {
    MarkdownOptions options;
    options.base = ci_workspace(getenv);
    // --junit as given is relative to the current directory; the summary
    // shows it relative to the workspace.
    RunSummary shown = summary;
    std::error_code ec;
    if (fs::path report = fs::absolute(summary.report, ec); !ec) shown.report = report;
    const std::string markdown = summary_markdown(shown, options);
    for (std::size_t i = 0; i < targets.size(); ++i) {
      std::error_code ec;
      // --summary-md naming the step summary itself: one copy, not two.
      if (i > 0 && fs::equivalent(targets[0], targets[i], ec)) continue;
      try {
        append_text(targets[i], markdown);
      } catch (const Error& e) {
        warnings.push_back(fmt::format("summary not written: {}", e.what()));
      }
    }
  }
  if (getenv("GITHUB_ACTIONS").value_or("") == "true") {
    for (const std::string& line : github_annotations(summary)) fmt::print(out, "{}\n", line);
    std::fflush(out);
  }
  return warnings;
}

}  // namespace shardrun
