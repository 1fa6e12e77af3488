#pragma once
// The live line's "~0:30 left": from the plan's predictions, not from the
// mean unit time so far (which is wrong whenever units differ in size, and
// the planner makes them differ: long ones first, a tail of short ones).
// Pure: told about units and the time, it answers; the tests pin it.

#include <cstddef>
#include <unordered_map>

namespace shardrun {

class TimeLeft {
 public:
  /// The shards the units left are spread over (at least 1).
  void set_shards(int shards);
  /// A unit that will run, with the seconds the plan predicts for it. A unit
  /// first heard of when it starts (a retry, a half of a split) is added then.
  void planned(std::size_t id, double predicted);
  /// `at`: seconds since the run started.
  void started(std::size_t id, double predicted, double at);
  /// `seconds`: how long it ran; `ran` false for a unit that never ran or
  /// ended without running its tests (a split), whose time says nothing
  /// about the predictions.
  void finished(std::size_t id, double seconds, bool ran);

  /// How far off the predictions are: the seconds the finished units took
  /// over the seconds predicted for them; 1 before any has finished.
  double pace() const;
  /// Seconds left at `now` (seconds since the run started): the predicted
  /// seconds of the units not yet finished, scaled by pace(), less what the
  /// running ones have already run, spread over the shards; but never less
  /// than the longest of them, which no shard can share. < 0: unknown (no
  /// unit has a prediction).
  double remaining(double now) const;

 private:
  struct Unit {
    double predicted = 0;
    double started = -1;  ///< < 0: waiting
  };
  std::unordered_map<std::size_t, Unit> open_;  ///< by id: waiting or running
  int shards_ = 1;
  double predicted_done_ = 0;  ///< of the finished units that ran
  double actual_done_ = 0;
  bool any_prediction_ = false;
};

}  // namespace shardrun
