#pragma once
// Planning (DESIGN §4), pure: turn entries and their test ids into units
// of whole groups (test files), predict them with the cost model learned
// from the history, order them longest-predicted-first, simulate the
// dynamic queue, and split units across CI nodes. No I/O.
//
// The cost model of one unit of an entry:
//   start-up of one process
//   + for each group it holds: the group's load cost (import + collection)
//   + for each test id it holds: the test's time.
// Load costs are paid once per unit that holds any test of the group, which
// is why units hold whole groups and a group is split only when it is
// larger than a unit.

#include <cstddef>
#include <limits>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "shardrun/timings.hpp"
#include "shardrun/unit.hpp"

namespace shardrun {

/// One entry of the suite as the planner sees it.
struct PlanEntry {
  std::size_t entry = 0;  ///< index into Suite::tests
  std::string name;
  bool discovered = false;       ///< has test ids (a discover command or `files`)
  std::vector<std::string> ids;  ///< its test ids (when discovered)
  std::string group_pattern;     ///< the entry's `group:` regex; empty: the default rule
  /// What each id adds to the unit's command line, in bytes (same order as
  /// `ids`), and the most a unit may carry so that its command still
  /// starts (Linux: 128 KiB for one `sh -c` argument, about a quarter of
  /// the stack limit for all of argv and the environment). A unit over it
  /// is cut into contiguous parts. Empty / 0: no limit.
  std::vector<std::size_t> id_bytes;
  std::size_t byte_limit = 0;
  /// A prior for ids the history does not know, relative between the ids
  /// (same order as `ids`; empty: all alike): for test files, their size
  /// in bytes. An unknown id is predicted at the unknown-test time times its
  /// weight over the mean weight, so that on a first run the big files,
  /// which hold most tests, start first and no late one decides the run.
  std::vector<double> id_weights;
};

struct PlanOptions {
  int shards = 1;
  /// Used when nothing is known about a test or an entry.
  double default_test_seconds = 1.0;
  double default_unit_seconds = 10.0;
  double default_startup_seconds = 0.5;
  /// A group's load cost when neither it nor any group of its entry is known.
  double default_group_seconds = 0.0;
};

/// The group of a test id: the first capture of `pattern` when it is given
/// and matches, else the part before the first "::" (pytest's file; an id
/// without "::", such as a file printed by `discover` or matched by
/// `files`, is its own group).
std::string group_of(std::string_view id, const std::regex* pattern);

/// Units for all entries, ordered longest predicted first, with `Unit::id`
/// 0..n-1 in that order, `predicted_seconds` set (start-up and group loads
/// included), `groups` counted and labels "name" or "name#k". A unit holds
/// whole groups; a group is split into contiguous pieces only when its
/// predicted time exceeds a unit's capacity.
std::vector<Unit> make_plan(const std::vector<PlanEntry>& entries, const Timings& timings,
                            const PlanOptions& options);

/// What the cost model knows about one entry, for `shardrun plan`.
struct EntryCosts {
  std::string name;
  std::optional<double> startup;       ///< learned start-up of one process
  std::size_t groups = 0;              ///< groups of its current test ids
  std::size_t groups_known = 0;        ///< of them, with a learned load cost
  std::optional<double> group_median;  ///< median learned load cost
  std::size_t tests = 0;
  std::size_t tests_known = 0;
  std::optional<TimingSample> error;  ///< smoothed relative prediction error
};
std::vector<EntryCosts> describe_costs(const std::vector<PlanEntry>& entries,
                                       const Timings& timings);

/// How a finished unit's wall time divides into the cost model's parts:
/// what is left after its tests' times is shared between the process
/// start-up and the loads of the groups it held, in proportion to what the
/// history says of each (defaults when it says nothing). Over runs whose
/// units hold different numbers of groups (the dynamic tail) this settles
/// on the real split. `startup_cap`: the least time any unit of the entry
/// took in the same run after its tests (no process of it can have started
/// up slower); a start-up share above it goes to the groups. Without it a
/// unit of many groups hands most of what pytest spends per test outside
/// the tests' own times to the start-up, which then looks several times its
/// real cost (sympy: 2.0 s learned, 0.3 s measured) and makes every extra
/// unit look too dear to plan.
struct CostSplit {
  double startup = 0;
  std::vector<std::pair<std::string, double>> group_loads;  ///< in the order given
};
CostSplit attribute_unit(const std::string& entry, double wall, double test_seconds,
                         const std::vector<std::string>& groups, const Timings& timings,
                         const PlanOptions& options,
                         double startup_cap = std::numeric_limits<double>::infinity());

/// The relative error of a run's predictions, after taking out what the
/// whole run was faster or slower (which does not change the balance):
/// sum |actual - f * predicted| / sum actual, f = sum actual / sum predicted.
/// Pairs are (predicted, actual); nullopt when there is nothing to measure.
std::optional<double> prediction_error(const std::vector<std::pair<double, double>>& units);

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
