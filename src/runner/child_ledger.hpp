#pragma once
// The record a run keeps of its live children, so that the next run can kill
// them if this one dies without cleaning up (SIGKILL, OOM killer, power cut of
// a container): each child runs in a process group of its own and would
// otherwise outlive shardrun.
//
// Layout, in the run directory:
//   children/owner     "pid START_TICKS BOOT_ID RUN_ID": the shardrun process
//                      that owns the children (written once, atomically)
//   children/<pgid>    an empty file per live child's process group
//   children/cleaned   written by the run that cleaned up after a dead owner
// A run that ends normally removes the folder. Only the runner module reads
// or writes it (child_ledger.cpp and leftovers.cpp).

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>

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

/// The writing side, used by the runner's io thread. Failures to write are
/// not fatal: the ledger only helps a later run, and a run must not fail for
/// it; a ledger that could not be created records nothing.
class ChildLedger {
 public:
  /// Creates `<run_dir>/children/` and its owner file; an empty run_dir
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

  bool enabled() const { return !dir_.empty(); }

 private:
  std::filesystem::path dir_;
};

}  // namespace shardrun::runner_detail
