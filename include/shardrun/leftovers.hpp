#pragma once
// Children that outlived a shardrun which was killed with SIGKILL. Each
// command runs in a process group of its own (so that Ctrl-C on the terminal
// reaches only shardrun), so nothing else stops them when shardrun dies
// without cleaning up. The runner records each live child's process group
// in the run directory; the next run that uses the same runs folder kills
// the groups of runs whose shardrun is gone.

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "shardrun/command_runner.hpp"

namespace shardrun {

/// The Boost.Process runner (as make_real_command_runner()) that also keeps
/// `<run_dir>/children/`: who owns the run (pid, start time, boot id,
/// `run_id`) and one file per live child's process group, removed once the
/// group has been swept; the folder goes when the runner is destroyed.
/// `run_id` must be the SHARDRUN_RUN_ID the children are given: the cleaner
/// kills only groups whose processes carry it.
std::unique_ptr<CommandRunner> make_real_command_runner(const std::filesystem::path& run_dir,
                                                        const std::string& run_id);

/// What clean_leftovers() did.
struct LeftoverCleanup {
  struct Run {
    std::string run_id;
    int groups = 0;     ///< process groups killed
    int processes = 0;  ///< processes in them when they were killed
  };
  /// The dead runs whose records were looked at and marked as cleaned,
  /// including those with nothing left alive.
  std::vector<Run> runs;

  int processes() const;
  /// One line for people ("killed 3 processes in 2 process groups left by
  /// run ... whose shardrun was killed"); empty when nothing was killed.
  std::string message() const;
};

/// Looks at every run directory in `runs_dir` but `own_run_id` whose owner
/// process is gone (dead, or its pid reused: the start time differs, or
/// another boot). For each group it recorded that still has a process whose
/// environment holds SHARDRUN_RUN_ID=<that run's id>, sends SIGKILL to the
/// group and waits (up to about a second) until its processes are gone; a
/// group whose id was reused by an unrelated process is never signalled.
/// Then marks the run as cleaned (`children/cleaned`), so the next call
/// skips it. Runs whose owner still runs are left alone. Never throws for
/// what it cannot read: such a run is skipped.
LeftoverCleanup clean_leftovers(const std::filesystem::path& runs_dir,
                                const std::string& own_run_id);

}  // namespace shardrun
