#pragma once
// The model (header only, below every module that plans, schedules or
// reports): what a unit is, and what a shard did. The planner makes units,
// the scheduler runs them, the status module reports on them; none of them
// needs the others for that.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace shardrun {

/// Why a unit that the run queued itself exists (a retry, a half of a crash
/// isolation or of a unit too long to start). Planned units have none.
struct UnitOrigin {
  std::string role;     ///< "retry" or "isolation"
  std::string crashed;  ///< isolation: the unit whose crash is being isolated, "api#3"
  std::string how;      ///< and how it ended, "killed by signal 11 (SIGSEGV)"
};

/// One run of one command in one shard (DESIGN §2).
struct Unit {
  /// A unit made during the run has no id until its UnitSource queues it.
  static constexpr std::size_t kNoId = SIZE_MAX;

  std::size_t id = 0;              ///< unique within the run; names its log and JUnit files
  std::size_t entry = 0;           ///< index into Suite::tests
  std::vector<std::string> tests;  ///< test ids; empty for an entry without discover
  double predicted_seconds = 0;
  std::string label;       ///< for people: "api", "api#3"
  int attempt = 0;         ///< 0 for the first run, n for the n-th retry
  std::size_t groups = 0;  ///< how many groups (test files) its tests span
  /// The prediction leans on guesses (defaults, medians) more than on this
  /// entry's history; its error says little about the cost model.
  bool estimated = true;
  std::optional<UnitOrigin> origin;  ///< set for units queued during the run
};

/// Per-shard figures for the summary.
struct ShardReport {
  bool prepared = false;  ///< resources and setup succeeded
  bool problem = false;   ///< setup, teardown or a resource failed
  int units = 0;
  double busy_seconds = 0;  ///< time spent running units
};

}  // namespace shardrun
