#include "run_listener.hpp"

#include "shardrun/discovery.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace shardrun {

namespace fs = std::filesystem;

namespace {
constexpr std::size_t kTailLinesInReport = 80;

bool entry_expects_junit(const Entry& entry) {
  if (entry.command.mentions("junit")) return true;
  return std::any_of(entry.env.begin(), entry.env.end(),
                     [](const auto& kv) { return kv.second.find("{junit}") != std::string::npos; });
}

/// "passed" / "failed" / "error" / "timeout" / "interrupted" for a status.
std::string result_of(const ExitStatus& s) {
  if (s.timed_out) return "timeout";
  if (s.interrupted) return "interrupted";
  if (s.kind != ExitStatus::Kind::kExited) return "error";
  return s.code == 0 ? "passed" : "failed";
}
}  // namespace

RunListener::RunListener(const JobBuilder& jobs, junit::ReportWriter& report, StatusPrinter& status,
                         TimePoint run_start)
    : jobs_(jobs), report_(report), status_(status), run_start_(run_start) {}

double RunListener::since_start(TimePoint t) const {
  return std::chrono::duration<double>(t - run_start_).count();
}

junit::SuiteLabel RunListener::label_for(int shard, const Unit& unit) const {
  junit::SuiteLabel label;
  label.suffix = shard >= 0 ? fmt::format(" [shard {}, {}]", shard, unit.label)
                            : fmt::format(" [{}]", unit.label);
  if (shard >= 0) label.properties.emplace_back("shardrun.shard", std::to_string(shard));
  label.properties.emplace_back("shardrun.unit", unit.label);
  label.properties.emplace_back("shardrun.run_id", jobs_.context().run_id);
  return label;
}

UnitRecord RunListener::base_record(int shard, const Unit& unit) const {
  const Entry& entry = jobs_.suite().tests.at(unit.entry);
  UnitRecord rec;
  rec.id = unit.id;
  rec.label = unit.label;
  rec.entry = entry.name;
  rec.shard = shard;
  rec.attempt = unit.attempt;
  rec.tests = unit.tests;
  rec.command = entry.command.display();
  if (shard >= 0) {
    rec.log = jobs_.unit_log(unit).string();
    if (entry_expects_junit(entry)) rec.junit = jobs_.unit_junit(unit).string();
  }
  return rec;
}

void RunListener::on_unit_start(int shard, const Unit& unit, TimePoint /*when*/) {
  status_.unit_started(base_record(shard, unit));
}

void RunListener::record_synthetic(UnitRecord& rec, const Unit& unit, junit::Outcome outcome,
                                   const std::string& message, const std::string& type,
                                   const std::string& text) {
  const std::string& suite_name = jobs_.suite().name;
  std::vector<junit::SyntheticCase> cases;
  // One testcase per test id of the unit, or one for the whole unit.
  std::vector<std::string> names;
  for (const std::string& id : unit.tests) names.push_back(id);
  if (names.empty()) names.push_back(rec.entry);
  for (const std::string& name : names) {
    junit::SyntheticCase c;
    c.classname = unit.tests.empty() ? suite_name : fmt::format("{}.{}", suite_name, rec.entry);
    c.name = name;
    c.outcome = outcome;
    c.time = std::max(0.0, rec.end - rec.start) / static_cast<double>(names.size());
    c.message = message;
    c.type = type;
    c.text = text;
    cases.push_back(std::move(c));
  }
  report_.add_synthetic_suite(suite_name, label_for(rec.shard, unit), cases);
  rec.testcases += static_cast<int>(cases.size());
  if (outcome == junit::Outcome::kFailed || outcome == junit::Outcome::kErrored)
    rec.failures += static_cast<int>(cases.size());
  if (outcome == junit::Outcome::kSkipped) rec.skipped += static_cast<int>(cases.size());
}

UnitVerdict RunListener::on_unit_end(int shard, const Unit& unit, const Completion& done) {
  UnitRecord rec = base_record(shard, unit);
  rec.start = since_start(done.started);
  rec.end = since_start(done.ended);
  rec.status = done.status;
  const ExitStatus& st = done.status;
  std::string outcome_text = st.describe();
  auto log_tail = [&] {
    return fmt::format("{} — last lines of {}:\n{}", outcome_text, rec.log,
                       read_tail(rec.log, kTailLinesInReport));
  };

  fs::path junit_path = jobs_.unit_junit(unit);
  std::error_code ec;
  bool junit_exists = fs::exists(junit_path, ec);
  if (!rec.junit.empty() || junit_exists) {
    rec.junit = junit_path.string();
    junit::AddResult added = report_.add_file(junit_path, label_for(shard, unit));
    record_timings(unit, done, added.ok ? &added.cases : nullptr);
    if (added.ok) {
      for (const junit::CaseSummary& c : added.cases) {
        rec.testcases += 1;
        if (c.outcome == junit::Outcome::kFailed || c.outcome == junit::Outcome::kErrored)
          rec.failures += 1;
        if (c.outcome == junit::Outcome::kSkipped) rec.skipped += 1;
      }
      if (!st.success() && rec.failures == 0) {
        // The command failed but its report shows no failure: still a failure.
        rec.note = fmt::format("{}, but its JUnit XML shows no failure", outcome_text);
        record_synthetic(rec, unit, junit::Outcome::kErrored, rec.note, "shardrun.exit-status",
                         log_tail());
      } else if (!st.success()) {
        rec.note = outcome_text;
      }
    } else {
      rec.note =
          fmt::format("{}; JUnit XML {}: {}", outcome_text, junit_path.string(), added.error);
      record_synthetic(rec, unit, junit::Outcome::kErrored, rec.note, "shardrun.junit", log_tail());
    }
    rec.result = st.success() && rec.failures == 0 ? "passed"
                 : st.success()                    ? "failed"
                                                   : result_of(st);
  } else {
    // No {junit}: one testcase for the unit, passed on exit status 0.
    record_timings(unit, done, nullptr);
    rec.result = result_of(st);
    junit::Outcome outcome =
        st.success() ? junit::Outcome::kPassed
        : (st.kind == ExitStatus::Kind::kExited && !st.timed_out && !st.interrupted)
            ? junit::Outcome::kFailed
            : junit::Outcome::kErrored;
    if (!st.success()) rec.note = outcome_text;
    record_synthetic(rec, unit, outcome, st.success() ? "" : outcome_text,
                     st.success() ? "" : "shardrun.exit-status", st.success() ? "" : log_tail());
  }

  status_.unit_finished(rec);
  UnitVerdict verdict;
  verdict.failed_tests = rec.failures;
  units_.push_back(std::move(rec));
  return verdict;
}

void RunListener::record_timings(const Unit& unit, const Completion& done,
                                 const std::vector<junit::CaseSummary>* cases) {
  // Interrupted, timed-out or crashed units say little about how long the
  // tests take: they must not overwrite good data.
  if (!timings_ || done.status.kind != ExitStatus::Kind::kExited || done.status.timed_out ||
      done.status.interrupted)
    return;
  const std::string& entry = jobs_.suite().tests.at(unit.entry).name;
  double wall = std::chrono::duration<double>(done.ended - done.started).count();
  double test_seconds = 0;
  if (cases && !unit.tests.empty()) {
    std::vector<double> times = match_case_times(unit.tests, *cases);
    for (std::size_t i = 0; i < times.size(); ++i) {
      if (times[i] < 0) continue;
      timings_->record_test(entry, unit.tests[i], times[i]);
      test_seconds += times[i];
    }
  }
  // Without test ids the whole unit counts as its entry's per-process cost,
  // which is what the planner predicts such a unit by.
  timings_->record_unit(entry, wall, test_seconds);
}

void RunListener::on_unit_not_run(const Unit& unit, const std::string& reason) {
  UnitRecord rec = base_record(-1, unit);
  rec.result = "not-run";
  rec.note = reason;
  record_synthetic(rec, unit, junit::Outcome::kSkipped, reason, "", "");
  status_.unit_finished(rec);
  units_.push_back(std::move(rec));
}

void RunListener::on_shard_problem(int shard, const std::string& what) {
  add_problem(fmt::format("shard {}", shard), what);
}

void RunListener::add_problem(const std::string& name, const std::string& what,
                              const fs::path& log) {
  std::string text = what;
  if (!log.empty()) text += "\n" + read_tail(log, kTailLinesInReport);
  problems_.push_back(fmt::format("{}: {}", name, what));
  status_.message(fmt::format("shardrun: {}: {}", name, what));
  junit::SyntheticCase c;
  c.classname = "shardrun";
  c.name = name;
  c.outcome = junit::Outcome::kErrored;
  c.message = what;
  c.type = "shardrun.infrastructure";
  c.text = text;
  junit::SuiteLabel label;
  label.properties.emplace_back("shardrun.run_id", jobs_.context().run_id);
  report_.add_synthetic_suite("shardrun", label, {c});
}

void RunListener::on_tick(TimePoint now) {
  // Estimate: the mean unit time so far, for the units left, spread over the shards.
  double remaining = -1;
  std::size_t done = units_.size();
  if (done > 0 && total_units_ >= done) {
    double sum = 0;
    for (const UnitRecord& u : units_) sum += std::max(0.0, u.end - u.start);
    remaining = sum / done * static_cast<double>(total_units_ - done) / std::max(1, shards_);
  }
  status_.tick(since_start(now), remaining);
}

}  // namespace shardrun
