#include "shardrun/run_listener.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "shardrun/frameworks.hpp"

namespace shardrun {

namespace fs = std::filesystem;

RunListener::RunListener(const JobBuilder& jobs, junit::ReportWriter& report, StatusPrinter& status,
                         TimePoint run_start)
    : jobs_(jobs), report_(report), status_(status), run_start_(run_start) {}

void RunListener::set_plan(const std::deque<Unit>& units, int shards) {
  total_units_ = units.size();
  status_.set_plan(units, shards);
}

double RunListener::since_start(TimePoint t) const {
  return std::chrono::duration<double>(t - run_start_).count();
}

int RunListener::retries_for(std::size_t entry) const {
  return entry < retries_.size() ? retries_[entry] : 0;
}

std::string RunListener::log_tail(const std::string& log) const {
  return read_tail(log, limit_.lines, limit_.bytes);
}

junit::SuiteLabel RunListener::label_for(int shard, const Unit& unit) const {
  // The suite name carries only the entry: a test's identity must not
  // change with the worker count, the CI node or a retry (DESIGN §8 rule 4).
  // Where it ran goes into properties.
  junit::SuiteLabel label;
  label.entry = jobs_.suite().tests.at(unit.entry).name;
  if (shard >= 0) label.properties.emplace_back("shardrun.shard", std::to_string(shard));
  label.properties.emplace_back("shardrun.unit", unit.label);
  label.properties.emplace_back("shardrun.run_id", jobs_.context().run_id);
  // Written for a unit that never ran (shard -1): the time of writing.
  const auto started = shard >= 0 ? started_at_.find(unit.id) : started_at_.end();
  label.started = started != started_at_.end() ? started->second : std::chrono::system_clock::now();
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
  rec.predicted = unit.predicted_seconds;
  if (unit.origin) rec.role = unit.origin->role;
  if (shard >= 0) {
    rec.log = jobs_.unit_log(unit).string();
    if (frameworks::framework_for(entry).writes_junit(entry))
      rec.junit = jobs_.unit_junit(unit).string();
  }
  return rec;
}

void RunListener::on_unit_start(int shard, const Unit& unit, TimePoint when) {
  // TimePoint is a steady clock; the report's timestamps need the wall clock.
  started_at_[unit.id] = std::chrono::system_clock::now();
  UnitRecord rec = base_record(shard, unit);
  rec.start = since_start(when);
  status_.unit_started(rec);
}

void RunListener::count_case(UnitRecord& rec, junit::Outcome outcome) const {
  rec.testcases += 1;
  if (results::failing(outcome)) rec.failures += 1;
  if (outcome == junit::Outcome::kSkipped) rec.skipped += 1;
}

int RunListener::count_added(UnitRecord& rec, const junit::AddResult& added) const {
  int failures = 0;
  for (const junit::CaseSummary& c : added.cases) {
    count_case(rec, c.outcome);
    if (results::failing(c.outcome)) {
      ++failures;
      rec.failed_cases.emplace_back(c.classname, c.name);
    }
  }
  return failures;
}

void RunListener::write_cases(UnitRecord& rec, const Unit& unit,
                              const std::vector<junit::SyntheticCase>& cases) {
  report_.add_synthetic_suite(jobs_.suite().name, label_for(rec.shard, unit), cases);
  for (const junit::SyntheticCase& c : cases) {
    count_case(rec, c.outcome);
    if (results::failing(c.outcome)) rec.failed_cases.emplace_back(c.classname, c.name);
  }
}

results::Finished RunListener::gather(int shard, const Unit& unit, const Completion& done,
                                      UnitRecord& rec, std::optional<junit::UnitResults>& pending,
                                      int& written_failures) {
  results::Finished f;
  f.label = unit.label;
  f.tests = unit.tests;
  f.attempt = unit.attempt;
  f.retries = retries_for(unit.entry);
  f.origin = unit.origin;
  f.status = done.status;
  f.stopped_because = done.stopped_because;
  if (results::too_long_to_start(done.status) && unit.tests.size() >= 2) return f;

  // Without retries the testcases are written at once; with retries they
  // wait until it is known which will run again.
  fs::path junit_path = jobs_.unit_junit(unit);
  std::error_code ec;
  f.junit_expected = !rec.junit.empty() || fs::exists(junit_path, ec);
  f.junit_path = junit_path.string();
  std::vector<junit::CaseSummary> cases;
  if (f.junit_expected) {
    rec.junit = junit_path.string();
    if (f.retries > 0) {
      pending = junit::UnitResults::read_file(junit_path);
      f.junit_ok = pending->ok();
      f.junit_error = pending->error();
      if (f.junit_ok) cases = pending->cases();
    } else {
      junit::AddResult added = report_.add_file(junit_path, label_for(shard, unit));
      written_failures += count_added(rec, added);
      f.junit_ok = added.ok;
      f.junit_error = added.error;
      cases = std::move(added.cases);
    }
  }
  if (recorder_)
    recorder_->unit_finished(unit, done, f.junit_ok ? &cases : nullptr,
                             !f.origin && unit.attempt == 0);
  results::add_case_facts(f, jobs_.suite().tests.at(unit.entry), cases);
  return f;
}

UnitVerdict RunListener::on_unit_end(int shard, const Unit& unit, const Completion& done) {
  UnitRecord rec = base_record(shard, unit);
  rec.start = since_start(done.started);
  rec.end = since_start(done.ended);
  rec.status = done.status;
  std::optional<junit::UnitResults> pending;
  int written_failures = 0;
  const results::Finished facts = gather(shard, unit, done, rec, pending, written_failures);
  const results::Decision decision = results::decide(facts);
  rec.note = decision.note;
  rec.found_no_tests = facts.found_no_tests;
  if (facts.found_no_tests)
    ++units_without_tests_[unit.entry];
  else if (decision.result != results::Result::kSplit)
    entries_with_tests_.insert(unit.entry);

  UnitVerdict verdict;
  if (decision.halves) requeue_halves(unit, decision.halves->ids, decision.halves->origin, verdict);
  std::vector<junit::SyntheticCase> synthetic;  // results shardrun makes, retries apply
  if (const std::optional<results::Synthesized>& made = decision.synthesized) {
    std::string text = made->with_tail
                           ? fmt::format("{} — last lines of {}:\n{}", decision.outcome_text,
                                         rec.log, log_tail(rec.log))
                           : std::string();
    synthetic = synthesize(unit, made->ids, made->outcome, made->message, made->type, text,
                           std::max(0.0, rec.end - rec.start));
    if (made->at_once) {
      write_cases(rec, unit, synthetic);
      written_failures += static_cast<int>(synthetic.size());
      synthetic.clear();
    }
  }
  if (decision.result != results::Result::kSplit) {
    if (facts.retries > 0) {
      written_failures +=
          apply_retries(shard, unit, decision, std::move(pending), synthetic, rec, verdict);
    } else if (!synthetic.empty()) {
      write_cases(rec, unit, synthetic);
      for (const junit::SyntheticCase& c : synthetic)
        if (results::failing(c.outcome)) ++written_failures;
    }
  }
  rec.result = results::to_string(results::result_of(facts, decision, rec.failures));
  status_.unit_finished(rec);
  verdict.failed_tests = written_failures;
  units_.push_back(std::move(rec));
  return verdict;
}

int RunListener::apply_retries(int shard, const Unit& unit, const results::Decision& decision,
                               std::optional<junit::UnitResults> pending,
                               const std::vector<junit::SyntheticCase>& synthetic, UnitRecord& rec,
                               UnitVerdict& verdict) {
  int written_failures = 0;
  std::vector<std::string> retry, seen;
  if (pending && pending->ok())
    written_failures +=
        settle(std::move(*pending), shard, unit, rec, retry, seen, decision.may_retry);
  if (!synthetic.empty())
    written_failures += settle(junit::UnitResults::synthetic(jobs_.suite().name, synthetic), shard,
                               unit, rec, retry, seen, decision.may_retry);
  // Held tests of this unit that got no result and are not being isolated:
  // the failure they last had stands.
  std::vector<std::string> orphans;
  for (const std::string& key : held_keys(unit)) {
    bool isolated_now = std::any_of(
        decision.isolating.begin(), decision.isolating.end(),
        [&](const auto& id) { return results::RetryBook::id_key(unit.entry, id) == key; });
    if (!isolated_now && std::find(seen.begin(), seen.end(), key) == seen.end())
      orphans.push_back(key);
  }
  written_failures += write_held(orphans, shard, unit, rec);
  if (!retry.empty()) {
    const int retries = retries_for(unit.entry);
    rec.retried = static_cast<int>(retry.size());
    Unit u = derived_unit(unit, unit.tests.empty() ? std::vector<std::string>{} : retry,
                          unit.attempt + 1, results::retry_label(unit.label, unit.attempt + 1));
    u.origin = Origin{"retry", "", ""};
    verdict.requeue.push_back(std::move(u));
    std::string again = fmt::format("{} failed test{} run again (retry {} of {})", retry.size(),
                                    retry.size() == 1 ? "" : "s", unit.attempt + 1, retries);
    rec.note = rec.note.empty() ? again : rec.note + "; " + again;
  }
  return written_failures;
}

void RunListener::record_timings_into(Timings* timings) {
  if (timings) recorder_.emplace(jobs_.suite(), *timings);
}

void RunListener::on_unit_not_run(const Unit& unit, const std::string& reason) {
  UnitRecord rec = base_record(-1, unit);
  std::string why = reason;
  if (unit.origin && unit.origin->role == "isolation")
    why += fmt::format(" (while looking for the test that crashed {}: {})", unit.origin->crashed,
                       unit.origin->how);
  rec.result = "not-run";
  rec.note = why;
  // Tests that failed before and waited for this retry: their last failure stands.
  std::vector<std::string> held = held_keys(unit);
  write_held(held, -1, unit, rec);
  std::vector<std::string> rest;
  for (const std::string& id : unit.tests)
    if (std::find(held.begin(), held.end(), results::RetryBook::id_key(unit.entry, id)) ==
        held.end())
      rest.push_back(id);
  // A whole-unit retry has no rest: its other tests passed and are written.
  if (!rest.empty() || (unit.tests.empty() && held.empty() && unit.attempt == 0))
    write_cases(rec, unit, synthesize(unit, rest, junit::Outcome::kSkipped, why, "", "", 0));
  status_.unit_finished(rec);
  units_.push_back(std::move(rec));
}

void RunListener::on_shard_problem(int shard, const std::string& what) {
  add_problem(fmt::format("shard {}", shard), what);
}

void RunListener::add_problem(const std::string& name, const std::string& what,
                              const fs::path& log) {
  std::string text = what;
  if (!log.empty()) text += "\n" + log_tail(log.string());
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

void RunListener::on_shard_event(const ShardEvent& event) {
  spans_.add(event, since_start(event.when));
}

void RunListener::on_tick(TimePoint now) {
  // The time left is the status printer's estimate, from the plan.
  status_.tick(since_start(now));
}

}  // namespace shardrun
