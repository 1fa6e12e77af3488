#pragma once
// Planning (DESIGN §4), pure: turn entries and their test ids into units
// (batching), order them longest-predicted-first, simulate the dynamic
// queue, and split units across CI nodes. No I/O.

#include <cstddef>
#include <string>
#include <vector>

#include "shardrun/scheduler.hpp"  // Unit
#include "shardrun/timings.hpp"

namespace shardrun {

/// One entry of the suite as the planner sees it.
struct PlanEntry {
  std::size_t entry = 0;  ///< index into Suite::tests
  std::string name;
  bool discovered = false;       ///< has a discover command
  std::vector<std::string> ids;  ///< its test ids (when discovered)
};

struct PlanOptions {
  int shards = 1;
  /// Used when nothing is known about a test or an entry.
  double default_test_seconds = 1.0;
  double default_unit_seconds = 10.0;
  double default_startup_seconds = 0.5;
};

/// Units for all entries, ids batched per entry, ordered longest predicted
/// first, with `Unit::id` 0..n-1 in that order, `predicted_seconds` set
/// (start-up cost included) and labels "name" or "name#k".
std::vector<Unit> make_plan(const std::vector<PlanEntry>& entries, const Timings& timings,
                            const PlanOptions& options);

/// What the dynamic queue would do with these units on `shards` shards if
/// every unit took its predicted time.
struct Simulation {
  std::vector<int> shard;     ///< per unit (same order as the input)
  std::vector<double> start;  ///< per unit, seconds
  double makespan = 0;
  double lower_bound = 0;  ///< max(sum / shards, longest)
  double ratio() const { return lower_bound > 0 ? makespan / lower_bound : 1.0; }
};
Simulation simulate(const std::vector<Unit>& units, int shards);

/// The part of `units` that CI node `index` of `count` runs: deterministic,
/// balanced by predicted time, and the parts of all nodes cover every unit
/// exactly once.
std::vector<Unit> select_node(const std::vector<Unit>& units, int index, int count);

}  // namespace shardrun
