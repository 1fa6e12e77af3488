#pragma once
// The listener of one run: turns each finished unit into report testcases
// (its JUnit file, or synthesized ones as DESIGN §3 "Results" says), a
// UnitRecord for run.json, and status lines. It also decides what runs
// again: failed tests of an entry with retries (DESIGN §8 rule 9), and the
// tests of a crashed batch that got no result, in halves, until the one
// that crashes is found (crash isolation). The app's (src/app/run_listener*.cpp):
// the fan-out of results::decide to the report, run record, timings and
// status; public for its tests.

#include <deque>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

#include "shardrun/job_builder.hpp"
#include "shardrun/junit.hpp"
#include "shardrun/junit_attempts.hpp"
#include "shardrun/results.hpp"
#include "shardrun/retry_book.hpp"
#include "shardrun/scheduler.hpp"
#include "shardrun/shard_spans.hpp"
#include "shardrun/status.hpp"
#include "shardrun/timing_recorder.hpp"
#include "shardrun/timings.hpp"

namespace shardrun {

class RunListener final : public SchedulerListener {
 public:
  RunListener(const JobBuilder& jobs, junit::ReportWriter& report, StatusPrinter& status,
              TimePoint run_start);

  void on_unit_start(int shard, const Unit& unit, TimePoint when) override;
  /// Writes the unit's results, except failed tests that will run again:
  /// those are held back (a bounded Attempt each) and requeued as one unit
  /// of attempt + 1; a held test's last attempt is written with the earlier
  /// ones as <flakyFailure>/<rerunFailure> children. A crashed unit's test
  /// ids without a result are requeued in two halves (same attempt).
  UnitVerdict on_unit_end(int shard, const Unit& unit, const Completion& done) override;
  /// Skipped with the reason; a held test whose retry never ran is written
  /// as the failure it last was.
  void on_unit_not_run(const Unit& unit, const std::string& reason) override;
  void on_shard_problem(int shard, const std::string& what) override;
  void on_tick(TimePoint now) override;
  void on_shard_event(const ShardEvent& event) override;

  /// Records an infrastructure problem (global setup, teardown ...) and adds
  /// it to the report as an errored testcase so that every consumer counts it.
  void add_problem(const std::string& name, const std::string& what,
                   const std::filesystem::path& log = {});

  /// Where finished units' timings go (DESIGN §4); null: nowhere. Every
  /// attempt that exits normally counts (retries and isolation runs too).
  void record_timings_into(Timings* timings);

  /// The planned units and the shards (for the time-left estimate).
  void set_plan(const std::deque<Unit>& units, int shards);

  /// Retries per entry (index into Suite::tests); missing entries: 0.
  void set_retries(std::vector<int> per_entry) { retries_ = std::move(per_entry); }

  /// Whether this run's units are all of the plan's (not a CI node's part,
  /// not a shared queue's): then an entry none of whose units found a test
  /// (pytest's exit status 5 in each) gets an errored testcase at finish(),
  /// as one pytest run of the whole suite would have failed.
  void set_sees_every_unit(bool every) { sees_every_unit_ = every; }

  /// --output-limit: lines (and as many KiB) of log or text kept per item.
  void set_output_limit(std::size_t lines) { limit_ = junit::TextLimit{lines, lines * 1024}; }

  /// Writes any test still held as the failure it last was, and the error
  /// of an entry that found no test (set_sees_every_unit). Call once, after
  /// the scheduler has returned and before the report is committed.
  void finish();

  std::vector<UnitRecord>& units() { return units_; }
  const std::vector<std::string>& problems() const { return problems_; }
  const std::vector<FlakyTest>& flaky() const { return flaky_; }
  /// Each shard's resources, setup and teardown, for run.json.
  const std::vector<std::vector<ShardSpan>>& shard_spans() const { return spans_.spans(); }

 private:
  using Origin = results::Origin;

  /// The facts of a finished unit for the result policy; reads the unit's
  /// JUnit once (written to the report at once when no retry applies, and
  /// counted into `rec`; else kept in `pending`) and records its timings.
  results::Finished gather(int shard, const Unit& unit, const Completion& done, UnitRecord& rec,
                           std::optional<junit::UnitResults>& pending, int& written_failures);
  /// Carries out the retry part of a decision: settles `pending` and
  /// `synthetic` through the RetryBook, writes orphaned held tests, queues
  /// the retry. Returns the failed tests written.
  int apply_retries(int shard, const Unit& unit, const results::Decision& decision,
                    std::optional<junit::UnitResults> pending,
                    const std::vector<junit::SyntheticCase>& synthetic, UnitRecord& rec,
                    UnitVerdict& verdict);

  UnitRecord base_record(int shard, const Unit& unit) const;
  junit::SuiteLabel label_for(int shard, const Unit& unit) const;
  double since_start(TimePoint t) const;
  int retries_for(std::size_t entry) const;
  std::string log_tail(const std::string& log) const;

  /// One testcase per test id of `ids`; without ids, one per test held for
  /// the entry (a whole-unit retry), else one for the entry.
  std::vector<junit::SyntheticCase> synthesize(const Unit& unit,
                                               const std::vector<std::string>& ids,
                                               junit::Outcome outcome, const std::string& message,
                                               const std::string& type, const std::string& text,
                                               double seconds) const;
  /// Writes cases at once (no retry applies) and counts them into `rec`.
  void write_cases(UnitRecord& rec, const Unit& unit,
                   const std::vector<junit::SyntheticCase>& cases);
  /// Writes `results` with retries applied: failed tests that may run again
  /// (`may_retry`) are held and their ids (or keys) appended to `retry`;
  /// held tests that got their last attempt are written with the earlier
  /// ones. The keys of the tests found are appended to `seen`. Returns the
  /// failed tests written.
  int settle(junit::UnitResults results, int shard, const Unit& unit, UnitRecord& rec,
             std::vector<std::string>& retry, std::vector<std::string>& seen, bool may_retry);
  /// Writes held tests (by key) as the failures they last were.
  int write_held(const std::vector<std::string>& keys, int shard, const Unit& unit,
                 UnitRecord& rec);
  /// Keys of the tests held for `unit` (its ids, or the entry's testcases).
  std::vector<std::string> held_keys(const Unit& unit) const;
  Unit derived_unit(const Unit& from, std::vector<std::string> tests, int attempt,
                    std::string label);
  /// `ids` of `from` as two units of the same attempt ("label.a", "label.b"),
  /// queued in `verdict`, each with `origin` when there is one (crash
  /// isolation; a unit that could not start).
  void requeue_halves(const Unit& from, const std::vector<std::string>& ids,
                      const std::optional<Origin>& origin, UnitVerdict& verdict);
  void count_case(UnitRecord& rec, junit::Outcome outcome) const;
  /// Counts written testcases into `rec`; returns how many failed or errored.
  int count_added(UnitRecord& rec, const junit::AddResult& added) const;

  const JobBuilder& jobs_;
  junit::ReportWriter& report_;
  StatusPrinter& status_;
  TimePoint run_start_;
  std::vector<UnitRecord> units_;
  std::vector<std::string> problems_;
  std::optional<TimingRecorder> recorder_;
  std::size_t total_units_ = 0;

  std::vector<int> retries_;
  junit::TextLimit limit_;
  results::RetryBook book_;
  std::vector<FlakyTest> flaky_;
  ShardSpanBook spans_;
  bool sees_every_unit_ = false;
  // Per entry: its units that found no test, and whether any other ended.
  std::map<std::size_t, int> units_without_tests_;
  std::set<std::size_t> entries_with_tests_;
  // When each unit started, by unit id: the timestamp of its suites (label_for).
  std::unordered_map<std::size_t, std::chrono::system_clock::time_point> started_at_;
};

}  // namespace shardrun
