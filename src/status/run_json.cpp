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
    if (u.shard >= 0) ju["status"] = status_json(u.status);
    units.push_back(std::move(ju));
  }
  j["units"] = std::move(units);

  // Invalid UTF-8 (from a command line, say) must not make dump() throw.
  std::string text = j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  write_file_atomically(path, text + "\n");
}

}  // namespace shardrun
