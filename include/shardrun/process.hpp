#pragma once
// What a child process is asked to be and how it ended. Shared by the
// scheduler (which builds specs) and the runners (which execute them).

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace shardrun {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Millis = std::chrono::milliseconds;

/// One child process to start.
struct ProcessSpec {
  std::vector<std::string> argv;  ///< argv[0]: a path or a bare name looked up in PATH
  std::vector<std::string> env;   ///< the complete environment, "NAME=VALUE"
  std::filesystem::path cwd;      ///< must exist
  std::filesystem::path log;      ///< stdout+stderr go here (truncated first)
  std::optional<Millis> timeout;  ///< TERM to the group after this, then KILL after kill_grace
  Millis kill_grace{10000};
};

/// How a child ended.
struct ExitStatus {
  enum class Kind {
    kExited,       ///< returned `code`
    kSignaled,     ///< killed by `signal`
    kSpawnFailed,  ///< never ran; `error` says why
  };
  Kind kind = Kind::kExited;
  int code = 0;
  int signal = 0;
  bool timed_out = false;    ///< the runner stopped it because of its timeout
  bool interrupted = false;  ///< the runner stopped it because of stop_all()
  std::string error;

  bool success() const { return kind == Kind::kExited && code == 0 && !timed_out; }
  /// "exit status 3", "killed by signal 11 (SIGSEGV)", "timed out after 10s
  /// (killed by signal 15 (SIGTERM))", "could not start: ...".
  std::string describe() const;
  /// The shell convention: code, or 128 + signal, or 127 when it never ran.
  int shell_code() const;
};

/// Decodes a wait(2) status word (WIFEXITED / WIFSIGNALED).
ExitStatus decode_wait_status(int wait_status);

/// "SIGSEGV" for 11, "SIG42" for unknown numbers.
std::string signal_name(int signal);

}  // namespace shardrun
