#pragma once
// Where the scheduler gets its units (ninja's Plan: FindWork, EdgeFinished,
// more_to_do). The scheduler asks for a unit whenever a shard is free, tells
// the source when one ended (with the listener's verdict, which may add
// units), and hands back what never ran. The source owns the queue order and
// the failure budget.
//
// LocalQueue is today's source: one run's planned units, longest first, with
// retries and crash-isolation halves appended. The interface is shaped for a
// source that lives on a network service (a queue shared by several CI
// machines): taking a unit may answer "nothing yet, ask again", and a
// finished unit's result may be refused because the unit was taken from this
// run (it ran too long and another machine has it).

#include <cstddef>
#include <deque>
#include <optional>
#include <vector>

#include "shardrun/unit.hpp"

namespace shardrun {

struct UnitVerdict;

class UnitSource {
 public:
  enum class Answer {
    kUnit,    ///< here is one
    kNotYet,  ///< none now; ask again (units still running may add some, or another machine)
    kDone,    ///< none will come
  };
  struct Take {
    Answer answer = Answer::kDone;
    std::optional<Unit> unit;  ///< set with kUnit
  };

  virtual ~UnitSource() = default;

  /// The next unit for `shard`, which is ready to run one. Must not block
  /// for long: a source that waits on a network answers kNotYet and is
  /// asked again about every poll interval.
  virtual Take take(int shard) = 0;
  /// How many units are known to be waiting; the scheduler prepares no more
  /// shards than that (an estimate is fine).
  virtual std::size_t waiting() const = 0;
  /// Before the listener hears of a finished unit: whether its result is
  /// still this run's to report. false: the unit was taken from this run;
  /// its result is dropped (the listener is told on_unit_rejected).
  virtual bool accept(int shard, const Unit& unit) = 0;
  /// After the listener: its verdict, with the units it adds and the failed
  /// tests that count against the budget.
  virtual void finished(int shard, const Unit& unit, const UnitVerdict& verdict) = 0;
  /// The failure budget (--max-failures) is spent: start no more units.
  virtual bool budget_spent() const = 0;
  /// The run stops (done, interrupted, budget spent, no shard left): the
  /// units that will not run here, each reported as not run.
  virtual std::vector<Unit> drain() = 0;
};

/// One run's queue in memory: units in the order given, front first; the
/// listener's requeued units at the back, given the next free id when they
/// have none; done when the queue is empty and no unit it handed out is
/// still running.
class LocalQueue final : public UnitSource {
 public:
  /// `max_failures`: stop once this many tests failed (0: never).
  LocalQueue(std::deque<Unit> units, int max_failures);

  Take take(int shard) override;
  std::size_t waiting() const override { return queue_.size(); }
  bool accept(int, const Unit&) override { return true; }
  void finished(int shard, const Unit& unit, const UnitVerdict& verdict) override;
  bool budget_spent() const override;
  std::vector<Unit> drain() override;

 private:
  std::deque<Unit> queue_;
  std::size_t running_ = 0;  // handed out, not finished yet
  std::size_t next_id_ = 0;  // after every id given so far
  int max_failures_;
  int failed_tests_ = 0;
};

}  // namespace shardrun
