#pragma once
// What a run teaches the cost model (plan.hpp): each finished unit's tests'
// times, its start-up and the load of each group it held (attribute_unit),
// and at the end of the run how far each entry's predictions were off.

#include <map>
#include <optional>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "shardrun/command_runner.hpp"
#include "shardrun/junit.hpp"
#include "shardrun/plan.hpp"
#include "shardrun/suite.hpp"
#include "shardrun/timings.hpp"
#include "shardrun/unit.hpp"

namespace shardrun {

class TimingRecorder {
 public:
  TimingRecorder(const Suite& suite, Timings& timings);

  /// A unit ended. Interrupted, timed-out or crashed units say little about
  /// how long tests take and are not recorded. `cases`: its testcases when
  /// its JUnit was read (null: none). `first_run`: a planned unit's first
  /// attempt, whose prediction counts towards the entry's error.
  void unit_finished(const Unit& unit, const Completion& done,
                     const std::vector<junit::CaseSummary>* cases, bool first_run);
  /// Records each unit's start-up and group loads (attribute_unit, capped
  /// by the least time a unit of the same entry spent outside its tests in
  /// this run), and each entry's prediction error of this run, where at
  /// least two of its units were predicted from history (one unit has no
  /// balance to get wrong).
  void finish();

 private:
  const Suite& suite_;
  Timings& timings_;
  std::vector<std::optional<std::regex>> groups_;  // per entry: its `group:` regex
  std::map<std::size_t, std::vector<std::pair<double, double>>> predictions_;  // per entry
  // A finished unit's time, split into start-up and loads at finish().
  struct UnitCosts {
    std::size_t entry;
    double wall;
    double test_seconds;
    std::vector<std::string> groups;
  };
  std::vector<UnitCosts> costs_;
};

}  // namespace shardrun
