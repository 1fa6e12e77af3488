#pragma once
// What discover_entries() throws when SIGINT/SIGTERM/SIGHUP arrives while
// discover commands run: the run still writes its report (every entry as not
// run), so the interruption carries what was discovered by then.

#include <utility>
#include <vector>

#include "shardrun/error.hpp"
#include "shardrun/plan.hpp"

namespace shardrun {

class DiscoveryInterrupted : public Error {
 public:
  /// `signal`: the last signal received (the exit status is 128 + it);
  /// `entries`: every entry of the suite, see entries().
  DiscoveryInterrupted(int signal, std::vector<PlanEntry> entries)
      : Error("interrupted during discovery", static_cast<ExitCode>(128 + signal)),
        entries_(std::move(entries)) {}

  /// Every entry of the suite, for the planner: those whose discovery
  /// finished (or came from the cache) with their ids, the others as plain
  /// entries (`discovered` false), so that each becomes one unit to report
  /// as not run. Never to be run: a plain unit of a discovered entry would
  /// run its command with an empty {tests}.
  const std::vector<PlanEntry>& entries() const { return entries_; }

 private:
  std::vector<PlanEntry> entries_;
};

}  // namespace shardrun
