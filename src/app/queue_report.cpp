// `shardrun report --queue URL --junit OUT`: waits until the shared run has
// no unit queued or leased, then merges every accepted result (JUnit
// fragments, read by the sanitising reader) into one report, retries of a
// test merged into one testcase (DESIGN §8 rule 9), each lost unit as one
// error testcase. If every node is gone first (no lease alive for a whole
// lease), the units left are listed and the exit status is 3, never 0.
#include <fmt/format.h>

#include <cstdio>
#include <map>
#include <thread>

#include "shardrun/app.hpp"
#include "shardrun/error.hpp"
#include "shardrun/queue_run.hpp"
#include "shardrun/results.hpp"

namespace shardrun {

namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

enum class Wait { kEmpty, kNodesGone, kNoPlan };

// Polls until nothing is queued or leased; progress on stderr.
Wait wait_for_run(RedisQueue& queue, const Options& options, RedisQueue::Snapshot& snap) {
  const SteadyClock::time_point start = SteadyClock::now();
  SteadyClock::time_point last_alive = start, last_told{};
  for (;;) {
    snap = queue.snapshot();
    SteadyClock::time_point now = SteadyClock::now();
    if (!snap.published) {
      if (now - start > options.queue_init_timeout) return Wait::kNoPlan;
    } else if (snap.queued.empty() && snap.leased.empty()) {
      return Wait::kEmpty;
    } else {
      for (const auto& lease : snap.leased)
        if (lease.second >= snap.now_ms) last_alive = now;
      if (now - last_alive > options.queue_lease) return Wait::kNodesGone;
    }
    if (now - last_told > std::chrono::seconds(5)) {
      fmt::print(stderr, "shardrun report: {} queued, {} running, {} done{}\n", snap.queued.size(),
                 snap.leased.size(), snap.results.size(),
                 snap.published ? "" : " (waiting for the plan)");
      last_told = now;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
}

std::string describe(const QueueUnit& unit) {
  std::string tests;
  for (std::size_t i = 0; i < unit.tests.size() && i < 20; ++i)
    tests += (i ? " " : "") + unit.tests[i];
  if (unit.tests.size() > 20) tests += fmt::format(" ... ({} tests)", unit.tests.size());
  return tests.empty() ? unit.entry : fmt::format("{}: {}", unit.entry, tests);
}

// Every accepted result, a test's attempts merged into its last testcase.
void add_results(junit::ReportWriter& report, const RedisQueue::Snapshot& snap,
                 junit::TextLimit limit) {
  std::vector<junit::UnitResults> parsed;
  for (const auto& [id, text] : snap.results) {
    parsed.push_back(junit::UnitResults::read_buffer(read_stored_result(text).junit));
    if (!parsed.back().ok()) {
      junit::SyntheticCase c;
      c.classname = "shardrun.queue";
      c.name = fmt::format("unit {}", id);
      c.message = "its stored result is unreadable: " + parsed.back().error();
      report.add_synthetic_suite("shardrun", {}, {c});
    }
  }
  std::map<std::string, std::vector<std::pair<std::size_t, std::size_t>>> seen;  // by identity
  for (std::size_t u = 0; u < parsed.size(); ++u)
    if (parsed[u].ok())
      for (std::size_t i = 0; i < parsed[u].cases().size(); ++i) {
        const junit::CaseSummary& c = parsed[u].cases()[i];
        seen[c.classname + '\n' + c.name].emplace_back(u, i);
      }
  for (const auto& [key, where] : seen) {
    if (where.size() < 2) continue;
    std::vector<junit::Attempt> earlier;
    for (std::size_t k = 0; k + 1 < where.size(); ++k) {
      auto [u, i] = where[k];
      junit::Outcome outcome = parsed[u].cases()[i].outcome;
      if (outcome == junit::Outcome::kFailed || outcome == junit::Outcome::kErrored)
        earlier.push_back(parsed[u].attempt(i, limit));
      parsed[u].drop(i);
    }
    parsed[where.back().first].add_earlier(where.back().second, earlier);
  }
  for (junit::UnitResults& r : parsed)
    if (r.ok()) r.add_to(report, {});
}

void add_units(junit::ReportWriter& report, const RedisQueue::Snapshot& snap,
               const std::vector<std::size_t>& ids, const std::string& why_prefix) {
  std::map<std::size_t, int> requeues(snap.requeues.begin(), snap.requeues.end());
  std::vector<junit::SyntheticCase> cases;
  for (std::size_t id : ids) {
    const QueueUnit* unit = nullptr;
    for (const QueueUnit& u : snap.units)
      if (u.id == id) unit = &u;
    junit::SyntheticCase c;
    c.classname = "shardrun.queue";
    c.name = fmt::format("unit {}", id);
    std::string what = unit ? describe(*unit) : "unknown unit";
    c.message = why_prefix.empty() ? fmt::format("lost {} times: {}", requeues[id], what)
                                   : fmt::format("{}: {}", why_prefix, what);
    c.type = "shardrun.queue.lost";
    cases.push_back(std::move(c));
  }
  if (!cases.empty()) report.add_synthetic_suite("shardrun", {}, cases);
}

// An entry none of whose units found a test fails the run, as one pytest
// run of all its files would have (a local run's listener does the same).
void add_entries_without_tests(junit::ReportWriter& report, const RedisQueue::Snapshot& snap,
                               const std::vector<std::size_t>& unsettled) {
  for (const EntryWithoutTests& e : entries_without_tests(snap, unsettled)) {
    junit::SyntheticCase c;
    c.classname = e.suite;
    c.name = e.entry;
    c.outcome = junit::Outcome::kErrored;
    c.message = results::no_tests_message(e.units);
    c.type = results::kNoTestsType;
    c.text = c.message;
    fmt::print(stderr, "shardrun report: {}: {}\n", e.entry, c.message);
    junit::SuiteLabel label;
    label.entry = e.entry;
    report.add_synthetic_suite(e.suite, label, {c});
  }
}

}  // namespace

int run_report(const Options& options) {
  RedisSourceOptions q = app::queue_options(options);
  RedisConnection connection(q.url, q.password);
  RedisQueue queue(connection, q.url, q.queue);
  RedisQueue::Snapshot snap;
  Wait waited = wait_for_run(queue, options, snap);
  junit::ReportWriter report(fs::absolute(options.junit), "shardrun");
  add_results(report, snap, junit::TextLimit{options.output_limit, options.output_limit * 1024});
  add_units(report, snap, snap.lost, "");
  std::vector<std::size_t> left = snap.queued;
  for (const auto& lease : snap.leased) left.push_back(lease.first);
  std::sort(left.begin(), left.end());
  if (waited == Wait::kNodesGone)
    add_units(report, snap, left, "not run: every node stopped before the queue was empty");
  std::vector<std::size_t> unsettled = snap.lost;
  unsettled.insert(unsettled.end(), left.begin(), left.end());
  add_entries_without_tests(report, snap, unsettled);
  report.commit();
  const junit::Totals& t = report.totals();
  fmt::print("shardrun report: {} tests, {} failures, {} errors, {} skipped; {} lost units -> {}\n",
             t.tests, t.failures, t.errors, t.skipped, snap.lost.size(), options.junit.string());
  std::vector<std::string> problems;
  if (waited == Wait::kNoPlan)
    problems.push_back("no node published a plan within --queue-init-timeout");
  if (waited == Wait::kNodesGone)
    problems.push_back(fmt::format("every node is gone; {} units left", left.size()));
  int code = !problems.empty()           ? static_cast<int>(ExitCode::kInfra)
             : t.failures + t.errors > 0 ? 1
                                         : 0;
  if (options.timings && waited != Wait::kNoPlan) {
    std::size_t n = app::record_queue_timings(*options.timings, options.suite, snap);
    fmt::print("shardrun report: timing history of {} units -> {}\n", n, options.timings->string());
  }
  if (options.run_json) {
    app::QueueRunReport run{
        snap,          waited == Wait::kNodesGone ? left : std::vector<std::size_t>{},
        q.url.run_id,  "",
        options.junit, t,
        problems,      code};
    app::write_queue_run_json(*options.run_json, run);
    fmt::print("shardrun report: run.json -> {}\n", options.run_json->string());
  }
  for (const std::string& problem : problems) fmt::print(stderr, "shardrun report: {}\n", problem);
  if (waited == Wait::kNodesGone)
    for (std::size_t id : left)
      for (const QueueUnit& u : snap.units)
        if (u.id == id) fmt::print(stderr, "  unit {}: {}\n", id, describe(u));
  return code;
}

}  // namespace shardrun
