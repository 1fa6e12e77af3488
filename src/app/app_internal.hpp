#pragma once
// Pieces of the app layer shared by run_suite.cpp and the plan command.

#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "shardrun/app.hpp"
#include "shardrun/command_runner.hpp"
#include "shardrun/job_builder.hpp"
#include "shardrun/junit.hpp"
#include "shardrun/plan.hpp"
#include "shardrun/status.hpp"
#include "shardrun/suite.hpp"

namespace shardrun::app {

/// Whether a folder name is a run id ("20261125-181655-14662": a sortable
/// time stamp, then the pid): the runs folder may hold other files.
bool is_run_id(const std::string& name);

/// `shardrun SUITE ENTRY...`: keeps only the named entries of the suite,
/// in the suite's order. Throws UsageError (exit 2) naming an entry the
/// suite does not have, with the names it has.
void select_entries(Suite& suite, const std::vector<std::string>& names);

/// --last-failed: the failed and errored testcases of the newest run
/// recorded under `runs_dir` (its run.json), per entry name. nullopt when
/// there is no readable earlier run.
struct LastFailed {
  std::string run_id;
  std::map<std::string, std::vector<junit::CaseSummary>> by_entry;
};
std::optional<LastFailed> read_last_failed(const std::filesystem::path& runs_dir);

/// Keeps only what failed last time: an entry none of whose testcases
/// failed is dropped; a discovered entry keeps the ids its failed testcases
/// map back to (its framework's id_of_cases, frameworks.hpp: node ids, or
/// the test files that hold them); an entry without ids runs whole. Returns
/// how many ids and whole entries are left.
std::size_t keep_last_failed(const Suite& suite, std::vector<PlanEntry>& entries,
                             const LastFailed& last);

/// `--list`: each entry, and the test ids of those that have them.
std::string format_list(const Suite& suite, const std::vector<PlanEntry>& entries);

/// --plan-out / --plan-in: the units of a run as JSON.
void write_plan_file(const std::filesystem::path& path, const Suite& suite,
                     const std::vector<Unit>& units);
std::vector<Unit> read_plan_file(const std::filesystem::path& path, const Suite& suite);

/// The plan as people (or, with `json`, tools) read it.
/// `costs` (from describe_costs) adds what the cost model knows per entry.
std::string format_plan(const Suite& suite, const std::vector<Unit>& units, int shards, bool json,
                        const std::vector<EntryCosts>& costs = {});

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

}  // namespace shardrun::app
