// The real runner against real processes: exit statuses, logs, environment,
// working directory, process groups, descriptors, timeouts, interrupts, and
// that nothing is left behind (no zombies, no stragglers).

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "shardrun/command_runner.hpp"

namespace shardrun {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "shardrun-runner-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path_ = fs::canonical(pattern);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_file(const fs::path& path, const std::string& text, fs::perms perms) {
  std::ofstream(path, std::ios::binary) << text;
  fs::permissions(path, perms);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

ProcessSpec shell(const TempDir& dir, const std::string& script, const std::string& log = "log") {
  ProcessSpec spec;
  spec.argv = {"/bin/sh", "-c", script};
  spec.env = {"PATH=/usr/bin:/bin", "LC_ALL=C"};
  spec.cwd = dir.path();
  spec.log = dir.path() / log;
  return spec;
}

Completion wait_one(CommandRunner& runner, Millis limit = 10s) {
  std::optional<Completion> completion = runner.wait(limit);
  REQUIRE(completion.has_value());
  return *completion;
}

Completion run(const ProcessSpec& spec) {
  auto runner = make_real_command_runner();
  std::uint64_t id = runner->start(spec);
  Completion completion = wait_one(*runner);
  CHECK(completion.id == id);
  CHECK(runner->running() == 0);
  return completion;
}

bool eventually(const std::function<bool()>& condition, Millis limit) {
  auto deadline = Clock::now() + limit;
  while (!condition()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

// The first line of the log as a number, once the child has written it.
pid_t pid_from_log(const fs::path& log) {
  pid_t pid = 0;
  eventually(
      [&] {
        std::vector<std::string> lines = lines_of(read_file(log));
        if (!lines.empty()) pid = std::stoi(lines[0]);
        return pid > 0;
      },
      5s);
  REQUIRE(pid > 0);
  return pid;
}

void wait_for_text(const fs::path& log, const std::string& text) {
  REQUIRE(eventually([&] { return read_file(log).find(text) != std::string::npos; }, 5s));
}

struct ProcStat {
  pid_t pid = 0;
  char state = '?';
  pid_t ppid = 0;
  pid_t pgrp = 0;
};

// Every process in /proc, parsed from /proc/PID/stat ("pid (comm) S ppid pgrp").
std::vector<ProcStat> all_processes() {
  std::vector<ProcStat> result;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string text = read_file(entry.path() / "stat");
    std::size_t paren = text.rfind(')');
    if (paren == std::string::npos) continue;
    ProcStat stat;
    stat.pid = std::stoi(name);
    std::istringstream rest(text.substr(paren + 1));
    rest >> stat.state >> stat.ppid >> stat.pgrp;
    result.push_back(stat);
  }
  return result;
}

std::vector<pid_t> zombie_children() {
  std::vector<pid_t> zombies;
  for (const ProcStat& p : all_processes()) {
    if (p.ppid == ::getpid() && p.state == 'Z') zombies.push_back(p.pid);
  }
  return zombies;
}

bool group_has_live_members(pid_t pgid) {
  std::vector<ProcStat> processes = all_processes();
  return std::any_of(processes.begin(), processes.end(),
                     [&](const ProcStat& p) { return p.pgrp == pgid && p.state != 'Z'; });
}

bool dead_or_zombie(pid_t pid) {
  std::string text = read_file(fs::path("/proc") / std::to_string(pid) / "stat");
  std::size_t paren = text.rfind(')');
  return paren == std::string::npos || text.compare(paren, 4, ") Z ") == 0;
}

double seconds_between(TimePoint from, TimePoint to) {
  return std::chrono::duration<double>(to - from).count();
}

TEST_CASE("runner: exit codes", "[runner]") {
  TempDir dir;
  Completion ok = run(shell(dir, "exit 0"));
  CHECK(ok.status.kind == ExitStatus::Kind::kExited);
  CHECK(ok.status.code == 0);
  CHECK(ok.status.success());
  CHECK(ok.started <= ok.ended);

  Completion three = run(shell(dir, "exit 3"));
  CHECK(three.status.kind == ExitStatus::Kind::kExited);
  CHECK(three.status.code == 3);
  CHECK(three.status.describe() == "exit status 3");
  CHECK_FALSE(three.status.timed_out);
  CHECK_FALSE(three.status.interrupted);
}

TEST_CASE("runner: signal deaths are told apart from exit codes", "[runner]") {
  TempDir dir;
  Completion segv = run(shell(dir, "kill -SEGV $$"));
  CHECK(segv.status.kind == ExitStatus::Kind::kSignaled);
  CHECK(segv.status.signal == SIGSEGV);
  CHECK(segv.status.describe() == "killed by signal 11 (SIGSEGV)");
  CHECK(segv.status.shell_code() == 139);

  Completion exit9 = run(shell(dir, "exit 9"));
  CHECK(exit9.status.kind == ExitStatus::Kind::kExited);
  CHECK(exit9.status.code == 9);

  Completion kill9 = run(shell(dir, "kill -KILL $$"));
  CHECK(kill9.status.kind == ExitStatus::Kind::kSignaled);
  CHECK(kill9.status.signal == SIGKILL);
}

TEST_CASE("runner: the log gets stdout and stderr and is truncated first", "[runner]") {
  TempDir dir;
  ProcessSpec spec = shell(dir, "echo out; echo err >&2; echo out2");
  write_file(spec.log, std::string(5000, 'X') + "\n", fs::perms(0644));
  Completion done = run(spec);
  CHECK(done.status.success());
  CHECK(read_file(spec.log) == "out\nerr\nout2\n");
}

TEST_CASE("runner: the environment is exactly spec.env", "[runner]") {
  TempDir dir;
  ::setenv("SHARDRUN_TEST_PARENT_ONLY", "must-not-leak", 1);
  ProcessSpec spec;
  spec.argv = {"env"};
  spec.env = {"PATH=/usr/bin:/bin", "SHARDRUN_A=1", "WITH_SPACE=two words", "EMPTY="};
  spec.cwd = dir.path();
  spec.log = dir.path() / "log";
  Completion done = run(spec);
  ::unsetenv("SHARDRUN_TEST_PARENT_ONLY");
  REQUIRE(done.status.success());
  std::vector<std::string> got = lines_of(read_file(spec.log));
  std::sort(got.begin(), got.end());
  std::vector<std::string> want = spec.env;
  std::sort(want.begin(), want.end());
  CHECK(got == want);
}

TEST_CASE("runner: cwd is honoured, also for a relative program path", "[runner]") {
  TempDir dir;
  fs::create_directory(dir.path() / "sub");
  write_file(dir.path() / "sub" / "where.sh", "#!/bin/sh\npwd -P\n", fs::perms(0755));
  ProcessSpec spec = shell(dir, "");
  spec.argv = {"./where.sh"};
  spec.cwd = dir.path() / "sub";
  Completion done = run(spec);
  REQUIRE(done.status.success());
  CHECK(read_file(spec.log) == (dir.path() / "sub").string() + "\n");
}

TEST_CASE("runner: a bad cwd is a spawn failure", "[runner]") {
  TempDir dir;
  ProcessSpec spec = shell(dir, "echo should-not-run");
  spec.cwd = dir.path() / "missing";
  Completion done = run(spec);
  CHECK(done.status.kind == ExitStatus::Kind::kSpawnFailed);
  std::string expected =
      "cannot change directory to '" + spec.cwd.string() + "': No such file or directory";
  CHECK(done.status.error == expected);
  CHECK(done.status.shell_code() == 127);
  CHECK(read_file(spec.log) == "shardrun: " + expected + "\n");
  CHECK(zombie_children().empty());
}

TEST_CASE("runner: programs that cannot be run are spawn failures", "[runner]") {
  TempDir dir;
  ProcessSpec spec = shell(dir, "");

  spec.argv = {"nosuchprog-shardrun"};
  Completion bare = run(spec);
  CHECK(bare.status.kind == ExitStatus::Kind::kSpawnFailed);
  CHECK(bare.status.error == "cannot run 'nosuchprog-shardrun': No such file or directory");
  CHECK(read_file(spec.log) ==
        "shardrun: cannot run 'nosuchprog-shardrun': No such file or directory\n");
  CHECK(bare.status.describe() ==
        "could not start: cannot run 'nosuchprog-shardrun': No such file or directory");

  // These reach execve, so the failure comes back through Boost's pipe.
  spec.argv = {"/nonexistent/prog"};
  Completion absolute = run(spec);
  CHECK(absolute.status.kind == ExitStatus::Kind::kSpawnFailed);
  CHECK(absolute.status.error == "cannot run '/nonexistent/prog': No such file or directory");

  write_file(dir.path() / "data.txt", "not a program\n", fs::perms(0644));
  spec.argv = {"./data.txt"};
  Completion not_executable = run(spec);
  CHECK(not_executable.status.kind == ExitStatus::Kind::kSpawnFailed);
  CHECK(not_executable.status.error == "cannot run './data.txt': Permission denied");

  spec.argv = {};
  Completion empty = run(spec);
  CHECK(empty.status.kind == ExitStatus::Kind::kSpawnFailed);
  CHECK(empty.status.error == "empty command");

  CHECK(zombie_children().empty());
}

TEST_CASE("runner: a log that cannot be opened is a spawn failure", "[runner]") {
  TempDir dir;
  ProcessSpec spec = shell(dir, "true");
  spec.log = dir.path() / "no-such-dir" / "log";
  Completion done = run(spec);
  CHECK(done.status.kind == ExitStatus::Kind::kSpawnFailed);
  CHECK(done.status.error ==
        "cannot open log file '" + spec.log.string() + "': No such file or directory");
}

TEST_CASE("runner: a bare name is looked up in spec.env's PATH", "[runner]") {
  TempDir dir;
  fs::create_directory(dir.path() / "bin");
  write_file(dir.path() / "bin" / "shardrun-hello", "#!/bin/sh\necho hello from bin\n",
             fs::perms(0755));
  ProcessSpec spec = shell(dir, "");
  spec.argv = {"shardrun-hello"};
  // The first entry: Boost 1.74's own lookup would skip it.
  spec.env = {"PATH=" + (dir.path() / "bin").string() + ":/usr/bin:/bin"};
  Completion done = run(spec);
  REQUIRE(done.status.success());
  CHECK(read_file(spec.log) == "hello from bin\n");

  // Without PATH in spec.env, the parent's PATH is used for the lookup.
  spec.argv = {"true"};
  spec.env = {"HOME=/"};
  CHECK(run(spec).status.success());
}

TEST_CASE("runner: stdin is /dev/null", "[runner]") {
  TempDir dir;
  ProcessSpec spec = shell(dir, "readlink /proc/$$/fd/0; cat; echo cat-done");
  spec.timeout = 5000ms;
  Completion done = run(spec);
  CHECK(done.status.success());
  CHECK_FALSE(done.status.timed_out);
  CHECK(read_file(spec.log) == "/dev/null\ncat-done\n");
}

TEST_CASE("runner: each child leads its own process group", "[runner]") {
  TempDir dir;
  ProcessSpec spec = shell(dir, "echo $$; ps -o pgid= $$");
  Completion done = run(spec);
  REQUIRE(done.status.success());
  std::vector<std::string> lines = lines_of(read_file(spec.log));
  REQUIRE(lines.size() == 2);
  int pid = std::stoi(lines[0]);
  int pgid = std::stoi(lines[1]);
  CHECK(pgid == pid);
  CHECK(pgid != ::getpgrp());
}

TEST_CASE("runner: children inherit no descriptors beyond 0, 1 and 2", "[runner]") {
  TempDir dir;
  // A descriptor the parent leaks on purpose (no O_CLOEXEC).
  int leak = ::open("/dev/null", O_RDONLY);
  REQUIRE(leak > 2);

  auto runner = make_real_command_runner();
  runner->start(shell(dir, "sleep 0.5", "first"));
  ProcessSpec second = shell(dir, "");
  second.argv = {"ls", "-1", "/proc/self/fd"};
  second.log = dir.path() / "second";
  runner->start(second);
  std::vector<Completion> done = {wait_one(*runner), wait_one(*runner)};
  ::close(leak);

  for (const Completion& c : done) CHECK(c.status.success());
  // 3 is the directory ls itself opened to list /proc/self/fd.
  CHECK(lines_of(read_file(second.log)) == std::vector<std::string>{"0", "1", "2", "3"});
}

TEST_CASE("runner: a timeout stops the whole process group", "[runner]") {
  TempDir dir;
  ProcessSpec spec = shell(dir, "echo $$; sleep 100 & sleep 100 & wait");
  spec.timeout = 300ms;
  spec.kill_grace = 300ms;
  auto runner = make_real_command_runner();
  TimePoint before = Clock::now();
  runner->start(spec);
  Completion done = wait_one(*runner, 5s);
  CHECK(seconds_between(before, Clock::now()) < 2.0);
  CHECK(done.status.timed_out);
  CHECK_FALSE(done.status.interrupted);
  CHECK(done.status.kind == ExitStatus::Kind::kSignaled);
  CHECK(done.status.signal == SIGTERM);
  CHECK(done.status.describe() == "timed out (killed by signal 15 (SIGTERM))");
  CHECK_FALSE(done.status.success());

  pid_t pgid = pid_from_log(spec.log);
  CHECK(eventually([&] { return !group_has_live_members(pgid); }, 1000ms));
  // The orphaned sleeps are reaped by PID 1, which on some machines (this
  // project's among them) does so only every few seconds.
  CHECK(eventually([&] { return ::kill(-pgid, 0) == -1 && errno == ESRCH; }, 10s));
}

TEST_CASE("runner: a child that ignores SIGTERM is killed after the grace", "[runner]") {
  TempDir dir;
  ProcessSpec spec = shell(dir, "trap '' TERM; echo ready; sleep 100");
  spec.timeout = 300ms;
  spec.kill_grace = 400ms;
  auto runner = make_real_command_runner();
  runner->start(spec);
  Completion done = wait_one(*runner, 5s);
  CHECK(done.status.timed_out);
  CHECK(done.status.kind == ExitStatus::Kind::kSignaled);
  CHECK(done.status.signal == SIGKILL);
  // Not before the timeout and the grace have both passed.
  CHECK(seconds_between(done.started, done.ended) >= 0.65);
  CHECK(seconds_between(done.started, done.ended) < 3.0);
  CHECK(read_file(spec.log) == "ready\n");
}

TEST_CASE("runner: stop_all(false) sends SIGTERM and marks interrupted", "[runner]") {
  TempDir dir;
  ProcessSpec spec = shell(dir, "echo ready; exec sleep 100");
  spec.kill_grace = 10000ms;
  auto runner = make_real_command_runner();
  runner->start(spec);
  wait_for_text(spec.log, "ready");
  TimePoint before = Clock::now();
  runner->stop_all(false);
  Completion done = wait_one(*runner, 5s);
  CHECK(seconds_between(before, Clock::now()) < 3.0);  // well inside the grace
  CHECK(done.status.kind == ExitStatus::Kind::kSignaled);
  CHECK(done.status.signal == SIGTERM);
  CHECK(done.status.interrupted);
  CHECK_FALSE(done.status.timed_out);
  CHECK(done.status.describe() == "interrupted (killed by signal 15 (SIGTERM))");
}

TEST_CASE("runner: stop_all(true) kills at once, also after a stop_all(false)", "[runner]") {
  TempDir dir;
  ProcessSpec spec = shell(dir, "trap '' TERM; echo ready; sleep 100");
  spec.kill_grace = 100000ms;
  auto runner = make_real_command_runner();

  SECTION("directly") {
    runner->start(spec);
    wait_for_text(spec.log, "ready");
    runner->stop_all(true);
  }
  SECTION("escalating a running grace period") {
    runner->start(spec);
    wait_for_text(spec.log, "ready");
    runner->stop_all(false);
    CHECK_FALSE(runner->wait(300ms).has_value());  // SIGTERM is ignored
    CHECK(runner->running() == 1);
    runner->stop_all(true);
  }
  Completion done = wait_one(*runner, 5s);
  CHECK(done.status.kind == ExitStatus::Kind::kSignaled);
  CHECK(done.status.signal == SIGKILL);
  CHECK(done.status.interrupted);
  CHECK(runner->running() == 0);
}

TEST_CASE("runner: stop(id) stops only that child", "[runner]") {
  TempDir dir;
  auto runner = make_real_command_runner();
  ProcessSpec first = shell(dir, "echo ready; exec sleep 100", "first");
  ProcessSpec second = shell(dir, "echo ready; exec sleep 100", "second");
  std::uint64_t id1 = runner->start(first);
  std::uint64_t id2 = runner->start(second);
  wait_for_text(first.log, "ready");
  wait_for_text(second.log, "ready");

  runner->stop(id1, false);
  runner->stop(12345, true);  // unknown: ignored
  Completion done1 = wait_one(*runner, 5s);
  CHECK(done1.id == id1);
  CHECK(done1.status.signal == SIGTERM);
  CHECK(done1.status.interrupted);
  CHECK_FALSE(runner->wait(200ms).has_value());
  CHECK(runner->running() == 1);

  runner->stop(id2, true);
  Completion done2 = wait_one(*runner, 5s);
  CHECK(done2.id == id2);
  CHECK(done2.status.signal == SIGKILL);
  runner->stop(id2, true);  // already ended: ignored
  CHECK_FALSE(runner->wait(50ms).has_value());
}

TEST_CASE("runner: processes left behind by a finished command are killed", "[runner]") {
  TempDir dir;
  ProcessSpec spec = shell(dir, "sleep 100 & echo $!");
  Completion done = run(spec);
  CHECK(done.status.success());
  pid_t straggler = pid_from_log(spec.log);
  CHECK(eventually([&] { return dead_or_zombie(straggler); }, 2000ms));
}

TEST_CASE("runner: 50 concurrent children all complete, none left a zombie", "[runner]") {
  TempDir dir;
  auto runner = make_real_command_runner();
  std::set<std::uint64_t> started;
  for (int i = 0; i < 50; ++i) {
    ProcessSpec spec = shell(dir, "", "log" + std::to_string(i));
    spec.argv = {"true"};
    started.insert(runner->start(spec));
  }
  CHECK(started.size() == 50);
  CHECK(runner->running() == 50);
  std::set<std::uint64_t> finished;
  for (int i = 0; i < 50; ++i) {
    Completion done = wait_one(*runner);
    CHECK(done.status.kind == ExitStatus::Kind::kExited);
    CHECK(done.status.code == 0);
    finished.insert(done.id);
  }
  CHECK(finished == started);
  CHECK(runner->running() == 0);
  CHECK(zombie_children().empty());
}

TEST_CASE("runner: wait() gives up after max_wait and returns promptly otherwise", "[runner]") {
  TempDir dir;
  auto runner = make_real_command_runner();
  TimePoint before = Clock::now();
  CHECK_FALSE(runner->wait(150ms).has_value());
  double waited = seconds_between(before, Clock::now());
  CHECK(waited >= 0.14);
  CHECK(waited < 2.0);
  CHECK(runner->running() == 0);

  // A long max_wait is not waited out when a child ends.
  runner->start(shell(dir, "exit 0"));
  before = Clock::now();
  CHECK(runner->wait(30000ms).has_value());
  CHECK(seconds_between(before, Clock::now()) < 2.0);
}

TEST_CASE("runner: the destructor kills and reaps what still runs", "[runner]") {
  TempDir dir;
  pid_t plain = 0;
  pid_t stubborn = 0;
  TimePoint before;
  {
    auto runner = make_real_command_runner();
    ProcessSpec a = shell(dir, "echo $$; exec sleep 100", "a");
    ProcessSpec b = shell(dir, "echo $$; trap '' TERM; echo ready; sleep 100", "b");
    b.kill_grace = 100000ms;
    runner->start(a);
    runner->start(b);
    plain = pid_from_log(a.log);
    stubborn = pid_from_log(b.log);
    wait_for_text(b.log, "ready");
    before = Clock::now();
  }
  CHECK(seconds_between(before, Clock::now()) < 3.0);
  // Reaped by the runner, not merely killed: no such process at all.
  CHECK((::kill(plain, 0) == -1 && errno == ESRCH));
  CHECK((::kill(stubborn, 0) == -1 && errno == ESRCH));
  CHECK(zombie_children().empty());
}

TEST_CASE("runner: children start with default signal handling and an empty mask", "[runner]") {
  TempDir dir;
  // What an application might have done before creating the runner.
  sigset_t blocked;
  sigset_t previous_mask;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGINT);
  sigaddset(&blocked, SIGTERM);
  sigaddset(&blocked, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &blocked, &previous_mask);
  auto previous_quit = ::signal(SIGQUIT, SIG_IGN);
  auto previous_pipe = ::signal(SIGPIPE, SIG_IGN);

  Completion done = run(shell(dir, "grep -E '^Sig(Blk|Ign)' /proc/self/status"));

  ::signal(SIGPIPE, previous_pipe);
  ::signal(SIGQUIT, previous_quit);
  pthread_sigmask(SIG_SETMASK, &previous_mask, nullptr);

  REQUIRE(done.status.success());
  CHECK(read_file(dir.path() / "log") == "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
}

}  // namespace
}  // namespace shardrun
