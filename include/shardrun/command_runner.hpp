#pragma once
// The seam between scheduling and processes (ninja's CommandRunner). The
// scheduler only talks to this interface; real_command_runner.cpp is the only
// file that touches processes, and tests use a fake with a fake clock.

#include <cstdint>
#include <memory>
#include <optional>

#include "shardrun/process.hpp"

namespace shardrun {

/// Time source; the fake runner advances a fake one.
class TimeSource {
 public:
  virtual ~TimeSource() = default;
  virtual TimePoint now() const = 0;
};

class SteadyTimeSource final : public TimeSource {
 public:
  TimePoint now() const override { return Clock::now(); }
};

/// A finished child.
struct Completion {
  std::uint64_t id = 0;  ///< as returned by CommandRunner::start
  ExitStatus status;
  TimePoint started;
  TimePoint ended;
  /// Set by the scheduler when it stopped the child for a reason of its own
  /// (e.g. "service 'app' of shard 2 exited (exit status 1)").
  std::string stopped_because;
};

class CommandRunner {
 public:
  virtual ~CommandRunner() = default;

  /// Starts a child without waiting for it. Never throws for a program that
  /// cannot be started: that becomes a Completion with kSpawnFailed.
  virtual std::uint64_t start(const ProcessSpec& spec) = 0;

  /// Waits until some child has ended and returns it, or returns nullopt
  /// once `max_wait` has passed with none ending (so that callers can look
  /// at interrupt flags). Completions are returned one at a time.
  virtual std::optional<Completion> wait(Millis max_wait) = 0;

  /// Stops every running child: SIGTERM to its process group, then SIGKILL
  /// after the child's kill_grace; with `immediate`, SIGKILL at once. Their
  /// completions are marked `interrupted` and still come through wait().
  virtual void stop_all(bool immediate) = 0;

  /// Stops one child the same way as stop_all (TERM, grace, KILL; or KILL at
  /// once with `immediate`); marks it `interrupted`. Unknown or already
  /// ended ids are ignored.
  virtual void stop(std::uint64_t id, bool immediate) = 0;

  /// Children started and not yet returned by wait().
  virtual std::size_t running() const = 0;
};

/// The Boost.Process runner (one io_context thread; see
/// shared/notes/boost-process-1.74.md).
std::unique_ptr<CommandRunner> make_real_command_runner();

}  // namespace shardrun
