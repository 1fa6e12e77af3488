// How a child ended, in words and as a shell exit code (process.hpp). Pure:
// no processes here, so the scheduler, the status printer and the fake
// runner can all use it without pulling in Boost.Process.

#include <sys/wait.h>

#include <array>
#include <string_view>

#include <fmt/format.h>

#include "shardrun/process.hpp"

namespace shardrun {

namespace {

// Linux numbering. A table rather than sigabbrev_np(): the names must not
// depend on the C library, and unknown numbers get "SIG<n>".
constexpr std::array<std::string_view, 32> kSignalNames = {
    "",          "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",   "SIGTRAP", "SIGABRT", "SIGBUS",
    "SIGFPE",    "SIGKILL", "SIGUSR1",   "SIGSEGV", "SIGUSR2",  "SIGPIPE", "SIGALRM", "SIGTERM",
    "SIGSTKFLT", "SIGCHLD", "SIGCONT",   "SIGSTOP", "SIGTSTP",  "SIGTTIN", "SIGTTOU", "SIGURG",
    "SIGXCPU",   "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO",   "SIGPWR",  "SIGSYS",
};

std::string how_it_ended(const ExitStatus& status) {
  if (status.kind == ExitStatus::Kind::kSignaled) {
    return fmt::format("killed by signal {} ({})", status.signal, signal_name(status.signal));
  }
  return fmt::format("exit status {}", status.code);
}

}  // namespace

std::string signal_name(int signal) {
  if (signal > 0 && static_cast<std::size_t>(signal) < kSignalNames.size()) {
    return std::string(kSignalNames[static_cast<std::size_t>(signal)]);
  }
  return fmt::format("SIG{}", signal);
}

std::string ExitStatus::describe() const {
  if (kind == Kind::kSpawnFailed) return "could not start: " + error;
  // The timeout itself is not known here; callers that have it can say
  // "after 10s" themselves. A timeout that came first names the cause even
  // when an interrupt followed during the grace period.
  if (timed_out) return fmt::format("timed out ({})", how_it_ended(*this));
  if (interrupted) return fmt::format("interrupted ({})", how_it_ended(*this));
  return how_it_ended(*this);
}

int ExitStatus::shell_code() const {
  switch (kind) {
    case Kind::kExited:
      return code;
    case Kind::kSignaled:
      return 128 + signal;
    case Kind::kSpawnFailed:
      return 127;
  }
  return 127;
}

ExitStatus decode_wait_status(int wait_status) {
  ExitStatus status;
  if (WIFEXITED(wait_status)) {
    status.kind = ExitStatus::Kind::kExited;
    status.code = WEXITSTATUS(wait_status);
  } else if (WIFSIGNALED(wait_status)) {
    // WTERMSIG masks off the core-dump bit (0x80).
    status.kind = ExitStatus::Kind::kSignaled;
    status.signal = WTERMSIG(wait_status);
  } else {
    // Stopped/continued statuses only come from waitpid with WUNTRACED or
    // WCONTINUED, which the runner never asks for; report rather than guess.
    status.kind = ExitStatus::Kind::kExited;
    status.code = 255;
    status.error = fmt::format("unexpected wait status {:#x}", wait_status);
  }
  return status;
}

}  // namespace shardrun
