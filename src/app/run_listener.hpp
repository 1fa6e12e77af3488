#pragma once
// The listener of one run: turns each finished unit into report testcases
// (its JUnit file, or synthesized ones as DESIGN §3 "Results" says), a
// UnitRecord for run.json, and status lines.


#include "shardrun/job_builder.hpp"
#include "shardrun/junit.hpp"
#include "shardrun/scheduler.hpp"
#include "shardrun/status.hpp"
#include "shardrun/timings.hpp"

namespace shardrun {

class RunListener final : public SchedulerListener {
 public:
  RunListener(const JobBuilder& jobs, junit::ReportWriter& report, StatusPrinter& status,
              TimePoint run_start);

  void on_unit_start(int shard, const Unit& unit, TimePoint when) override;
  UnitVerdict on_unit_end(int shard, const Unit& unit, const Completion& done) override;
  void on_unit_not_run(const Unit& unit, const std::string& reason) override;
  void on_shard_problem(int shard, const std::string& what) override;
  void on_tick(TimePoint now) override;

  /// Records an infrastructure problem (global setup, teardown ...) and adds
  /// it to the report as an errored testcase so that every consumer counts it.
  void add_problem(const std::string& name, const std::string& what,
                   const std::filesystem::path& log = {});

  /// Where finished units' timings go (DESIGN §4); null: nowhere.
  void record_timings_into(Timings* timings) { timings_ = timings; }

  /// For the time-left estimate.
  void set_plan(std::size_t total_units, int shards) {
    total_units_ = total_units;
    shards_ = shards;
  }

  std::vector<UnitRecord>& units() { return units_; }
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  UnitRecord base_record(int shard, const Unit& unit) const;
  void record_synthetic(UnitRecord& rec, const Unit& unit, junit::Outcome outcome,
                        const std::string& message, const std::string& type,
                        const std::string& text);
  junit::SuiteLabel label_for(int shard, const Unit& unit) const;
  double since_start(TimePoint t) const;

  const JobBuilder& jobs_;
  junit::ReportWriter& report_;
  StatusPrinter& status_;
  TimePoint run_start_;
  std::vector<UnitRecord> units_;
  std::vector<std::string> problems_;
  void record_timings(const Unit& unit, const Completion& done,
                      const std::vector<junit::CaseSummary>* cases);

  Timings* timings_ = nullptr;
  std::size_t total_units_ = 0;
  int shards_ = 1;
};

}  // namespace shardrun
