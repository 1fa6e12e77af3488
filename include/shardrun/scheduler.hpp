#pragma once
// The scheduling loop (ninja's Builder): fill free shards from one dynamic
// queue, wait for a child to end, hand the result to the listener, repeat;
// shard setup before a shard's first unit and teardown after its last one,
// always. It talks to processes only through CommandRunner and to the rest of
// the program only through JobSource and SchedulerListener, so its tests run
// on a fake runner with a fake clock.

#include <cstddef>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "shardrun/command_runner.hpp"

namespace shardrun {

/// One run of one command in one shard (DESIGN §2).
struct Unit {
  std::size_t id = 0;              ///< unique within the run; names its log and JUnit files
  std::size_t entry = 0;           ///< index into Suite::tests
  std::vector<std::string> tests;  ///< test ids; empty for an entry without discover
  double predicted_seconds = 0;
  std::string label;  ///< for people: "api", "api#3"
  int attempt = 0;    ///< 0 for the first run, n for the n-th retry
};

/// Builds what the scheduler starts. Implemented over a Suite by JobBuilder.
class JobSource {
 public:
  virtual ~JobSource() = default;
  /// In-process preparation of a shard before its setup commands (resources).
  /// Returns an error message, or nullopt when the shard is ready.
  virtual std::optional<std::string> prepare_shard(int shard) = 0;
  /// Undoes prepare_shard, after the teardown commands; always called when
  /// prepare_shard was. Returns an error message or nullopt.
  virtual std::optional<std::string> release_shard(int shard) = 0;
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
  /// Setup, teardown or a resource of a shard failed.
  virtual void on_shard_problem(int shard, const std::string& what) = 0;
  /// Called about every poll interval while waiting, for live status lines.
  virtual void on_tick(TimePoint /*now*/) {}
};

struct SchedulerOptions {
  int shards = 1;
  /// Stop starting units once this many tests failed (0: never).
  int max_failures = 0;
  /// How many interrupt requests (SIGINT/SIGTERM) arrived so far; polled.
  std::function<int()> interrupts = [] { return 0; };
  Millis poll_interval{100};
};

/// Per-shard figures for the summary.
struct ShardReport {
  bool prepared = false;  ///< resources and setup succeeded
  bool problem = false;   ///< setup, teardown or a resource failed
  int units = 0;
  double busy_seconds = 0;  ///< time spent running units
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
  Scheduler(CommandRunner& runner, const TimeSource& clock, JobSource& jobs,
            SchedulerListener& listener, SchedulerOptions options);

  /// Runs every unit in queue order (front first) on free shards and returns
  /// when every shard has been torn down.
  SchedulerResult run(std::deque<Unit> queue);

 private:
  enum class Phase { kIdle, kSetup, kReady, kUnit, kTeardown, kDone };
  struct ShardState {
    Phase phase = Phase::kIdle;
    std::vector<ProcessSpec> steps;  // setup or teardown commands left
    std::size_t next_step = 0;
    std::optional<std::uint64_t> child;
    std::optional<Unit> unit;
    bool resources_prepared = false;
    bool setup_started = false;
    ShardReport report;
  };

  void advance_all();
  void advance(int shard);
  void begin_teardown(int shard);
  void start_step(int shard);
  void on_completion(const Completion& done);
  void check_interrupts();
  void stop_units(bool immediate);
  bool accepting_units() const;
  int shard_of(std::uint64_t child) const;
  std::size_t shards_claiming() const;

  CommandRunner& runner_;
  const TimeSource& clock_;
  JobSource& jobs_;
  SchedulerListener& listener_;
  SchedulerOptions options_;
  std::deque<Unit> queue_;
  std::vector<ShardState> shards_;
  int failed_tests_ = 0;
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
