// RunListener's side of retries and crash isolation (DESIGN §8 rule 9,
// issue 5): what is held back, what runs again, and how a test's attempts
// end up as one testcase. The bookkeeping itself is results::RetryBook.
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "shardrun/frameworks.hpp"
#include "shardrun/run_listener.hpp"

namespace shardrun {

std::vector<junit::SyntheticCase> RunListener::synthesize(
    const Unit& unit, const std::vector<std::string>& ids, junit::Outcome outcome,
    const std::string& message, const std::string& type, const std::string& text,
    double seconds) const {
  const std::string& suite_name = jobs_.suite().name;
  const std::string& entry = jobs_.suite().tests.at(unit.entry).name;
  std::vector<std::pair<std::string, std::string>> names;  // classname, name
  if (!ids.empty()) {
    for (const std::string& id : ids)
      names.emplace_back(fmt::format("{}.{}", suite_name, entry), id);
  } else if (unit.tests.empty() && unit.attempt > 0) {
    // A whole-unit retry stands for the tests that failed before: each
    // gets this attempt's outcome under its own name.
    for (const std::string& key : book_.keys_of(unit.entry)) {
      const junit::Attempt& last = book_.find(key)->attempts.back();
      names.emplace_back(last.classname, last.name);
    }
  }
  if (names.empty()) names.emplace_back(suite_name, entry);
  std::vector<junit::SyntheticCase> cases;
  for (auto& [classname, name] : names) {
    junit::SyntheticCase c;
    c.classname = std::move(classname);
    c.name = std::move(name);
    c.outcome = outcome;
    c.time = seconds / static_cast<double>(names.size());
    c.message = message;
    c.type = type;
    c.text = text;
    cases.push_back(std::move(c));
  }
  return cases;
}

int RunListener::settle(junit::UnitResults results, int shard, const Unit& unit, UnitRecord& rec,
                        std::vector<std::string>& retry, std::vector<std::string>& seen,
                        bool may_retry) {
  const bool whole = unit.tests.empty();
  const std::string& entry_name = jobs_.suite().tests.at(unit.entry).name;
  const std::vector<junit::CaseSummary>& cases = results.cases();
  // Which test id each testcase reports (-1: none).
  std::vector<long> id_of_case(cases.size(), -1);
  if (!whole) {
    const Entry& entry = jobs_.suite().tests.at(unit.entry);
    std::vector<long> index = frameworks::framework_for(entry).case_of_ids(unit.tests, cases);
    for (std::size_t id = 0; id < index.size(); ++id)
      if (index[id] >= 0) id_of_case[static_cast<std::size_t>(index[id])] = static_cast<long>(id);
  }
  const std::size_t seen_before = seen.size();
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const junit::CaseSummary& c = cases[i];
    std::string key, test;
    if (whole) {
      key = results::RetryBook::case_key(unit.entry, c.classname, c.name);
      test = c.classname.empty() ? c.name : fmt::format("{}.{}", c.classname, c.name);
    } else if (id_of_case[i] >= 0) {
      test = unit.tests[static_cast<std::size_t>(id_of_case[i])];
      key = results::RetryBook::id_key(unit.entry, test);
    }
    // A testcase no test id stands for (a collection error, a duplicate) is
    // written as it is: there is nothing to run again.
    if (key.empty() ||
        std::find(seen.begin() + static_cast<long>(seen_before), seen.end(), key) != seen.end())
      continue;
    seen.push_back(key);
    const results::HeldTest* held = book_.find(key);
    if (whole && unit.attempt > 0 && !held) {
      results.drop(i);  // passed on an earlier attempt, and written then
      continue;
    }
    if (results::failing(c.outcome) && may_retry) {
      book_.hold(key, unit.entry, test, results.attempt(i, limit_));
      results.drop(i);
      retry.push_back(whole ? key : test);
      count_case(rec, c.outcome);
      continue;
    }
    if (held) {
      results::HeldTest done = *book_.release(key);
      results.add_earlier(i, done.attempts);
      if (!results::failing(c.outcome))
        flaky_.push_back(FlakyTest{entry_name, test, static_cast<int>(done.attempts.size())});
    }
  }
  return count_added(rec, results.add_to(report_, label_for(shard, unit)));
}

int RunListener::write_held(const std::vector<std::string>& keys, int shard, const Unit& unit,
                            UnitRecord& rec) {
  std::vector<junit::SyntheticCase> cases;
  std::vector<std::vector<junit::Attempt>> earlier;
  for (const std::string& key : keys) {
    std::optional<results::HeldTest> held = book_.release(key);
    if (!held || held->attempts.empty()) continue;
    // The last failed attempt is the <failure>; the ones before it reruns.
    cases.push_back(junit::case_of(held->attempts.back()));
    held->attempts.pop_back();
    earlier.push_back(std::move(held->attempts));
  }
  if (cases.empty()) return 0;
  junit::UnitResults results = junit::UnitResults::synthetic(jobs_.suite().name, cases);
  for (std::size_t i = 0; i < cases.size(); ++i) results.add_earlier(i, earlier[i]);
  return count_added(rec, results.add_to(report_, label_for(shard, unit)));
}

std::vector<std::string> RunListener::held_keys(const Unit& unit) const {
  std::vector<std::string> keys;
  if (!unit.tests.empty()) {
    for (const std::string& id : unit.tests) {
      std::string key = results::RetryBook::id_key(unit.entry, id);
      if (book_.find(key)) keys.push_back(std::move(key));
    }
  } else if (unit.attempt > 0) {
    keys = book_.keys_of(unit.entry);
  }
  return keys;
}

Unit RunListener::derived_unit(const Unit& from, std::vector<std::string> tests, int attempt,
                               std::string label) {
  Unit u;
  u.id = Unit::kNoId;  // the UnitSource gives it one when it queues it
  u.entry = from.entry;
  u.attempt = attempt;
  u.label = std::move(label);
  u.predicted_seconds = from.tests.empty()
                            ? from.predicted_seconds
                            : from.predicted_seconds * static_cast<double>(tests.size()) /
                                  static_cast<double>(from.tests.size());
  u.tests = std::move(tests);
  total_units_ += 1;
  status_.set_total(total_units_);
  return u;
}

void RunListener::requeue_halves(const Unit& from, const std::vector<std::string>& ids,
                                 const std::optional<Origin>& origin, UnitVerdict& verdict) {
  auto halves = results::split_halves(ids);
  int half = 0;
  for (std::vector<std::string>* part : {&halves.first, &halves.second}) {
    Unit u =
        derived_unit(from, std::move(*part), from.attempt, results::half_label(from.label, half++));
    u.origin = origin;
    verdict.requeue.push_back(std::move(u));
  }
}

void RunListener::finish() {
  if (recorder_) recorder_->finish();
  // Every requeued unit either ran or was reported not run, which settles
  // its tests; anything left is written rather than lost.
  std::map<std::size_t, std::vector<std::string>> by_entry;
  for (std::size_t entry = 0; entry < jobs_.suite().tests.size(); ++entry)
    for (std::string& key : book_.keys_of(entry)) by_entry[entry].push_back(std::move(key));
  for (auto& [entry, keys] : by_entry) {
    Unit unit;
    unit.entry = entry;
    unit.label = jobs_.suite().tests[entry].name;
    UnitRecord ignored;
    write_held(keys, -1, unit, ignored);
  }
  if (!sees_every_unit_) return;
  for (const auto& [entry, count] : units_without_tests_) {
    if (entries_with_tests_.count(entry)) continue;
    Unit unit;
    unit.entry = entry;
    unit.label = jobs_.suite().tests[entry].name;
    const std::string message = results::no_tests_message(count);
    status_.message(fmt::format("shardrun: {}: {}", unit.label, message));
    UnitRecord ignored;
    write_cases(ignored, unit,
                synthesize(unit, {}, junit::Outcome::kErrored, message, results::kNoTestsType,
                           message, 0.0));
  }
}

}  // namespace shardrun
