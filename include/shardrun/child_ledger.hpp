#pragma once
// The record a run keeps of its live children, so that the next run can kill
// them if this one dies without cleaning up (SIGKILL, OOM killer, power cut of
// a container): each child runs in a process group of its own and would
// otherwise outlive shardrun.
//
// Layout, in the run directory:
//   children/owner     "pid START_TICKS BOOT_ID RUN_ID": the shardrun process
//                      that owns the children (written once, atomically)
//   children/groups    append-only, one line per event: "+PGID" when a
//                      child's process group starts, "-PGID" once it has
//                      been swept. One write(2) each, not a file per group:
//                      creating and unlinking a file per unit was most of
//                      the cost of a short unit on ext4 (scripts/bench/
//                      overhead.sh; ext4's inode allocator rescans recently
//                      deleted inodes).
//   children/cleaned   written by the run that cleaned up after a dead owner
// A run that ends normally removes the folder. Only the runner module reads
// or writes it (child_ledger.cpp and leftovers.cpp); the header is public
// for the runner's tests.

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "shardrun/unique_fd.hpp"

namespace shardrun::runner_detail {

/// Who owns a ledger: enough to tell whether that process still runs, even
/// after its pid was reused or the machine rebooted.
struct LedgerOwner {
  pid_t pid = 0;
  unsigned long long start_ticks = 0;  ///< field 22 of /proc/PID/stat
  std::string boot_id;                 ///< /proc/sys/kernel/random/boot_id
  std::string run_id;                  ///< SHARDRUN_RUN_ID of its children

  std::string to_text() const;
  /// nullopt for anything but to_text()'s output (e.g. a half-written file).
  static std::optional<LedgerOwner> parse(const std::string& text);
};

/// The calling process as the owner of run `run_id`.
LedgerOwner current_owner(const std::string& run_id);

/// Whether the owner process still runs: same boot, same pid, same start.
bool owner_alive(const LedgerOwner& owner);

/// Field 22 of /proc/PID/stat (start time in clock ticks since boot), or
/// nullopt when there is no such process.
std::optional<unsigned long long> process_start_ticks(pid_t pid);

/// The folder of the ledger inside a run directory.
std::filesystem::path ledger_dir(const std::filesystem::path& run_dir);

/// The process groups a ledger folder records as live: every "+PGID" line
/// without a later "-PGID". A line cut short (no newline) is ignored.
std::vector<pid_t> recorded_groups(const std::filesystem::path& ledger_dir);

/// The writing side, used by the runner's io thread. Failures to write are
/// not fatal: the ledger only helps a later run, and a run must not fail for
/// it; a ledger that could not be created records nothing.
class ChildLedger {
 public:
  /// Creates `<run_dir>/children/`, its owner file and the groups file; an empty run_dir
  /// gives a ledger that records nothing.
  ChildLedger(const std::filesystem::path& run_dir, const std::string& run_id);
  /// Removes the folder: every child has been reaped by then.
  ~ChildLedger();
  ChildLedger(const ChildLedger&) = delete;
  ChildLedger& operator=(const ChildLedger&) = delete;

  /// A child's group is alive: record it.
  void add(pid_t pgid);
  /// The group has been swept (killpg SIGKILL after its leader ended).
  void remove(pid_t pgid);

  bool enabled() const { return fd_.get() != -1; }

 private:
  void append(char sign, pid_t pgid);

  std::filesystem::path dir_;
  UniqueFd fd_;  // children/groups, O_APPEND
};

}  // namespace shardrun::runner_detail
