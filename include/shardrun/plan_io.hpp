#pragma once
// A run's plan outside the process: --plan-out / --plan-in files (JSON,
// written atomically) and the plan printed for people or tools.

#include <filesystem>
#include <string>
#include <vector>

#include "shardrun/plan.hpp"
#include "shardrun/suite.hpp"
#include "shardrun/unit.hpp"

namespace shardrun {

/// --plan-out / --plan-in: the units of a run as JSON.
void write_plan_file(const std::filesystem::path& path, const Suite& suite,
                     const std::vector<Unit>& units);
std::vector<Unit> read_plan_file(const std::filesystem::path& path, const Suite& suite);

/// The plan as people (or, with `json`, tools) read it.
/// `costs` (from describe_costs) adds what the cost model knows per entry.
std::string format_plan(const Suite& suite, const std::vector<Unit>& units, int shards, bool json,
                        const std::vector<EntryCosts>& costs = {});

}  // namespace shardrun
