#pragma once
// What a spawned child does between vfork and execve, as a Boost.Process 1.74
// extension handler, and how the parent learns that it went wrong.
//
// The child shares the parent's memory until it execs, and the parent has
// other threads (one may hold the malloc lock): everything here is a plain
// system call on data prepared before the vfork, writing no memory but its
// own stack and `exec.exe`. The parent blocks every signal around the spawn,
// so that no handler of the parent's runs in the child before
// reset_signals(). Only real_command_runner.cpp includes this file.

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <system_error>

#include <boost/process/extend.hpp>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace shardrun::runner_detail {

/// The step of ChildSetup that failed in the child.
enum class SetupStep : int { kSetpgid, kChdir };

struct SetupFailure {
  SetupStep step;
  int error;  ///< errno
};

/// A channel from the child's setup code to the parent, one per runner: the
/// io thread spawns one child at a time, and reads a report only after the
/// spawn that wrote it failed.
///
/// Why not `exec.set_error()` from the child: Boost 1.74 sends that error as
/// three separate write()s, and the parent reads the first eight bytes with
/// one read(), so under load it sees half a header and builds a string from
/// an uninitialised length (measured: a length_error in 1334 of 1500 spawns
/// with two CPU hogs running, and the child left as a zombie). Boost's own
/// report of a failed execve is reliable (with vfork, the child sets it in
/// the memory it shares with the parent), so the child writes the real
/// reason here and then makes execve fail.
class SetupReport {
 public:
  SetupReport() = default;
  ~SetupReport() {
    for (int fd : fds_) {
      if (fd != -1) ::close(fd);
    }
  }
  SetupReport(const SetupReport&) = delete;
  SetupReport& operator=(const SetupReport&) = delete;

  /// Creates the pipe if it is not there yet (an earlier attempt may have
  /// met a full descriptor table); the error when it cannot.
  std::error_code open() {
    if (fds_[0] != -1) return {};
    if (::pipe2(fds_, O_CLOEXEC | O_NONBLOCK) == -1) {
      fds_[0] = fds_[1] = -1;
      return std::error_code(errno, std::system_category());
    }
    return {};
  }
  int write_fd() const { return fds_[1]; }

  /// In the parent, after the spawn failed: what the child reported, if it
  /// got as far as reporting anything.
  std::optional<SetupFailure> read() const {
    SetupFailure failure{};
    if (fds_[0] == -1 || ::read(fds_[0], &failure, sizeof failure) != sizeof failure) {
      return std::nullopt;
    }
    return failure;
  }

 private:
  int fds_[2] = {-1, -1};
};

/// Boost.Process handler: in the child, default signal dispositions and an
/// empty mask, a process group of its own, the working directory, and every
/// inherited descriptor above 2 marked close-on-exec. In the parent, reaps a
/// child whose spawn failed, so that it does not stay a zombie.
class ChildSetup : public boost::process::extend::handler {
 public:
  /// `cwd`: the directory to change to, or nullptr to stay in the parent's;
  /// `report_fd`: SetupReport::write_fd(). Both must outlive the spawn.
  ChildSetup(const char* cwd, int report_fd) : cwd_(cwd), report_fd_(report_fd) {}

  template <class Executor>
  void on_exec_setup(Executor& exec) const {
    reset_signals();
    // Its own group, so that a timeout or an interrupt reaches everything
    // the command started, and Ctrl-C on the terminal reaches only shardrun.
    if (::setpgid(0, 0) == -1) return abandon(exec, SetupStep::kSetpgid);
    // Done here because 1.74's start_dir ignores a failed chdir.
    if (cwd_ != nullptr && ::chdir(cwd_) == -1) return abandon(exec, SetupStep::kChdir);
    mark_inherited_fds_cloexec();
  }

  template <class Executor>
  void on_error(Executor& exec, const std::error_code&) const {
    if (exec.pid <= 0) return;  // fork itself failed: nothing to reap
    // The child is exiting after a failed exec; the kill only matters if a
    // failure was reported after a successful exec, where waitpid would wait
    // for the whole program.
    ::kill(exec.pid, SIGKILL);
    int status = 0;
    while (::waitpid(exec.pid, &status, 0) == -1 && errno == EINTR) {
    }
  }

 private:
  template <class Executor>
  void abandon(Executor& exec, SetupStep step) const {
    SetupFailure failure{step, errno};
    // One write of less than PIPE_BUF bytes: the parent sees all of it or none.
    [[maybe_unused]] auto written = ::write(report_fd_, &failure, sizeof failure);
    exec.exe = "";  // execve("") fails with ENOENT, which Boost reports safely
  }

  static void reset_signals() {
    // Dispositions first, then the mask, so that no handler of the parent's
    // can run in the child. SIGKILL/SIGSTOP and glibc's internal signals
    // reject the call; that is fine.
    struct sigaction action {};
    action.sa_handler = SIG_DFL;
    sigemptyset(&action.sa_mask);
    for (int sig = 1; sig < NSIG; ++sig) {
      if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &action, nullptr);
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
  }

  // 1.74 closes nothing, so without this every child would inherit the
  // parent's other descriptors (other units' logs, pipes, sockets).
  static void mark_inherited_fds_cloexec() {
#ifdef SYS_close_range
    if (::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
#endif
    // Kernels before 5.11: walk /proc/self/fd with getdents64 (opendir would
    // allocate).
    int dir = ::open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir != -1) {
      alignas(dirent64) char buffer[4096];
      ssize_t size = 0;
      while ((size = ::getdents64(dir, buffer, sizeof buffer)) > 0) {
        for (ssize_t offset = 0; offset < size;) {
          const auto* entry = reinterpret_cast<const dirent64*>(buffer + offset);
          int fd = parse_fd(entry->d_name);
          if (fd > 2 && fd != dir) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
          offset += entry->d_reclen;
        }
      }
      ::close(dir);
      if (size == 0) return;
    }
    // No /proc either: try every descriptor the limit allows.
    struct rlimit limit {};
    int highest = 65536;
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
      highest = static_cast<int>(std::min<rlim_t>(limit.rlim_cur, 1 << 20));
    }
    for (int fd = 3; fd < highest; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }

  // "." and ".." give -1. No strtol: it is not async-signal-safe.
  static int parse_fd(const char* name) {
    if (*name == '\0') return -1;
    int value = 0;
    for (; *name != '\0'; ++name) {
      if (*name < '0' || *name > '9' || value > 100'000'000) return -1;
      value = value * 10 + (*name - '0');
    }
    return value;
  }

  const char* cwd_;
  int report_fd_;
};

}  // namespace shardrun::runner_detail
