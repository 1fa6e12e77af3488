#pragma once
// The CI-native output's wiring (issue 12): where it goes (the environment
// GitHub Actions sets, --summary-md) and the report's failed testcases with
// their files found under the workspace. The rendering is the status
// module's (ci_output.hpp).

#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "shardrun/junit.hpp"
#include "shardrun/status.hpp"
#include "shardrun/suite.hpp"

namespace shardrun {

/// An environment lookup (std::getenv, or a map in tests).
using EnvLookup = std::function<std::optional<std::string>(const char*)>;

/// The folder CI paths are shown relative to: $GITHUB_WORKSPACE, else
/// $CI_PROJECT_DIR (GitLab), else the current directory.
std::filesystem::path ci_workspace(const EnvLookup& getenv);

/// The report's failed testcases as the CI output shows them: "classname.name",
/// and a file the JUnit names (pytest: relative to its rootdir) found under
/// the entry's cwd or a folder above it, relative to `workspace`; left as
/// written when it is not found there.
std::vector<FailedTest> failed_tests(const std::vector<junit::FailedCase>& cases,
                                     const Suite& suite, const std::filesystem::path& workspace);

/// The CI-native output at the end of a run that ran something: the
/// Markdown summary appended to $GITHUB_STEP_SUMMARY and to `summary_md`,
/// and, when GITHUB_ACTIONS=true, ::error annotations printed to `out`.
/// Returns warnings (a summary that could not be written).
std::vector<std::string> write_ci_output(const RunSummary& summary,
                                         const std::optional<std::filesystem::path>& summary_md,
                                         const EnvLookup& getenv, std::FILE* out);

}  // namespace shardrun
