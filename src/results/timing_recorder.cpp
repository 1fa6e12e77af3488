#include "shardrun/timing_recorder.hpp"

#include <algorithm>

#include "shardrun/frameworks.hpp"

namespace shardrun {

TimingRecorder::TimingRecorder(const Suite& suite, Timings& timings)
    : suite_(suite), timings_(timings) {
  for (const Entry& entry : suite.tests)
    groups_.push_back(entry.group.empty() ? std::nullopt : std::optional<std::regex>(entry.group));
}

void TimingRecorder::unit_finished(const Unit& unit, const Completion& done,
                                   const std::vector<junit::CaseSummary>* cases, bool first_run) {
  const ExitStatus& st = done.status;
  if (st.kind != ExitStatus::Kind::kExited || st.timed_out || st.interrupted ||
      !done.stopped_because.empty())
    return;
  const Entry& spec = suite_.tests.at(unit.entry);
  const std::string& entry = spec.name;
  const double wall = std::chrono::duration<double>(done.ended - done.started).count();
  if (unit.tests.empty()) {
    // Without test ids the whole unit counts as its entry's per-process
    // cost, which is what the planner predicts such a unit by.
    timings_.record_unit(entry, wall, 0);
  } else {
    // Each id's time: its testcase's, or for a test file the sum of its
    // testcases'. Ids without a testcase (a file that failed to import)
    // add nothing; their time stays in what the loads absorb.
    std::vector<double> per_id(unit.tests.size(), -1);
    double test_seconds = 0;
    if (cases) {
      std::vector<long> owner = frameworks::framework_for(spec).id_of_cases(unit.tests, *cases);
      for (std::size_t c = 0; c < cases->size(); ++c) {
        if (owner[c] < 0) continue;
        double t = std::max(0.0, (*cases)[c].time);
        double& slot = per_id[static_cast<std::size_t>(owner[c])];
        slot = std::max(0.0, slot) + t;
        test_seconds += t;
      }
    }
    std::vector<std::string> groups;
    const std::regex* pattern = groups_[unit.entry] ? &*groups_[unit.entry] : nullptr;
    for (std::size_t i = 0; i < unit.tests.size(); ++i) {
      if (per_id[i] >= 0) timings_.record_test(entry, unit.tests[i], per_id[i]);
      std::string g = group_of(unit.tests[i], pattern);
      if (std::find(groups.begin(), groups.end(), g) == groups.end()) groups.push_back(g);
    }
    // Start-up and loads are split at the end of the run, when the least
    // time any unit spent outside its tests is known.
    costs_.push_back(UnitCosts{unit.entry, wall, test_seconds, std::move(groups)});
  }
  if (first_run && !unit.estimated && unit.predicted_seconds > 0)
    predictions_[unit.entry].emplace_back(unit.predicted_seconds, wall);
}

void TimingRecorder::finish() {
  // Per entry, no unit's process started up slower than the least time a
  // unit of it spent outside its tests. Each unit is split against the
  // history as it was before this run, then recorded.
  std::map<std::size_t, double> cap;
  for (const UnitCosts& u : costs_) {
    double rest = std::max(0.0, u.wall - u.test_seconds);
    auto [at, added] = cap.emplace(u.entry, rest);
    if (!added) at->second = std::min(at->second, rest);
  }
  std::vector<CostSplit> splits;
  for (const UnitCosts& u : costs_)
    splits.push_back(attribute_unit(suite_.tests.at(u.entry).name, u.wall, u.test_seconds, u.groups,
                                    timings_, PlanOptions{}, cap[u.entry]));
  for (std::size_t i = 0; i < costs_.size(); ++i) {
    const std::string& entry = suite_.tests.at(costs_[i].entry).name;
    timings_.record_startup(entry, splits[i].startup);
    for (const auto& [group, load] : splits[i].group_loads)
      timings_.record_group(entry, group, load);
  }
  costs_.clear();
  for (const auto& [entry, pairs] : predictions_) {
    if (pairs.size() < 2) continue;
    if (std::optional<double> error = prediction_error(pairs))
      timings_.record_error(suite_.tests.at(entry).name, *error);
  }
  predictions_.clear();
}

}  // namespace shardrun
