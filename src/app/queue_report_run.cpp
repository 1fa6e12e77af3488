// What `shardrun report` writes besides the merged JUnit report: the shared
// run's run.json (the format of a local run's, each unit with the node that
// ran it, the lost units and those left when every node was gone) and the
// timing history updated from the accepted units, as a local run does.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <map>

#include "shardrun/queue_run.hpp"
#include "shardrun/timing_recorder.hpp"
#include "shardrun/timings.hpp"

namespace shardrun::app {

namespace fs = std::filesystem;

namespace {

using Json = nlohmann::json;

template <typename T>
T field(const Json& meta, const char* name, T fallback) {
  auto it = meta.find(name);
  if (it == meta.end() || it->is_null()) return fallback;
  try {
    return it->get<T>();
  } catch (const Json::exception&) {
    return fallback;
  }
}

// An accepted result's unit as run.json has it; shard: the node's own.
UnitRecord record_of_result(std::size_t id, const Json& meta) {
  UnitRecord u;
  u.id = id;
  u.label = field<std::string>(meta, "label", fmt::format("unit {}", id));
  u.entry = field<std::string>(meta, "entry", "");
  u.tests = field<std::vector<std::string>>(meta, "tests", {});
  u.attempt = field<int>(meta, "attempt", 0);
  u.role = field<std::string>(meta, "role", "planned");
  u.node = field<std::string>(meta, "node", "");
  u.shard = field<int>(meta, "shard", -1);
  u.predicted = field<double>(meta, "predicted_seconds", 0.0);
  u.start = field<double>(meta, "start_epoch", 0.0);
  u.end = field<double>(meta, "end_epoch", u.start);
  u.result = field<std::string>(meta, "result", "error");
  u.note = field<std::string>(meta, "note", "");
  u.status.code = field<int>(meta, "exit_code", 0);
  return u;
}

UnitRecord record_not_run(const QueueUnit& q, std::string result, std::string note) {
  UnitRecord u;
  u.id = q.id;
  u.label = fmt::format("{}#{}", q.entry, q.id);
  u.entry = q.entry;
  u.tests = q.tests;
  u.attempt = q.attempt;
  u.role = q.attempt > 0 ? "retry" : "planned";
  u.predicted = q.predicted_seconds;
  u.result = std::move(result);
  u.note = std::move(note);
  return u;
}

// Each (node, shard) pair becomes one shard of the run, numbered in the
// order of their first unit's start; times become seconds since the first
// start. Returns the number of shards.
int number_shards(std::vector<UnitRecord>& units, double& elapsed) {
  std::vector<std::size_t> ran;
  for (std::size_t i = 0; i < units.size(); ++i)
    if (units[i].shard >= 0) ran.push_back(i);
  std::stable_sort(ran.begin(), ran.end(),
                   [&](std::size_t a, std::size_t b) { return units[a].start < units[b].start; });
  const double origin = ran.empty() ? 0 : units[ran.front()].start;
  std::map<std::pair<std::string, int>, int> shard_of;
  elapsed = 0;
  for (std::size_t i : ran) {
    UnitRecord& u = units[i];
    auto key = std::make_pair(u.node, u.shard);
    auto [at, added] = shard_of.emplace(key, static_cast<int>(shard_of.size()));
    u.shard = at->second;
    u.start = std::max(0.0, u.start - origin);
    u.end = std::max(u.start, u.end - origin);
    elapsed = std::max(elapsed, u.end);
  }
  for (UnitRecord& u : units)
    if (u.shard < 0) u.start = u.end = 0;
  return static_cast<int>(shard_of.size());
}

const QueueUnit* find_unit(const RedisQueue::Snapshot& snap, std::size_t id) {
  for (const QueueUnit& u : snap.units)
    if (u.id == id) return &u;
  return nullptr;
}

}  // namespace

void write_queue_run_json(const fs::path& path, const QueueRunReport& run) {
  const RedisQueue::Snapshot& snap = run.snap;
  RunSummary summary;
  summary.run_id = run.run_id;
  summary.run_dir = fs::absolute(path).parent_path();
  summary.report = fs::absolute(run.report);
  summary.suite = run.suite_name;
  for (const auto& [id, text] : snap.results) {
    StoredResult stored = read_stored_result(text);
    if (stored.meta.is_object()) {
      summary.units.push_back(record_of_result(id, stored.meta));
      if (summary.suite.empty()) summary.suite = field<std::string>(stored.meta, "suite", "");
    } else if (const QueueUnit* q = find_unit(snap, id)) {
      summary.units.push_back(record_not_run(*q, "error", "no details stored with its result"));
    }
  }
  std::map<std::size_t, int> requeues(snap.requeues.begin(), snap.requeues.end());
  std::map<std::size_t, std::string> lost_by(snap.lost_by.begin(), snap.lost_by.end());
  for (std::size_t id : snap.lost)
    if (const QueueUnit* q = find_unit(snap, id)) {
      summary.units.push_back(record_not_run(
          *q, "lost", fmt::format("lost {} times, last by {}", requeues[id], lost_by[id])));
      summary.units.back().node = lost_by[id];
    }
  for (std::size_t id : run.left)
    if (const QueueUnit* q = find_unit(snap, id))
      summary.units.push_back(
          record_not_run(*q, "not-run", "every node stopped before the queue was empty"));
  std::sort(summary.units.begin(), summary.units.end(),
            [](const UnitRecord& a, const UnitRecord& b) { return a.id < b.id; });
  summary.shards = number_shards(summary.units, summary.elapsed);
  summary.tests = run.totals.tests;
  summary.failures = run.totals.failures;
  summary.errors = run.totals.errors;
  summary.skipped = run.totals.skipped;
  summary.problems = run.problems;
  summary.exit_code = run.exit_code;
  fs::create_directories(summary.run_dir);
  write_run_json(path, summary);
}

std::size_t record_queue_timings(const fs::path& timings_path, const fs::path& suite_file,
                                 const RedisQueue::Snapshot& snap) {
  Suite suite = load_suite(suite_file);
  std::map<std::string, std::size_t> entry_by_name;
  for (std::size_t i = 0; i < suite.tests.size(); ++i)
    entry_by_name.emplace(suite.tests[i].name, i);
  std::string warning;
  Timings timings = Timings::load(timings_path, &warning);
  if (!warning.empty()) fmt::print(stderr, "shardrun report: warning: {}\n", warning);
  TimingRecorder recorder(suite, timings);
  std::size_t recorded = 0;
  for (const auto& [id, text] : snap.results) {
    StoredResult stored = read_stored_result(text);
    const Json& meta = stored.meta;
    if (!meta.is_object() || !field<bool>(meta, "timings_ok", false)) continue;
    auto entry = entry_by_name.find(field<std::string>(meta, "entry", ""));
    if (entry == entry_by_name.end()) continue;  // not this suite's: nothing to learn
    Unit unit;
    unit.id = id;
    unit.entry = entry->second;
    unit.tests = field<std::vector<std::string>>(meta, "tests", {});
    unit.attempt = field<int>(meta, "attempt", 0);
    unit.predicted_seconds = field<double>(meta, "predicted_seconds", 0.0);
    unit.estimated = field<bool>(meta, "estimated", true);
    Completion done;
    done.status.code = field<int>(meta, "exit_code", 0);
    done.ended = done.started +
                 std::chrono::duration_cast<TimePoint::duration>(std::chrono::duration<double>(
                     std::max(0.0, field<double>(meta, "actual_seconds", 0.0))));
    junit::UnitResults cases = junit::UnitResults::read_buffer(stored.junit);
    bool with_cases = field<bool>(meta, "junit_cases", false) && cases.ok();
    bool first_run = unit.attempt == 0 && field<std::string>(meta, "role", "planned") == "planned";
    recorder.unit_finished(unit, done, with_cases ? &cases.cases() : nullptr, first_run);
    ++recorded;
  }
  recorder.finish();
  timings.save(timings_path);
  return recorded;
}

}  // namespace shardrun::app
