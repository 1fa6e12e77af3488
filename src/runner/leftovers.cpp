// Cleaning up after a shardrun that died without stopping its children: the
// reading side of child_ledger.hpp.
//
// The one thing this must never do is kill an unrelated process. A recorded
// process group id can have been reused since the dead run wrote it, so a
// group is signalled only while one of its live members carries the dead
// run's SHARDRUN_RUN_ID in its environment. A group id is reused only once
// the group has no member left, so a group that still has such a member
// right before killpg() is the recorded one. The member's start time is read
// before and after its environment, so the environment read is known to be
// that process's and not a successor's under the same pid.

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "shardrun/child_ledger.hpp"
#include "shardrun/file_text.hpp"
#include "shardrun/leftovers.hpp"

namespace shardrun {

namespace fs = std::filesystem;
using runner_detail::LedgerOwner;

namespace {

std::optional<pid_t> parse_pid(const std::string& name) {
  if (name.empty() || name.size() > 9 || name.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  pid_t pid = static_cast<pid_t>(std::stol(name));
  if (pid <= 1) return std::nullopt;  // never init, never "every process" (-1) or "my group" (0)
  return pid;
}

struct ProcStat {
  char state = '?';
  pid_t pgrp = 0;
  unsigned long long start_ticks = 0;
  bool alive() const { return state != 'Z' && state != 'X'; }
};

std::optional<ProcStat> read_stat(pid_t pid) {
  std::string text = read_file_or_empty(fs::path("/proc") / std::to_string(pid) / "stat");
  std::size_t paren = text.rfind(')');
  if (paren == std::string::npos) return std::nullopt;
  // Fields from 3: state, ppid, pgrp, ..., starttime is field 22.
  std::istringstream rest(text.substr(paren + 1));
  ProcStat stat;
  pid_t ppid = 0;
  if (!(rest >> stat.state >> ppid >> stat.pgrp)) return std::nullopt;
  std::string skipped;
  for (int field = 6; field < 22; ++field)
    if (!(rest >> skipped)) return std::nullopt;
  if (!(rest >> stat.start_ticks)) return std::nullopt;
  return stat;
}

// Process group -> its live members, from one pass over /proc.
using GroupMap = std::map<pid_t, std::vector<pid_t>>;

GroupMap scan_groups() {
  GroupMap groups;
  std::error_code ec;
  for (fs::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
    std::optional<pid_t> pid = parse_pid(it->path().filename().string());
    if (!pid) continue;
    std::optional<ProcStat> stat = read_stat(*pid);
    if (stat && stat->alive()) groups[stat->pgrp].push_back(*pid);
  }
  return groups;
}

// Whether the process's initial environment has exactly `entry` (NAME=VALUE).
// Unreadable (another user's process, or gone): no.
bool environment_has(pid_t pid, const std::string& entry) {
  std::string environ = read_file_or_empty(fs::path("/proc") / std::to_string(pid) / "environ");
  std::string needle = std::string(1, '\0') + entry + '\0';
  return (std::string(1, '\0') + environ).find(needle) != std::string::npos;
}

// A live member of `pgid` whose environment names `run_id`, checked as the
// file comment says; nullopt when the group has none.
std::optional<pid_t> member_of_run(pid_t pgid, const std::vector<pid_t>& members,
                                   const std::string& run_id) {
  const std::string entry = "SHARDRUN_RUN_ID=" + run_id;
  for (pid_t pid : members) {
    std::optional<ProcStat> before = read_stat(pid);
    if (!before || !before->alive() || before->pgrp != pgid) continue;
    if (!environment_has(pid, entry)) continue;
    std::optional<ProcStat> after = read_stat(pid);
    if (after && after->alive() && after->pgrp == pgid && after->start_ticks == before->start_ticks)
      return pid;
  }
  return std::nullopt;
}

// Waits until none of `members` runs any more (a zombie counts as gone: the
// dead run's children were re-parented, and reaping is their new parent's
// business).
void wait_until_gone(const std::vector<pid_t>& members, std::chrono::milliseconds limit) {
  std::map<pid_t, unsigned long long> started;
  for (pid_t pid : members)
    if (std::optional<ProcStat> stat = read_stat(pid)) started[pid] = stat->start_ticks;
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (true) {
    bool any = false;
    for (const auto& [pid, ticks] : started) {
      std::optional<ProcStat> stat = read_stat(pid);
      if (stat && stat->alive() && stat->start_ticks == ticks) any = true;
    }
    if (!any || std::chrono::steady_clock::now() > deadline) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void mark_cleaned(const fs::path& ledger, const LeftoverCleanup::Run& run,
                  const std::string& own_run_id) {
  std::error_code ec;
  {
    std::ofstream out(ledger / "cleaned", std::ios::trunc);
    out << fmt::format("cleaned by run {}: {} process group(s), {} process(es) killed\n",
                       own_run_id, run.groups, run.processes);
  }
  fs::remove(ledger / "groups", ec);
}

}  // namespace

int LeftoverCleanup::processes() const {
  int total = 0;
  for (const Run& run : runs) total += run.processes;
  return total;
}

std::string LeftoverCleanup::message() const {
  int processes = 0;
  int groups = 0;
  std::string ids;
  int killing_runs = 0;
  for (const Run& run : runs) {
    if (run.processes == 0) continue;
    processes += run.processes;
    groups += run.groups;
    ids += (ids.empty() ? "" : ", ") + run.run_id;
    ++killing_runs;
  }
  if (processes == 0) return "";
  return fmt::format(
      "killed {} process{} in {} process group{} left running by run{} {}, whose "
      "shardrun had died",
      processes, processes == 1 ? "" : "es", groups, groups == 1 ? "" : "s",
      killing_runs == 1 ? "" : "s", ids);
}

LeftoverCleanup clean_leftovers(const fs::path& runs_dir, const std::string& own_run_id) {
  LeftoverCleanup result;
  std::optional<GroupMap> groups;  // scanned once, when first needed
  std::error_code ec;
  for (fs::directory_iterator it(runs_dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code entry_ec;
    if (!it->is_directory(entry_ec) || it->path().filename() == own_run_id) continue;
    const fs::path ledger = runner_detail::ledger_dir(it->path());
    if (!fs::exists(ledger / "owner", entry_ec) || fs::exists(ledger / "cleaned", entry_ec))
      continue;
    std::optional<LedgerOwner> owner = LedgerOwner::parse(read_file_or_empty(ledger / "owner"));
    if (!owner || runner_detail::owner_alive(*owner)) continue;

    LeftoverCleanup::Run run;
    run.run_id = owner->run_id;
    std::vector<pid_t> recorded = runner_detail::recorded_groups(ledger);
    if (!recorded.empty() && !groups) groups = scan_groups();
    for (pid_t pgid : recorded) {
      auto members = groups->find(pgid);
      if (members == groups->end()) continue;
      if (!member_of_run(pgid, members->second, owner->run_id)) continue;
      if (::killpg(pgid, SIGKILL) != 0) continue;
      ++run.groups;
      run.processes += static_cast<int>(members->second.size());
      wait_until_gone(members->second, std::chrono::seconds(1));
    }
    mark_cleaned(ledger, run, own_run_id);
    result.runs.push_back(std::move(run));
  }
  return result;
}

}  // namespace shardrun
