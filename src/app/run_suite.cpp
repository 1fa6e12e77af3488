#include <fmt/chrono.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <thread>

#include "shardrun/app.hpp"
#include "shardrun/ci_report.hpp"
#include "shardrun/discovery.hpp"
#include "shardrun/discovery_interrupted.hpp"
#include "shardrun/error.hpp"
#include "shardrun/job_builder.hpp"
#include "shardrun/junit.hpp"
#include "shardrun/leftovers.hpp"
#include "shardrun/plan_io.hpp"
#include "shardrun/queue_run.hpp"
#include "shardrun/results.hpp"
#include "shardrun/run_listener.hpp"
#include "shardrun/selection.hpp"
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
    if (e.is_directory(ec) && is_run_id(e.path().filename().string())) runs.push_back(e.path());
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

namespace {

// What a run has before it plans: the suite, its history, its folder and
// the runner of its processes.
struct RunSetup {
  Suite suite;
  int workers = 1;
  fs::path timings_path;
  Timings timings;
  fs::path runs_dir;
  RunContext context;
  std::optional<LastFailed> last_failed;
  std::unique_ptr<CommandRunner> runner;
};

RunSetup prepare_run(const Options& options, StatusPrinter& status) {
  RunSetup run;
  run.suite = load_suite(options.suite);
  if (!options.entries.empty()) select_entries(run.suite, options.entries);
  int cpus = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  run.workers = resolve_workers(options.workers, run.suite.workers, run.suite.workers_auto, cpus);
  run.timings_path = options.timings ? fs::absolute(*options.timings)
                                     : run.suite.dir / ".shardrun" / "timings.json";
  std::string timings_warning;
  run.timings = Timings::load(run.timings_path, &timings_warning);
  if (!timings_warning.empty()) status.warning(timings_warning);

  RunContext& context = run.context;
  context.run_id = make_run_id();
  run.runs_dir =
      options.runs_dir ? fs::absolute(*options.runs_dir) : run.suite.dir / ".shardrun" / "runs";
  make_dirs(run.runs_dir);
  // Before this run's folder exists and before pruning: the last run's.
  if (options.last_failed) run.last_failed = read_last_failed(run.runs_dir);
  // Before pruning, which would delete the records of a killed run's children.
  std::string cleaned = clean_leftovers(run.runs_dir, context.run_id).message();
  if (!cleaned.empty()) status.note(cleaned);
  prune_runs(run.runs_dir, options.keep_runs);
  context.run_dir = run.runs_dir / context.run_id;
  for (const char* sub : {"logs", "junit", "tmp"}) make_dirs(context.run_dir / sub);
  context.shards = run.workers;
  context.base_env = current_environment();
  context.kill_grace = options.kill_grace;
  context.keep_resources = options.keep_resources;
  run.runner = make_real_command_runner(context.run_dir, context.run_id);
  return run;
}

// --last-failed: the entries cut down to what failed in the last run, or
// all of them when there is no such run or nothing failed in it.
void keep_last_failed(const RunSetup& run, std::vector<PlanEntry>& entries, StatusPrinter& status) {
  if (!run.last_failed) {
    status.note(fmt::format("--last-failed: no earlier run in {}; running everything",
                            run.runs_dir.string()));
    return;
  }
  std::vector<PlanEntry> kept = entries;
  std::size_t left = shardrun::keep_last_failed(run.suite, kept, *run.last_failed);
  if (kept.empty()) {
    status.note(fmt::format("--last-failed: nothing failed in run {}; running everything",
                            run.last_failed->run_id));
    return;
  }
  status.note(fmt::format("--last-failed: {} test ids or entries that failed in run {}", left,
                          run.last_failed->run_id));
  entries = std::move(kept);
}

struct Planned {
  std::vector<Unit> units;
  std::vector<EntryCosts> costs;   // for `shardrun plan`
  std::vector<PlanEntry> entries;  // discovered: what a queued unit may name
  bool discovery_interrupted = false;
  bool listed = false;  // --list printed the entries: nothing runs
  // This machine runs every unit of the plan (no CI-node split, no plan
  // file that may be a part): it may judge an entry by all of its units.
  bool all_units = false;
};

// Discovered test ids batched by predicted time, longest first; or exactly
// the units of --plan-in.
Planned plan_run(const Options& options, RunSetup& run, const InterruptSource& interrupts,
                 bool plan_only, StatusPrinter& status) {
  Planned planned;
  if (options.plan_in) {
    planned.units = read_plan_file(*options.plan_in, run.suite);
    return planned;
  }
  std::optional<std::pair<int, int>> node;
  if (options.shard_count) {
    node = std::pair{*options.shard_index, *options.shard_count};
  } else if (!options.queue) {  // a shared queue splits the units itself
    node = detect_ci_node(getenv_string);
  }
  // A shared queue's units are taken by every node's shards: plan for all
  // of them, or each of N nodes' shards would share units sized for one node.
  int queue_nodes = 1;
  if (options.queue) {
    if (options.queue_nodes) {
      queue_nodes = *options.queue_nodes;
    } else {
      try {
        if (auto ci = detect_ci_node(getenv_string)) queue_nodes = ci->second;
      } catch (const UsageError&) {
        // not a split this run uses: a bad CI variable only loses the hint
      }
    }
  }
  JobBuilder discovery_jobs(run.suite, run.context);
  std::vector<PlanEntry> entries;
  try {
    fs::path cache_dir = run.timings_path.parent_path() / "discovery";
    std::vector<fs::path> own = {run.timings_path, cache_dir, run.runs_dir,
                                 fs::absolute(options.junit)};
    for (fs::path& p : own) p = p.lexically_normal();
    entries = discover_entries(run.suite, discovery_jobs, *run.runner, interrupts,
                               options.suite.string(), cache_dir, own);
  } catch (const DiscoveryInterrupted& e) {
    if (plan_only || options.list) throw;
    // Still a report: every entry's units as not run (nothing was set up).
    entries = e.entries();
    planned.discovery_interrupted = true;
  }
  if (options.last_failed) keep_last_failed(run, entries, status);
  if (options.list) {
    std::fputs(format_list(run.suite, entries).c_str(), stdout);
    planned.listed = true;
    return planned;
  }
  // Split across CI nodes, every node runs `workers` shards: plan for all
  // of them, or each node would get only a fraction of a unit per shard.
  fit_command_lines(run.suite, entries);
  PlanOptions plan_options;
  plan_options.shards = run.workers * (node ? node->second : queue_nodes);
  planned.units = make_plan(entries, run.timings, plan_options);
  planned.costs = describe_costs(entries, run.timings);
  planned.entries = entries;
  if (node && node->second > 1)
    planned.units = select_node(planned.units, node->first, node->second);
  planned.all_units = !options.queue && !(node && node->second > 1);
  return planned;
}

// Global setup, the scheduler, global teardown (which always runs once
// setup could have, after every shard is torn down).
SchedulerResult execute(RunSetup& run, JobBuilder& jobs, RunListener& listener,
                        std::deque<Unit> units, int shards, bool discovery_interrupted,
                        const Options& options, const InterruptSource& interrupts,
                        TimePoint run_start, UnitSource* source) {
  SteadyTimeSource clock;
  SchedulerResult result;
  result.started = result.ended = run_start;
  // Interrupted during discovery: global setup has not run, so neither it nor
  // the global teardown runs now.
  std::vector<ProcessSpec> setup =
      discovery_interrupted ? std::vector<ProcessSpec>{} : jobs.global_setup();
  std::vector<std::string> setup_failures =
      run_sequence(*run.runner, setup, true, interrupts.count);
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
    Scheduler scheduler(*run.runner, clock, jobs.resources(), jobs, listener, so);
    result = source ? scheduler.run(*source) : scheduler.run(std::move(units));
  }
  for (const std::string& f : run_sequence(
           *run.runner, discovery_interrupted ? std::vector<ProcessSpec>{} : jobs.global_teardown(),
           false, interrupts.count))
    listener.add_problem("global teardown", f);
  listener.finish();
  return result;
}

// The report committed and everything the end of a run shows and records.
RunSummary summarize(const RunSetup& run, junit::ReportWriter& report, RunListener& listener,
                     StatusPrinter& status, const SchedulerResult& result, int shards,
                     const Options& options, TimePoint run_start) {
  RunSummary summary;
  summary.suite = run.suite.name;
  summary.run_id = run.context.run_id;
  summary.run_dir = run.context.run_dir;
  summary.report = options.junit;
  summary.shards = shards;
  summary.shard_reports = result.shards;
  try {
    report.commit();
  } catch (const Error& e) {
    summary.report_written = false;
    summary.problems.push_back(fmt::format("report: {}", e.what()));
  }
  for (const std::string& w : report.warnings()) status.warning(w);
  const junit::Totals& totals = report.totals();
  summary.tests = totals.tests;
  summary.failures = totals.failures;
  summary.errors = totals.errors;
  summary.skipped = totals.skipped;
  for (const std::string& p : listener.problems()) summary.problems.push_back(p);
  summary.units = std::move(listener.units());
  summary.flaky = listener.flaky();
  summary.failed_tests =
      failed_tests(report.failed_cases(), run.suite, ci_workspace(getenv_string));
  summary.located_failures = report.located_failures();
  summary.shard_spans = listener.shard_spans();
  summary.elapsed = std::chrono::duration<double>(Clock::now() - run_start).count();
  return summary;
}

StatusPrinter make_status(const Options& options) {
  StatusPrinter::Options status_options = StatusPrinter::detect();
  // --output-limit bounds every log tail, the printed one included.
  status_options.tail_lines = std::min(options.tail_lines, options.output_limit);
  status_options.tail_bytes = options.output_limit * 1024;
  return StatusPrinter(status_options);
}

// run.json, the summary and the CI output, last.
void finish_run(RunSummary& summary, StatusPrinter& status, const Options& options) {
  try {
    write_run_json(summary.run_dir / "run.json", summary);
    // Made from run.json, as `shardrun timeline` makes it later.
    write_timeline(summary.run_dir / "timeline.html", {summary.run_dir});
    summary.timeline = summary.run_dir / "timeline.html";
  } catch (const Error& e) {
    status.warning(e.what());
  }
  status.summary(summary);
  // Last, so that the annotations follow everything else in the log.
  for (const std::string& w : write_ci_output(summary, options.summary_md, getenv_string, stdout))
    status.warning(w);
}

}  // namespace

int run_suite(const Options& options, const InterruptSource& interrupts) {
  const bool plan_only = options.command == Options::Command::kPlan || options.dry_run;
  const TimePoint run_start = Clock::now();
  // From the start: every warning of the run goes through it.
  StatusPrinter status = make_status(options);
  RunSetup run = prepare_run(options, status);
  Planned planned = plan_run(options, run, interrupts, plan_only, status);
  if (planned.listed) return 0;
  if (options.plan_out && !planned.discovery_interrupted)
    write_plan_file(*options.plan_out, run.suite, planned.units);
  if (plan_only) {
    std::fputs(
        format_plan(run.suite, planned.units, run.workers, options.json, planned.costs).c_str(),
        stdout);
    return 0;
  }
  std::optional<RedisSourceOptions> queue;
  if (options.queue && !(queue = app::join_queue_run(options, run.suite, planned.entries,
                                                     planned.units, status, interrupts)))
    return 0;  // the shared run has nothing left to do
  std::deque<Unit> units(planned.units.begin(), planned.units.end());
  // Shards beyond the number of units would only be set up and torn down.
  const int shards =
      queue ? run.workers : std::max(1, std::min<int>(run.workers, static_cast<int>(units.size())));
  run.context.shards = shards;

  JobBuilder jobs(run.suite, run.context);
  junit::ReportWriter report(fs::absolute(options.junit), run.suite.name);
  RunListener listener(jobs, report, status, run_start);
  listener.set_plan(units, shards);
  listener.set_output_limit(options.output_limit);
  std::vector<int> retries;
  for (const Entry& entry : run.suite.tests)
    retries.push_back(options.retries.value_or(entry.retries));
  listener.set_retries(std::move(retries));
  listener.set_sees_every_unit(planned.all_units);
  status.set_total(units.size());
  status.message(fmt::format("shardrun: {} — {} units on {} shards (run {})", run.suite.name,
                             units.size(), shards, run.context.run_dir.string()));
  listener.record_timings_into(&run.timings);

  std::unique_ptr<RedisSource> source;
  if (queue) {
    source = app::make_queue_source(*queue, run.suite, planned.entries, jobs, listener, options);
    units.clear();  // they come from the queue
  }
  SchedulerResult result =
      execute(run, jobs, listener, std::move(units), shards, planned.discovery_interrupted, options,
              interrupts, run_start, source.get());
  if (source) app::close_queue_source(*source, listener, status);
  try {
    run.timings.save(run.timings_path);
  } catch (const Error& e) {
    status.warning(fmt::format("timings not saved: {}", e.what()));
  }
  RunSummary summary = summarize(run, report, listener, status, result, shards, options, run_start);
  results::RunEnd end;
  end.interrupted = interrupts.count() > 0;
  end.signal = interrupts.last_signal();
  end.problems = !summary.problems.empty() || !summary.report_written;
  end.failing_tests = summary.failures + summary.errors;
  end.stopped_by_failures = result.stopped_by_failures;
  end.flaky = summary.flaky.size();
  end.fail_on_flaky = options.fail_on_flaky;
  summary.exit_code = results::exit_status(end);
  if (!end.interrupted && !end.problems && end.failing_tests == 0 && !end.stopped_by_failures &&
      summary.exit_code != 0)
    status.message(fmt::format("shardrun: --fail-on-flaky: {} test{} passed only on a retry",
                               end.flaky, end.flaky == 1 ? "" : "s"));
  finish_run(summary, status, options);
  return summary.exit_code;
}

int run_merge(const Options& options) {
  std::vector<std::string> warnings;
  junit::Totals totals = junit::merge_files(options.merge_inputs, options.merge_output, &warnings);
  StatusPrinter status(StatusPrinter::detect());
  for (const std::string& w : warnings) status.warning(w);
  fmt::print("merged {} files into {}: {} tests, {} failures, {} errors, {} skipped\n",
             options.merge_inputs.size(), options.merge_output.string(), totals.tests,
             totals.failures, totals.errors, totals.skipped);
  return 0;
}

}  // namespace shardrun
