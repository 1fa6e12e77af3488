// The CommandRunner that starts real processes: the only file that uses
// Boost.Process, used the one way shared/notes/boost-process-1.74.md found
// to work in 1.74. One thread runs one io_context and does every spawn;
// exits arrive through on_exit and their bookkeeping is posted; timeouts and
// interrupts signal the child's whole process group. Each live group is also
// recorded in the run directory (child_ledger.hpp), so that a later run can
// kill it should this process be killed before sweeping it.
//
// Threads: start/wait/stop_all/running are called from one (main) thread.
// Everything that touches Boost.Process, the timers or `children_` runs on
// the io thread. The two meet only in the posted work (start() posts a copy
// of its spec and returns) and in the mutex-protected completion queue.
//
// Children are started with vfork: fork copies the parent's page tables for
// every child, which was a tenth of the cost of a short unit and grows with
// the parent's memory (shared/notes/boost-process-1.74.md). Boost 1.74 has
// the vfork path but compiles it only where BOOST_POSIX_HAS_VFORK is set,
// which its config test never does on glibc. ThreadSanitizer turns vfork
// into fork, and Boost's vfork path learns of a failed execve through the
// memory it shares with the child, so TSan builds keep Boost's fork path.
#if !defined(__SANITIZE_THREAD__)
#define SHARDRUN_USE_VFORK 1
#define BOOST_POSIX_HAS_VFORK 1
#endif

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/process/args.hpp>
#include <boost/process/async.hpp>
#include <boost/process/child.hpp>
#include <boost/process/env.hpp>
#include <boost/process/environment.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/posix.hpp>

#include <fmt/format.h>

#include "child_setup.hpp"
#include "shardrun/child_ledger.hpp"
#include "shardrun/command_runner.hpp"
#include "shardrun/leftovers.hpp"
#include "shardrun/path_lookup.hpp"
#include "shardrun/unique_fd.hpp"

namespace shardrun {

namespace {

namespace asio = boost::asio;
namespace bp = boost::process;

std::string errno_text(int error) {
  return std::system_category().message(error);
}

std::string cannot_run(const std::string& program, int error) {
  return fmt::format("cannot run '{}': {}", program, errno_text(error));
}

// The unit's log, truncated, for the child's stdout and stderr. Moved above
// 2 if need be: dup2 onto 1 and 2 must clear close-on-exec, and dup2 of a
// descriptor onto itself would not.
int open_log(const std::filesystem::path& path, std::error_code& error) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd != -1 && fd <= 2) {
    int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
    ::close(fd);
    fd = moved;
  }
  if (fd == -1) error = std::error_code(errno, std::system_category());
  return fd;
}

void write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    ssize_t written = ::write(fd, text.data(), text.size());
    if (written == -1) {
      if (errno == EINTR) continue;
      return;  // the log is only a courtesy here; the Completion says it all
    }
    text.remove_prefix(static_cast<std::size_t>(written));
  }
}

// spec.env is the child's whole environment, handed to execve as it is.
// Not through bp::environment: its find() in 1.74 compares past the end of
// shorter entries (a heap-buffer-overflow under ASan), and each insert scans
// every entry.
class ExactEnvironment : public bp::extend::handler {
 public:
  explicit ExactEnvironment(const std::vector<std::string>& entries) {
    pointers_.reserve(entries.size() + 1);
    for (const std::string& entry : entries) {
      std::size_t equals = entry.find('=');
      if (equals == std::string::npos || equals == 0) continue;  // not NAME=VALUE
      pointers_.push_back(const_cast<char*>(entry.c_str()));
    }
    pointers_.push_back(nullptr);
  }
  template <class Executor>
  void on_setup(Executor& exec) const {
    exec.env = const_cast<char**>(pointers_.data());
  }

 private:
  std::vector<char*> pointers_;
};

// asio installs its SIGCHLD handler without SA_RESTART. SIGCHLD is aimed at
// the io thread (it forked), but when that thread already has a signal
// pending the kernel hands it to any thread that does not block it, whose
// slow system calls (terminal and pipe writes) would then fail with EINTR.
// Only the flag changes; the handler stays asio's.
void make_sigchld_restartable() {
  struct sigaction current {};
  if (::sigaction(SIGCHLD, nullptr, &current) != 0) return;
  if (current.sa_handler == SIG_DFL || current.sa_handler == SIG_IGN) return;
  if ((current.sa_flags & SA_RESTART) != 0) return;
  current.sa_flags |= SA_RESTART;
  ::sigaction(SIGCHLD, &current, nullptr);
}

// One child that has been started and not yet reaped. Lives on the io thread.
struct Child {
  explicit Child(asio::io_context& io) : deadline(io), grace(io) {}

  bp::child process;
  pid_t pgid = 0;  // its own group: setpgid(0, 0) in ChildSetup
  TimePoint started;
  Millis kill_grace{0};
  asio::steady_timer deadline;  // spec.timeout
  asio::steady_timer grace;     // from SIGTERM to SIGKILL
  bool stopping = false;        // a signal has been sent to stop it
  bool timed_out = false;
  bool interrupted = false;
};

class RealCommandRunner final : public CommandRunner {
 public:
  RealCommandRunner(const std::filesystem::path& run_dir, const std::string& run_id)
      : work_(asio::make_work_guard(io_)), ledger_(run_dir, run_id) {
    // The io thread starts with the signals an application handles blocked,
    // so that they always reach the application's own threads; it unblocks
    // SIGCHLD itself, which asio's handler needs.
    sigset_t blocked;
    sigset_t previous;
    sigemptyset(&blocked);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&blocked, sig);
    pthread_sigmask(SIG_BLOCK, &blocked, &previous);
    try {
      thread_ = std::thread([this] { run_io(); });
    } catch (...) {
      pthread_sigmask(SIG_SETMASK, &previous, nullptr);
      throw;
    }
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  }

  ~RealCommandRunner() override {
    // Kill what still runs and wait until all of it has been reaped: no
    // zombies, and no child outliving the runner.
    std::promise<void> all_exited;
    std::future<void> done = all_exited.get_future();
    asio::post(io_, [this, &all_exited] {
      for (auto& [id, child] : children_) {
        child->interrupted = true;
        signal_group(*child, id, /*immediate=*/true);
      }
      if (children_.empty()) {
        all_exited.set_value();
      } else {
        all_exited_ = &all_exited;
      }
    });
    done.wait();
    work_.reset();
    io_.stop();
    thread_.join();
  }

  // Returns at once: the caller prepares its next command while the io
  // thread starts this one. A spawn that fails comes back as a completion.
  std::uint64_t start(const ProcessSpec& spec) override {
    const std::uint64_t id = next_id_++;
    asio::post(io_, [this, id, spec] { spawn(id, spec); });
    ++started_;
    return id;
  }

  std::optional<Completion> wait(Millis max_wait) override {
    std::unique_lock<std::mutex> lock(mutex_);
    if (!ready_.wait_for(lock, max_wait, [this] { return !completions_.empty(); })) {
      return std::nullopt;
    }
    Completion completion = std::move(completions_.front());
    completions_.pop_front();
    ++returned_;
    return completion;
  }

  void stop_all(bool immediate) override {
    asio::post(io_, [this, immediate] {
      for (auto& [id, child] : children_) {
        child->interrupted = true;
        signal_group(*child, id, immediate);
      }
    });
  }

  void stop(std::uint64_t id, bool immediate) override {
    asio::post(io_, [this, id, immediate] {
      Child* child = find_child(id);
      if (child == nullptr) return;
      child->interrupted = true;
      signal_group(*child, id, immediate);
    });
  }

  std::size_t running() const override { return started_ - returned_; }

 private:
  void run_io() {
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    pthread_sigmask(SIG_UNBLOCK, &chld, nullptr);
    io_.run();
  }

  // io thread. Never throws: whatever goes wrong becomes a kSpawnFailed
  // completion.
  void spawn(std::uint64_t id, const ProcessSpec& spec) {
    const TimePoint started = Clock::now();
    std::optional<std::string> failure;
    try {
      failure = try_spawn(id, spec, started);
    } catch (const std::exception& e) {
      failure = fmt::format("cannot run '{}': {}", spec.argv.empty() ? "" : spec.argv[0], e.what());
    }
    if (!failure) return;
    Completion completion;
    completion.id = id;
    completion.status.kind = ExitStatus::Kind::kSpawnFailed;
    completion.status.error = *failure;
    completion.started = started;
    completion.ended = Clock::now();
    deliver(std::move(completion));
  }

  // Starts the child and registers it; or returns why it could not be
  // started, after writing that into the unit's log when there is one.
  std::optional<std::string> try_spawn(std::uint64_t id, const ProcessSpec& spec,
                                       TimePoint started) {
    std::error_code error;
    UniqueFd log(open_log(spec.log, error));
    if (error) {
      return fmt::format("cannot open log file '{}': {}", spec.log.string(), error.message());
    }
    auto fail = [&](std::string message) {
      write_all(log.get(), "shardrun: " + message + "\n");
      return message;
    };
    if (spec.argv.empty()) return fail("empty command");

    const std::string& name = spec.argv[0];
    const std::filesystem::path program = resolve(name, spec, error);
    if (error) return fail(cannot_run(name, error.value()));
    if (std::error_code pipe_error = report_.open())
      return fail(cannot_run(name, pipe_error.value()));
    if (null_.get() == -1) {
      null_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
      if (null_.get() == -1) return fail(cannot_run(name, errno));
    }

    bp::child process = start_child(id, spec, program, log.get(), error);
    if (error) {
      if (std::optional<runner_detail::SetupFailure> step = report_.read()) {
        if (step->step == runner_detail::SetupStep::kChdir) {
          return fail(fmt::format("cannot change directory to '{}': {}", spec.cwd.string(),
                                  errno_text(step->error)));
        }
        return fail(fmt::format("cannot run '{}': setpgid: {}", name, errno_text(step->error)));
      }
      return fail(cannot_run(name, error.value()));
    }
    // 1.74's fork path returns an empty child without setting `error` when
    // its own pipe(2) fails (EMFILE): nothing runs, and no exit would come.
    if (process.id() <= 0) return fail(cannot_run(name, EMFILE));

    auto child = std::make_unique<Child>(io_);
    child->pgid = process.id();
    child->process = std::move(process);
    child->started = started;
    child->kill_grace = spec.kill_grace;
    if (spec.timeout) arm_deadline(id, *child, *spec.timeout);
    // Recorded so that a later run can kill the group should this process
    // die without sweeping it (leftovers.hpp).
    ledger_.add(child->pgid);
    children_.emplace(id, std::move(child));
    return std::nullopt;
  }

  // The spawn itself, with every signal blocked in this thread until the
  // child has exec'd: a vfork child runs on this thread's memory, so a
  // handler of the parent's running in it before ChildSetup resets the
  // dispositions would act as the parent (an interrupt counted twice).
  // asio installs its SIGCHLD handler during the first spawn; it is made
  // restartable before signals are let in again.
  bp::child start_child(std::uint64_t id, const ProcessSpec& spec,
                        const std::filesystem::path& program, int log, std::error_code& error) {
    sigset_t all;
    sigset_t previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    ExactEnvironment environment(spec.env);
    runner_detail::ChildSetup setup(spec.cwd.empty() ? nullptr : spec.cwd.c_str(),
                                    report_.write_fd());
    bp::child process(
        setup, bp::exe = program.string(),
        bp::args = std::vector<std::string>(spec.argv.begin() + 1, spec.argv.end()), environment,
#ifdef SHARDRUN_USE_VFORK
        bp::posix::use_vfork,
#endif
        bp::posix::fd.bind(0, null_.get()), bp::posix::fd.bind(1, log), bp::posix::fd.bind(2, log),
        io_, bp::on_exit = [this, id](int, const std::error_code& ec) { on_exit(id, ec); }, error);
    make_sigchld_restartable();
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    return process;
  }

  // find_program with a cache: thousands of units of one command would
  // otherwise stat every PATH entry before each spawn. A hit is checked with
  // one access(2), so a program removed since falls back to the search.
  std::filesystem::path resolve(const std::string& name, const ProcessSpec& spec,
                                std::error_code& error) {
    if (name.find('/') != std::string::npos)
      return runner_detail::find_program(name, spec.env, spec.cwd, error);
    std::string key = runner_detail::search_path_of(spec.env);
    key += '\0';
    key += spec.cwd.string();
    key += '\0';
    key += name;
    auto it = program_cache_.find(key);
    if (it != program_cache_.end() && ::access(it->second.c_str(), X_OK) == 0) return it->second;
    std::filesystem::path found = runner_detail::find_program(name, spec.env, spec.cwd, error);
    if (!error) program_cache_[key] = found;
    return found;
  }

  // io thread, called by Boost's SIGCHLD service, and not always later: when
  // the child has already exited by the time Boost registers it, this runs
  // inside the bp::child constructor, before try_spawn has recorded it. So
  // it only posts; spawning from in here would also be a use-after-free in
  // 1.74's service.
  void on_exit(std::uint64_t id, const std::error_code& ec) {
    asio::post(io_, [this, id, ec, ended = Clock::now()] { finish(id, ec, ended); });
  }

  void finish(std::uint64_t id, const std::error_code& ec, TimePoint ended) {
    auto it = children_.find(id);
    if (it == children_.end()) return;
    Child& child = *it->second;

    Completion completion;
    completion.id = id;
    if (ec) {
      completion.status.code = 255;
      completion.status.error = "lost track of the child: " + ec.message();
    } else {
      // Not exit_code(): it cannot tell `exit 9` from SIGKILL.
      completion.status = decode_wait_status(child.process.native_exit_code());
    }
    completion.status.timed_out = child.timed_out;
    completion.status.interrupted = child.interrupted;
    completion.started = child.started;
    completion.ended = ended;

    // Whatever the command left running in its group would outlive it (and
    // keep its log open); sweep it before anything else is started.
    ::killpg(child.pgid, SIGKILL);
    ledger_.remove(child.pgid);
    child.deadline.cancel();
    child.grace.cancel();
    child.process.detach();
    children_.erase(it);
    deliver(std::move(completion));

    if (all_exited_ != nullptr && children_.empty()) {
      all_exited_->set_value();
      all_exited_ = nullptr;
    }
  }

  void arm_deadline(std::uint64_t id, Child& child, Millis timeout) {
    child.deadline.expires_after(timeout);
    child.deadline.async_wait([this, id](const boost::system::error_code& ec) {
      if (ec) return;  // cancelled: it ended in time
      Child* child = find_child(id);
      // Already being stopped by stop_all: that stays the reason.
      if (child == nullptr || child->stopping) return;
      child->timed_out = true;
      signal_group(*child, id, /*immediate=*/false);
    });
  }

  // SIGTERM to the group, then SIGKILL after kill_grace; or SIGKILL now,
  // which also cuts short a grace period already running. Between the
  // child's exit and finish() this may signal a group whose leader is
  // already reaped: what is left in it is fair game, and Linux does not
  // reuse the id while the group has members.
  void signal_group(Child& child, std::uint64_t id, bool immediate) {
    if (immediate) {
      child.stopping = true;
      child.grace.cancel();
      ::killpg(child.pgid, SIGKILL);
      return;
    }
    if (child.stopping) return;  // SIGTERM sent, the grace timer runs
    child.stopping = true;
    ::killpg(child.pgid, SIGTERM);
    ::killpg(child.pgid, SIGCONT);  // a stopped process acts on SIGTERM only once continued
    child.grace.expires_after(child.kill_grace);
    child.grace.async_wait([this, id](const boost::system::error_code& ec) {
      if (ec) return;
      if (Child* child = find_child(id)) ::killpg(child->pgid, SIGKILL);
    });
  }

  Child* find_child(std::uint64_t id) {
    auto it = children_.find(id);
    if (it == children_.end()) return nullptr;
    return it->second.get();
  }

  // Any thread.
  void deliver(Completion completion) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      completions_.push_back(std::move(completion));
    }
    ready_.notify_one();
  }

  // Declaration order matters: the io thread (last) starts once everything
  // else exists, and the children's timers go before the io_context.
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;

  // io thread only.
  std::map<std::uint64_t, std::unique_ptr<Child>> children_;
  std::promise<void>* all_exited_ = nullptr;  // set by the destructor
  std::unordered_map<std::string, std::filesystem::path> program_cache_;
  runner_detail::ChildLedger ledger_;
  runner_detail::SetupReport report_;  // shared by the spawns, one at a time
  UniqueFd null_;                      // /dev/null, every child's stdin

  // Shared: the io thread delivers, the main thread waits.
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Completion> completions_;

  // Main thread only.
  std::uint64_t next_id_ = 1;
  std::size_t started_ = 0;
  std::size_t returned_ = 0;

  std::thread thread_;
};

}  // namespace

std::unique_ptr<CommandRunner> make_real_command_runner() {
  return std::make_unique<RealCommandRunner>(std::filesystem::path(), std::string());
}

std::unique_ptr<CommandRunner> make_real_command_runner(const std::filesystem::path& run_dir,
                                                        const std::string& run_id) {
  return std::make_unique<RealCommandRunner>(run_dir, run_id);
}

}  // namespace shardrun
