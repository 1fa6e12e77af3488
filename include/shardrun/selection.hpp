#pragma once
// Choosing what runs: `shardrun SUITE ENTRY...`, --last-failed (from the
// newest run.json under the runs folder) and `--list`.

#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "shardrun/junit.hpp"
#include "shardrun/plan.hpp"
#include "shardrun/suite.hpp"

namespace shardrun {

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

}  // namespace shardrun
