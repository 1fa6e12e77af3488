#include <fmt/chrono.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <thread>

#include "app_internal.hpp"
#include "discovery_interrupted.hpp"
#include "run_listener.hpp"
#include "shardrun/app.hpp"
#include "shardrun/error.hpp"
#include "shardrun/job_builder.hpp"
#include "shardrun/junit.hpp"
#include "shardrun/leftovers.hpp"
#include "shardrun/status.hpp"
#include "shardrun/timeline.hpp"
#include "shardrun/timings.hpp"

namespace shardrun {

namespace fs = std::filesystem;

namespace {

std::string make_run_id() {
  std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  return fmt::format("{:%Y%m%d-%H%M%S}-{}", local, getpid());
}

/// Keeps the newest `keep - 1` run directories so that, with the new one, `keep` remain.
void prune_runs(const fs::path& runs_dir, int keep) {
  std::error_code ec;
  std::vector<fs::path> runs;
  // Only what looks like a run directory ("20261125-181655-14662"): the
  // folder may be shared with other files.
  for (const auto& e : fs::directory_iterator(runs_dir, ec))
    if (e.is_directory(ec) && app::is_run_id(e.path().filename().string()))
      runs.push_back(e.path());
  // Run ids start with a sortable time stamp; within one second the
  // folder's age decides (the pid part says nothing about order).
  auto key = [&ec](const fs::path& p) {
    return std::pair{p.filename().string().substr(0, 15), fs::last_write_time(p, ec)};
  };
  std::sort(runs.begin(), runs.end(),
            [&](const fs::path& a, const fs::path& b) { return key(a) < key(b); });
  while (static_cast<int>(runs.size()) >= keep && !runs.empty()) {
    fs::remove_all(runs.front(), ec);
    runs.erase(runs.begin());
  }
}

void make_dirs(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
}

std::optional<std::string> getenv_string(const char* name) {
  const char* v = std::getenv(name);
  if (!v) return std::nullopt;
  return std::string(v);
}

}  // namespace

int run_suite(const Options& options, const InterruptSource& interrupts) {
  const std::string shown_file = options.suite.string();
  Suite suite = load_suite(options.suite);
  if (!options.entries.empty()) app::select_entries(suite, options.entries);
  int cpus = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int workers = resolve_workers(options.workers, suite.workers, suite.workers_auto, cpus);
  bool plan_only = options.command == Options::Command::kPlan || options.dry_run;

  fs::path timings_path =
      options.timings ? fs::absolute(*options.timings) : suite.dir / ".shardrun" / "timings.json";
  std::string timings_warning;
  Timings timings = Timings::load(timings_path, &timings_warning);
  if (!timings_warning.empty()) fmt::print(stderr, "shardrun: warning: {}\n", timings_warning);

  TimePoint run_start = Clock::now();
  RunContext context;
  context.run_id = make_run_id();
  fs::path runs_dir =
      options.runs_dir ? fs::absolute(*options.runs_dir) : suite.dir / ".shardrun" / "runs";
  make_dirs(runs_dir);
  // Before this run's folder exists and before pruning: the last run's.
  std::optional<app::LastFailed> last_failed;
  if (options.last_failed) last_failed = app::read_last_failed(runs_dir);
  // Before pruning, which would delete the records of a killed run's children.
  std::string cleaned = clean_leftovers(runs_dir, context.run_id).message();
  if (!cleaned.empty()) fmt::print(stderr, "shardrun: {}\n", cleaned);
  prune_runs(runs_dir, options.keep_runs);
  context.run_dir = runs_dir / context.run_id;
  for (const char* sub : {"logs", "junit", "tmp"}) make_dirs(context.run_dir / sub);
  context.shards = workers;
  context.base_env = current_environment();
  context.kill_grace = options.kill_grace;
  context.keep_resources = options.keep_resources;
  std::unique_ptr<CommandRunner> runner = make_real_command_runner(context.run_dir, context.run_id);

  // Plan: discovered test ids batched by predicted time, longest first; or
  // exactly the units of --plan-in.
  std::vector<Unit> planned;
  std::vector<EntryCosts> costs;  // for `shardrun plan`
  bool discovery_interrupted = false;
  if (options.plan_in) {
    planned = app::read_plan_file(*options.plan_in, suite);
  } else {
    std::optional<std::pair<int, int>> node;
    if (options.shard_count) {
      node = std::pair{*options.shard_index, *options.shard_count};
    } else {
      node = detect_ci_node(getenv_string);
    }
    JobBuilder discovery_jobs(suite, context);
    std::vector<PlanEntry> entries;
    try {
      fs::path cache_dir = timings_path.parent_path() / "discovery";
      std::vector<fs::path> own = {timings_path, cache_dir, runs_dir, fs::absolute(options.junit)};
      for (fs::path& p : own) p = p.lexically_normal();
      entries = app::discover_entries(suite, discovery_jobs, *runner, interrupts, shown_file,
                                      cache_dir, own);
    } catch (const app::DiscoveryInterrupted& e) {
      if (plan_only || options.list) throw;
      // Still a report: every entry's units as not run (nothing was set up).
      entries = e.entries();
      discovery_interrupted = true;
    }
    if (options.last_failed) {
      if (!last_failed) {
        fmt::print(stderr, "shardrun: --last-failed: no earlier run in {}; running everything\n",
                   runs_dir.string());
      } else {
        std::vector<PlanEntry> kept = entries;
        std::size_t left = app::keep_last_failed(suite, kept, *last_failed);
        if (kept.empty()) {
          fmt::print(stderr,
                     "shardrun: --last-failed: nothing failed in run {}; running everything\n",
                     last_failed->run_id);
        } else {
          fmt::print(stderr,
                     "shardrun: --last-failed: {} test ids or entries that failed in run {}\n",
                     left, last_failed->run_id);
          entries = std::move(kept);
        }
      }
    }
    if (options.list) {
      std::fputs(app::format_list(suite, entries).c_str(), stdout);
      return 0;
    }
    // Split across CI nodes, every node runs `workers` shards: plan for all
    // of them, or each node would get only a fraction of a unit per shard.
    app::fit_command_lines(suite, entries);
    PlanOptions plan_options;
    plan_options.shards = workers * (node ? node->second : 1);
    planned = make_plan(entries, timings, plan_options);
    costs = describe_costs(entries, timings);
    if (node && node->second > 1) planned = select_node(planned, node->first, node->second);
  }
  if (options.plan_out && !discovery_interrupted)
    app::write_plan_file(*options.plan_out, suite, planned);
  if (plan_only) {
    std::fputs(app::format_plan(suite, planned, workers, options.json, costs).c_str(), stdout);
    return 0;
  }
  std::deque<Unit> units(planned.begin(), planned.end());
  // Shards beyond the number of units would only be set up and torn down.
  int shards = std::max(1, std::min<int>(workers, static_cast<int>(units.size())));
  context.shards = shards;

  JobBuilder jobs(suite, context);
  fs::path report_path = fs::absolute(options.junit);
  junit::ReportWriter report(report_path, suite.name);
  StatusPrinter::Options status_options = StatusPrinter::detect();
  // --output-limit bounds every log tail, the printed one included.
  status_options.tail_lines = std::min(options.tail_lines, options.output_limit);
  status_options.tail_bytes = options.output_limit * 1024;
  StatusPrinter status(status_options);
  RunListener listener(jobs, report, status, run_start);
  listener.set_plan(units, shards);
  listener.set_output_limit(options.output_limit);
  std::vector<int> retries;
  for (const Entry& entry : suite.tests) retries.push_back(options.retries.value_or(entry.retries));
  listener.set_retries(std::move(retries));
  status.set_total(units.size());
  status.message(fmt::format("shardrun: {} — {} units on {} shards (run {})", suite.name,
                             units.size(), shards, context.run_dir.string()));

  listener.record_timings_into(&timings);
  SteadyTimeSource clock;
  SchedulerResult result;
  result.started = result.ended = run_start;

  // Interrupted during discovery: global setup has not run, so neither it nor
  // the global teardown runs now.
  std::vector<ProcessSpec> setup =
      discovery_interrupted ? std::vector<ProcessSpec>{} : jobs.global_setup();
  std::vector<std::string> setup_failures = run_sequence(*runner, setup, true, interrupts.count);
  if (!setup_failures.empty()) {
    listener.add_problem("global setup", setup_failures.front());
    for (const Unit& u : units) listener.on_unit_not_run(u, "not run: global setup failed");
  } else if (interrupts.count() > 0) {
    for (const Unit& u : units)
      listener.on_unit_not_run(u, discovery_interrupted ? "interrupted during discovery"
                                                        : "interrupted before it started");
  } else {
    SchedulerOptions so;
    so.shards = shards;
    so.max_failures = options.max_failures;
    so.interrupts = interrupts.count;
    Scheduler scheduler(*runner, clock, jobs, listener, so);
    result = scheduler.run(std::move(units));
  }
  // Global teardown always runs (once setup could have), after every shard is torn down.
  for (const std::string& f : run_sequence(
           *runner, discovery_interrupted ? std::vector<ProcessSpec>{} : jobs.global_teardown(),
           false, interrupts.count))
    listener.add_problem("global teardown", f);
  listener.finish();

  try {
    timings.save(timings_path);
  } catch (const Error& e) {
    status.message(fmt::format("shardrun: warning: timings not saved: {}", e.what()));
  }

  RunSummary summary;
  summary.suite = suite.name;
  summary.run_id = context.run_id;
  summary.run_dir = context.run_dir;
  summary.report = options.junit;
  summary.shards = shards;
  summary.shard_reports = result.shards;
  bool report_written = true;
  try {
    report.commit();
  } catch (const Error& e) {
    report_written = false;
    summary.problems.push_back(fmt::format("report: {}", e.what()));
  }
  for (const std::string& w : report.warnings()) status.message("shardrun: warning: " + w);
  const junit::Totals& totals = report.totals();
  summary.tests = totals.tests;
  summary.failures = totals.failures;
  summary.errors = totals.errors;
  summary.skipped = totals.skipped;
  for (const std::string& p : listener.problems()) summary.problems.push_back(p);
  summary.units = std::move(listener.units());
  summary.flaky = listener.flaky();
  summary.shard_spans = listener.shard_spans();
  summary.elapsed = std::chrono::duration<double>(Clock::now() - run_start).count();

  int code = 0;
  if (interrupts.count() > 0) {
    // 130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP: the shell's 128 + n.
    code = 128 + (interrupts.last_signal() > 0 ? interrupts.last_signal() : SIGINT);
  } else if (!summary.problems.empty() || !report_written) {
    code = static_cast<int>(ExitCode::kInfra);
  } else if (totals.failures + totals.errors > 0 || result.stopped_by_failures) {
    code = static_cast<int>(ExitCode::kTestsFailed);
  } else if (options.fail_on_flaky && !summary.flaky.empty()) {
    code = static_cast<int>(ExitCode::kTestsFailed);
    status.message(fmt::format("shardrun: --fail-on-flaky: {} test{} passed only on a retry",
                               summary.flaky.size(), summary.flaky.size() == 1 ? "" : "s"));
  }
  summary.exit_code = code;
  try {
    write_run_json(context.run_dir / "run.json", summary);
    // Made from run.json, as `shardrun timeline` makes it later.
    write_timeline(context.run_dir / "timeline.html", {context.run_dir});
    summary.timeline = context.run_dir / "timeline.html";
  } catch (const Error& e) {
    status.message(fmt::format("shardrun: warning: {}", e.what()));
  }
  status.summary(summary);
  return code;
}

int run_merge(const Options& options) {
  std::vector<std::string> warnings;
  junit::Totals totals = junit::merge_files(options.merge_inputs, options.merge_output, &warnings);
  for (const std::string& w : warnings) fmt::print(stderr, "shardrun: warning: {}\n", w);
  fmt::print("merged {} files into {}: {} tests, {} failures, {} errors, {} skipped\n",
             options.merge_inputs.size(), options.merge_output.string(), totals.tests,
             totals.failures, totals.errors, totals.skipped);
  return 0;
}

}  // namespace shardrun
