#pragma once
// Pieces of the app layer shared by run_suite.cpp and the plan command.

#include <filesystem>
#include <string>
#include <vector>

#include "shardrun/app.hpp"
#include "shardrun/command_runner.hpp"
#include "shardrun/job_builder.hpp"
#include "shardrun/plan.hpp"
#include "shardrun/suite.hpp"

namespace shardrun::app {

/// Runs every entry's discover command (concurrently) and returns the
/// planner's view of all entries. A failing discover command is a
/// SuiteError (exit 2) that shows its output. Entries with discover_inputs
/// take their ids from `cache_dir` while those inputs are unchanged. An
/// entry with no start-up history gets its discovery time recorded in
/// `timings` (when not null) as a first guess: collecting imports what
/// running imports.
std::vector<PlanEntry> discover_entries(const Suite& suite, const JobBuilder& jobs,
                                        CommandRunner& runner, const InterruptSource& interrupts,
                                        const std::string& shown_file,
                                        const std::filesystem::path& cache_dir, Timings* timings);

/// --plan-out / --plan-in: the units of a run as JSON.
void write_plan_file(const std::filesystem::path& path, const Suite& suite,
                     const std::vector<Unit>& units);
std::vector<Unit> read_plan_file(const std::filesystem::path& path, const Suite& suite);

/// The plan as people (or, with `json`, tools) read it.
std::string format_plan(const Suite& suite, const std::vector<Unit>& units, int shards, bool json);

}  // namespace shardrun::app
