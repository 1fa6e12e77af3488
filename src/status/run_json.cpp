// run.json: what happened in a run, for other tools (DESIGN §6).
#include <fmt/format.h>
#include <algorithm>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "shardrun/atomic_file.hpp"
#include "shardrun/error.hpp"
#include "shardrun/status.hpp"

namespace shardrun {

namespace {
nlohmann::json status_json(const ExitStatus& s) {
  nlohmann::json j;
  switch (s.kind) {
    case ExitStatus::Kind::kExited:
      j["exit_code"] = s.code;
      break;
    case ExitStatus::Kind::kSignaled:
      j["signal"] = s.signal;
      j["signal_name"] = signal_name(s.signal);
      break;
    case ExitStatus::Kind::kSpawnFailed:
      j["spawn_error"] = s.error;
      break;
  }
  j["timed_out"] = s.timed_out;
  j["interrupted"] = s.interrupted;
  j["description"] = s.describe();
  return j;
}
nlohmann::json span_json(const ShardSpan& span) {
  nlohmann::json j = {{"kind", span.kind}, {"start", span.start}, {"outcome", span.outcome}};
  j["end"] = span.end >= 0 ? nlohmann::json(span.end) : nlohmann::json();
  if (span.kind == "resource") {
    j["name"] = span.name;
    j["died"] = span.died ? nlohmann::json(*span.died) : nlohmann::json();
    j["released"] = span.released ? nlohmann::json(*span.released) : nlohmann::json();
    if (!span.release_error.empty()) j["release_error"] = span.release_error;
  } else {
    j["commands"] = span.commands;
  }
  if (!span.error.empty()) j["error"] = span.error;
  return j;
}

/// Per shard: its resources, setup and teardown spans, and one "units" span
/// from its first unit's start to its last one's end (the units themselves
/// are in "units", with the same shard and times), ordered by start.
nlohmann::json shard_spans_json(const RunSummary& summary) {
  std::size_t shards = std::max<std::size_t>(summary.shard_spans.size(),
                                             static_cast<std::size_t>(std::max(0, summary.shards)));
  nlohmann::json out = nlohmann::json::array();
  for (std::size_t shard = 0; shard < shards; ++shard) {
    std::vector<std::pair<double, nlohmann::json>> spans;
    if (shard < summary.shard_spans.size())
      for (const ShardSpan& span : summary.shard_spans[shard])
        spans.emplace_back(span.start, span_json(span));
    double first = 0, last = 0, busy = 0;
    std::size_t count = 0;
    for (const UnitRecord& u : summary.units) {
      if (u.shard != static_cast<int>(shard)) continue;
      first = count == 0 ? u.start : std::min(first, u.start);
      last = count == 0 ? u.end : std::max(last, u.end);
      busy += std::max(0.0, u.end - u.start);
      ++count;
    }
    if (count > 0)
      spans.emplace_back(first, nlohmann::json{{"kind", "units"},
                                               {"start", first},
                                               {"end", last},
                                               {"units", count},
                                               {"busy", busy}});
    std::stable_sort(spans.begin(), spans.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    nlohmann::json list = nlohmann::json::array();
    for (auto& [start, span] : spans) list.push_back(std::move(span));
    out.push_back({{"shard", shard}, {"spans", std::move(list)}});
  }
  return out;
}
}  // namespace

void write_run_json(const std::filesystem::path& path, const RunSummary& summary) {
  nlohmann::json j;
  j["format"] = 1;
  j["suite"] = summary.suite;
  j["run_id"] = summary.run_id;
  j["run_dir"] = summary.run_dir.string();
  j["report"] = summary.report.string();
  j["shards"] = summary.shards;
  j["elapsed"] = summary.elapsed;
  j["exit_code"] = summary.exit_code;
  j["totals"] = {{"tests", summary.tests},
                 {"failures", summary.failures},
                 {"errors", summary.errors},
                 {"skipped", summary.skipped},
                 {"flaky", summary.flaky.size()}};
  j["problems"] = summary.problems;
  nlohmann::json flaky = nlohmann::json::array();
  for (const FlakyTest& f : summary.flaky)
    flaky.push_back({{"entry", f.entry}, {"test", f.test}, {"failed_attempts", f.failed_attempts}});
  j["flaky"] = std::move(flaky);
  Balance b = compute_balance(summary.units, summary.shards);
  j["balance"] = {{"makespan", b.makespan},
                  {"sum", b.sum},
                  {"longest", b.longest},
                  {"lower_bound", b.lower_bound},
                  {"ratio", b.ratio}};
  nlohmann::json units = nlohmann::json::array();
  for (const UnitRecord& u : summary.units) {
    nlohmann::json ju = {{"id", u.id},
                         {"label", u.label},
                         {"entry", u.entry},
                         {"shard", u.shard},
                         {"attempt", u.attempt},
                         {"tests", u.tests},
                         {"command", u.command},
                         {"log", u.log},
                         {"junit", u.junit},
                         {"start", u.start},
                         {"end", u.end},
                         {"result", u.result},
                         {"testcases", u.testcases},
                         {"failures", u.failures},
                         {"skipped", u.skipped},
                         {"note", u.note}};
    // What the plan predicted and what it took: the cost model's report card.
    ju["predicted_seconds"] = u.predicted;
    ju["actual_seconds"] = u.shard >= 0 ? std::max(0.0, u.end - u.start) : 0.0;
    ju["role"] = u.role;  // "planned", "retry" or "isolation"
    if (!u.failed_cases.empty()) {
      nlohmann::json failed = nlohmann::json::array();
      for (const auto& [classname, name] : u.failed_cases)
        failed.push_back({{"classname", classname}, {"name", name}});
      ju["failed_cases"] = std::move(failed);
    }
    ju["retried"] = u.retried;  // its failed tests queued to run again
    if (!u.node.empty()) ju["node"] = u.node;
    if (u.shard >= 0) ju["status"] = status_json(u.status);
    units.push_back(std::move(ju));
  }
  j["units"] = std::move(units);
  j["shard_spans"] = shard_spans_json(summary);

  // Invalid UTF-8 (from a command line, say) must not make dump() throw.
  std::string text = j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  write_file_atomically(path, text + "\n");
}

}  // namespace shardrun
