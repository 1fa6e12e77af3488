#pragma once
// The scheduling loop (ninja's Builder): fill free shards from one dynamic
// queue, wait for a child to end, hand the result to the listener, repeat;
// shard setup before a shard's first unit and teardown after its last one,
// always. It talks to processes only through CommandRunner and to the rest of
// the program only through ShardResources, CommandFactory, UnitSource and
// SchedulerListener, so its tests run on a fake runner with a fake clock.

#include <cstddef>
#include <deque>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "shardrun/command_runner.hpp"
#include "shardrun/shard_event.hpp"
#include "shardrun/unit.hpp"
#include "shardrun/unit_source.hpp"

namespace shardrun {

/// How setting up one resource of a shard went (DESIGN §5).
struct ResourceStart {
  std::optional<std::string> error;    ///< it failed (nothing is left to release)
  std::optional<ProcessSpec> service;  ///< a service to start, then probe until ready
  bool pending = false;                ///< started in-process (a connection): probe until ready
};

/// A started service's readiness.
struct ReadyCheck {
  enum class State { kReady, kWaiting, kFailed };
  State state = State::kReady;
  std::string error;  ///< kFailed: why (e.g. the start-up timeout passed)
};

/// A shard's resources (DESIGN §5), set up one at a time in order before
/// the shard's setup commands and released in reverse order after its
/// teardown, always. Implemented over a Suite by SuiteResources
/// (job_builder.hpp).
class ShardResources {
 public:
  virtual ~ShardResources() = default;
  virtual std::size_t resource_count() const = 0;
  /// Sets up resource `index` in-process (a port, a database) or says which
  /// service to start; must not block for long.
  virtual ResourceStart acquire_resource(int shard, std::size_t index) = 0;
  /// Polled while a started service or a pending resource is not ready
  /// yet; `since` is its start. Must not block for long.
  virtual ReadyCheck check_ready(int shard, std::size_t index, TimePoint since, TimePoint now) = 0;
  /// Undoes acquire_resource (a service has been stopped already). Returns
  /// an error message, or nullopt.
  virtual std::optional<std::string> release_resource(int shard, std::size_t index) = 0;
  /// "service 'app'": how messages name the resource.
  virtual std::string resource_name(std::size_t index) const = 0;
};

/// The commands the scheduler starts on a shard. Implemented over a Suite
/// by JobBuilder.
class CommandFactory {
 public:
  virtual ~CommandFactory() = default;
  virtual std::vector<ProcessSpec> shard_setup(int shard) = 0;
  virtual std::vector<ProcessSpec> shard_teardown(int shard) = 0;
  virtual ProcessSpec unit(int shard, const Unit& unit) = 0;
};

/// What the listener decides about a finished unit.
struct UnitVerdict {
  int failed_tests = 0;       ///< counted against SchedulerOptions::max_failures
  std::vector<Unit> requeue;  ///< units to run again (retries), appended to the queue
};

/// Told about everything that happens, in order, on the scheduler's thread.
class SchedulerListener {
 public:
  virtual ~SchedulerListener() = default;
  virtual void on_unit_start(int shard, const Unit& unit, TimePoint when) = 0;
  virtual UnitVerdict on_unit_end(int shard, const Unit& unit, const Completion& done) = 0;
  /// A unit that never started (interrupted run, max failures, no shard left).
  virtual void on_unit_not_run(const Unit& unit, const std::string& reason) = 0;
  /// A unit whose result its UnitSource refused (it was taken from this
  /// run): nothing of it is reported here.
  virtual void on_unit_rejected(int /*shard*/, const Unit& /*unit*/, const Completion& /*done*/) {}
  /// Setup, teardown or a resource of a shard failed.
  virtual void on_shard_problem(int shard, const std::string& what) = 0;
  /// Called about every poll interval while waiting, for live status lines.
  virtual void on_tick(TimePoint /*now*/) {}
  /// A shard's resources, setup and teardown, as they begin and end.
  virtual void on_shard_event(const ShardEvent& /*event*/) {}
};

struct SchedulerOptions {
  int shards = 1;
  /// Stop starting units once this many tests failed (0: never); used by
  /// run(std::deque<Unit>), whose LocalQueue keeps the count.
  int max_failures = 0;
  /// How many interrupt requests (SIGINT/SIGTERM) arrived so far; polled.
  std::function<int()> interrupts = [] { return 0; };
  Millis poll_interval{100};
};

struct SchedulerResult {
  std::vector<ShardReport> shards;
  bool interrupted = false;
  bool stopped_by_failures = false;
  TimePoint started;
  TimePoint ended;
};

class Scheduler {
 public:
  Scheduler(CommandRunner& runner, const TimeSource& clock, ShardResources& resources,
            CommandFactory& commands, SchedulerListener& listener, SchedulerOptions options);

  /// Runs every unit in queue order (front first) on free shards and returns
  /// when every shard has been torn down.
  SchedulerResult run(std::deque<Unit> queue);
  /// Runs the units `source` gives until it has none left, or the run stops.
  SchedulerResult run(UnitSource& source);

 private:
  enum class Phase { kIdle, kResources, kSetup, kReady, kUnit, kTeardown, kRelease, kDone };
  struct Service {
    std::uint64_t child = 0;
    std::filesystem::path log;
    bool running = true;
    bool stopping = false;
  };
  struct ShardState {
    Phase phase = Phase::kIdle;
    std::vector<ProcessSpec> steps;  // setup or teardown commands left
    std::size_t next_step = 0;
    std::optional<std::uint64_t> child;
    std::optional<Unit> unit;
    std::size_t acquired = 0;                      // resources set up so far, released in reverse
    bool waiting_ready = false;                    // the last acquired resource is not ready yet
    TimePoint resource_started;                    // when it was started
    std::vector<std::optional<Service>> services;  // by resource index
    std::optional<std::string> broken;             // a service died: take no more units
    bool setup_started = false;
    bool waiting_work = false;   // ready, and its source said "nothing yet"
    bool setup_open = false;     // kSetupStart told, kSetupEnd not yet
    std::string teardown_error;  // the first failed teardown command
    bool teardown_cut = false;   // a teardown command was interrupted
    ShardReport report;
  };

  void advance_all();
  void advance(int shard);
  void begin_teardown(int shard);
  bool advance_resources(int shard);
  bool advance_release(int shard);
  void on_service_exit(int shard, std::size_t index, const Completion& done);
  void start_step(int shard);
  /// Tells the listener, at the clock's now.
  void emit(int shard, ShardEvent::Kind kind, std::size_t resource = 0,
            ShardEvent::Outcome outcome = ShardEvent::Outcome::kOk, std::string error = {});
  void end_setup(int shard, ShardEvent::Outcome outcome, std::string error = {});
  void setup_failed(int shard, const Completion& done);
  void on_completion(const Completion& done);
  void check_interrupts();
  void stop_units(bool immediate);
  bool accepting_units() const;
  int shard_of(std::uint64_t child) const;
  bool any_waiting_ready() const;
  bool any_waiting_work() const;
  std::size_t shards_claiming() const;

  CommandRunner& runner_;
  const TimeSource& clock_;
  ShardResources& resources_;
  CommandFactory& commands_;
  SchedulerListener& listener_;
  SchedulerOptions options_;
  UnitSource* source_ = nullptr;  // during run()
  std::vector<ShardState> shards_;
  int interrupts_seen_ = 0;
  SchedulerResult result_;
};

/// Runs commands one after another (global setup/teardown). Stops at the
/// first failure when `stop_on_failure`; returns "command: status" messages
/// of the failures. Honours interrupts like the scheduler.
std::vector<std::string> run_sequence(
    CommandRunner& runner, const std::vector<ProcessSpec>& steps, bool stop_on_failure,
    const std::function<int()>& interrupts = [] { return 0; });

}  // namespace shardrun
