// The record of live children (child_ledger.hpp) and the clean-up after a
// shardrun that died without stopping them (leftovers.hpp), against real
// process groups: what is recorded, what is killed, and above all what is
// never killed (a live run's children, a recycled group id).

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "../temp_dir.hpp"
#include "shardrun/child_ledger.hpp"
#include "shardrun/leftovers.hpp"

namespace shardrun {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using runner_detail::ChildLedger;
using runner_detail::LedgerOwner;
using testing::TempDir;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Live (not zombie) processes whose process group is `pgid`.
std::vector<pid_t> live_members(pid_t pgid) {
  std::vector<pid_t> found;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string stat = read_file(entry.path() / "stat");
    std::size_t paren = stat.rfind(')');
    if (paren == std::string::npos) continue;
    std::istringstream rest(stat.substr(paren + 1));
    char state = '?';
    pid_t ppid = 0, pgrp = 0;
    rest >> state >> ppid >> pgrp;
    if (pgrp == pgid && state != 'Z' && state != 'X') found.push_back(std::stoi(name));
  }
  return found;
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds limit = 5s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

// A process group as a unit leaves it: a shell that started a background
// sleep (its grandchild) and became a sleep itself. Carries `run_id` as
// SHARDRUN_RUN_ID. Killed and reaped when it goes out of scope.
class Group {
 public:
  explicit Group(const std::string& run_id) {
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    std::string id_var = "SHARDRUN_RUN_ID=" + run_id;
    std::string path_var = "PATH=/usr/bin:/bin";
    char* env[] = {path_var.data(), id_var.data(), nullptr};
    char sh[] = "/bin/sh", c[] = "-c", script[] = "sleep 30 & exec sleep 30";
    char* argv[] = {sh, c, script, nullptr};
    REQUIRE(posix_spawn(&pid_, "/bin/sh", nullptr, &attr, argv, env) == 0);
    posix_spawnattr_destroy(&attr);
    REQUIRE(eventually([&] { return live_members(pid_).size() == 2; }));
  }
  ~Group() {
    ::killpg(pid_, SIGKILL);
    reap();
  }
  pid_t pgid() const { return pid_; }

  // The wait status of the group's leader (our child).
  int reap() {
    if (reaped_) return status_;
    while (::waitpid(pid_, &status_, 0) == -1 && errno == EINTR) {
    }
    reaped_ = true;
    return status_;
  }
  bool leader_running() { return !reaped_ && ::waitpid(pid_, &status_, WNOHANG) == 0; }

 private:
  pid_t pid_ = 0;
  int status_ = 0;
  bool reaped_ = false;
};

// A pid that no process has any more: a child that has exited and been reaped.
pid_t dead_pid() {
  pid_t pid = 0;
  char t[] = "/bin/true";
  char* argv[] = {t, nullptr};
  char* env[] = {nullptr};
  REQUIRE(posix_spawn(&pid, "/bin/true", nullptr, nullptr, argv, env) == 0);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  return pid;
}

// Turns the ledger of `run_dir` into one whose owner is `owner`.
void set_owner(const fs::path& run_dir, const LedgerOwner& owner) {
  std::ofstream(runner_detail::ledger_dir(run_dir) / "owner", std::ios::trunc) << owner.to_text();
}

LedgerOwner dead_owner(const std::string& run_id) {
  LedgerOwner owner = runner_detail::current_owner(run_id);
  owner.pid = dead_pid();
  return owner;
}

TEST_CASE("owner lines round-trip; a half-written one is refused") {
  LedgerOwner owner = runner_detail::current_owner("20260101-120000-42");
  CHECK(owner.pid == ::getpid());
  CHECK(owner.start_ticks > 0);
  std::optional<LedgerOwner> back = LedgerOwner::parse(owner.to_text());
  REQUIRE(back);
  CHECK(back->pid == owner.pid);
  CHECK(back->start_ticks == owner.start_ticks);
  CHECK(back->boot_id == owner.boot_id);
  CHECK(back->run_id == owner.run_id);
  std::string text = owner.to_text();
  CHECK_FALSE(LedgerOwner::parse(text.substr(0, text.size() - 1)));  // no final newline
  CHECK_FALSE(LedgerOwner::parse(text.substr(0, text.find(' '))));
  CHECK_FALSE(LedgerOwner::parse("12 34 boot run extra\n"));
}

TEST_CASE("an owner is alive only with the same pid, start time and boot") {
  LedgerOwner me = runner_detail::current_owner("r");
  CHECK(runner_detail::owner_alive(me));
  LedgerOwner reused = me;  // our pid, but a process started at another time
  reused.start_ticks += 1;
  CHECK_FALSE(runner_detail::owner_alive(reused));
  LedgerOwner rebooted = me;
  rebooted.boot_id = "another-boot";
  CHECK_FALSE(runner_detail::owner_alive(rebooted));
  CHECK_FALSE(runner_detail::owner_alive(dead_owner("r")));
}

static bool recorded(const fs::path& ledger, pid_t pgid) {
  std::vector<pid_t> groups = runner_detail::recorded_groups(ledger);
  return std::find(groups.begin(), groups.end(), pgid) != groups.end();
}

TEST_CASE("the ledger's groups file: a group is live from its + line to its - line") {
  TempDir dir;
  const fs::path ledger = dir / "children";
  fs::create_directories(ledger);
  // A reused id comes back; junk and a line cut short by a crash are skipped.
  std::ofstream(ledger / "groups") << "+100\n+200\n-100\n+300\nx12\n+1\n-0\n+200\n+100\n-100\n+400";
  CHECK(runner_detail::recorded_groups(ledger) == std::vector<pid_t>{200, 300});
  CHECK(runner_detail::recorded_groups(dir / "missing").empty());
}

TEST_CASE("the runner records each live child's group and forgets it once swept") {
  TempDir dir;
  const fs::path run_dir = dir / "20260101-120000-1";
  const fs::path ledger = runner_detail::ledger_dir(run_dir);
  fs::create_directories(run_dir);
  {
    auto runner = make_real_command_runner(run_dir, "20260101-120000-1");
    std::optional<LedgerOwner> owner = LedgerOwner::parse(read_file(ledger / "owner"));
    REQUIRE(owner);
    CHECK(owner->pid == ::getpid());
    CHECK(owner->run_id == "20260101-120000-1");

    ProcessSpec spec;
    spec.argv = {"/bin/sh", "-c", "echo $$; exec sleep 30"};
    spec.env = {"PATH=/usr/bin:/bin"};
    spec.log = dir / "log";
    std::uint64_t id = runner->start(spec);
    pid_t pid = 0;
    REQUIRE(eventually([&] {
      std::istringstream(read_file(spec.log)) >> pid;
      return pid > 0;
    }));
    CHECK(recorded(ledger, pid));

    runner->stop(id, true);
    std::optional<Completion> done = runner->wait(10s);
    REQUIRE(done);
    CHECK_FALSE(recorded(ledger, pid));
    CHECK(fs::exists(ledger / "owner"));
  }
  CHECK_FALSE(fs::exists(ledger));  // a run that ends normally leaves nothing to clean
}

TEST_CASE("a dead run's groups are killed, grandchildren included, and the run marked cleaned") {
  TempDir dir;
  const fs::path runs = dir / "runs";
  const fs::path dead_run = runs / "20260101-120000-1";
  Group group("20260101-120000-1");
  ChildLedger ledger(dead_run, "20260101-120000-1");
  ledger.add(group.pgid());
  set_owner(dead_run, dead_owner("20260101-120000-1"));

  LeftoverCleanup cleanup = clean_leftovers(runs, "20260101-130000-2");
  REQUIRE(cleanup.runs.size() == 1);
  CHECK(cleanup.runs[0].run_id == "20260101-120000-1");
  CHECK(cleanup.runs[0].groups == 1);
  CHECK(cleanup.runs[0].processes == 2);
  CHECK(cleanup.message() ==
        "killed 2 processes in 1 process group left running by run 20260101-120000-1, whose "
        "shardrun had died");
  int status = group.reap();
  CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));
  CHECK(live_members(group.pgid()).empty());  // the background sleep too
  const fs::path ledger_folder = runner_detail::ledger_dir(dead_run);
  CHECK(fs::exists(ledger_folder / "cleaned"));
  CHECK_FALSE(recorded(ledger_folder, group.pgid()));

  // Marked: the next run does not look again.
  CHECK(clean_leftovers(runs, "20260101-140000-3").runs.empty());
}

TEST_CASE("a recorded group id now used by another process is never signalled") {
  TempDir dir;
  const fs::path runs = dir / "runs";
  const fs::path dead_run = runs / "20260101-120000-1";
  // The same group id, but its processes belong to something else.
  Group stranger("20991231-235959-9");
  ChildLedger ledger(dead_run, "20260101-120000-1");
  ledger.add(stranger.pgid());
  set_owner(dead_run, dead_owner("20260101-120000-1"));

  LeftoverCleanup cleanup = clean_leftovers(runs, "20260101-130000-2");
  REQUIRE(cleanup.runs.size() == 1);
  CHECK(cleanup.runs[0].groups == 0);
  CHECK(cleanup.processes() == 0);
  CHECK(cleanup.message().empty());
  CHECK(stranger.leader_running());
  CHECK(live_members(stranger.pgid()).size() == 2);
}

TEST_CASE("the children of a run whose shardrun still runs are left alone") {
  TempDir dir;
  const fs::path runs = dir / "runs";
  const fs::path live_run = runs / "20260101-120000-1";
  Group group("20260101-120000-1");
  ChildLedger ledger(live_run, "20260101-120000-1");  // owned by this (live) process
  ledger.add(group.pgid());

  CHECK(clean_leftovers(runs, "20260101-130000-2").runs.empty());
  CHECK(group.leader_running());
  CHECK(recorded(runner_detail::ledger_dir(live_run), group.pgid()));
  CHECK_FALSE(fs::exists(runner_detail::ledger_dir(live_run) / "cleaned"));
}

TEST_CASE("an owner pid reused by another process counts as dead") {
  TempDir dir;
  const fs::path runs = dir / "runs";
  const fs::path run = runs / "20260101-120000-1";
  Group group("20260101-120000-1");
  ChildLedger ledger(run, "20260101-120000-1");
  ledger.add(group.pgid());
  LedgerOwner reused = runner_detail::current_owner("20260101-120000-1");
  reused.start_ticks -= 1;  // this pid, but not the process that wrote the ledger
  set_owner(run, reused);

  LeftoverCleanup cleanup = clean_leftovers(runs, "20260101-130000-2");
  CHECK(cleanup.processes() == 2);
  int status = group.reap();
  CHECK(WIFSIGNALED(status));
}

TEST_CASE("the caller's own run and unreadable owners are skipped") {
  TempDir dir;
  const fs::path runs = dir / "runs";
  Group own("20260101-120000-1");
  ChildLedger own_ledger(runs / "20260101-120000-1", "20260101-120000-1");
  own_ledger.add(own.pgid());
  set_owner(runs / "20260101-120000-1", dead_owner("20260101-120000-1"));

  Group half("20260101-120000-2");
  ChildLedger half_ledger(runs / "20260101-120000-2", "20260101-120000-2");
  half_ledger.add(half.pgid());
  std::string text = dead_owner("20260101-120000-2").to_text();
  std::ofstream(runner_detail::ledger_dir(runs / "20260101-120000-2") / "owner", std::ios::trunc)
      << text.substr(0, text.size() / 2);

  CHECK(clean_leftovers(runs, "20260101-120000-1").runs.empty());
  CHECK(own.leader_running());
  CHECK(half.leader_running());
  CHECK(clean_leftovers(dir / "no-such-folder", "x").runs.empty());
}

}  // namespace
}  // namespace shardrun
