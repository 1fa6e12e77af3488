#include "shardrun/cli.hpp"

#include <fmt/format.h>

#include <CLI/CLI.hpp>

#include "shardrun/build_info.hpp"
#include "shardrun/error.hpp"
#include "shardrun/queue.hpp"
#include "shardrun/suite.hpp"

namespace shardrun {

namespace {

const char* kDescription =
    "shardrun: run a YAML test suite's commands across N parallel shards, each with its own\n"
    "environment, and merge every command's JUnit XML into one report.\n\n"
    "  shardrun [OPTIONS] SUITE.yaml          run a suite\n"
    "  shardrun plan [OPTIONS] SUITE.yaml     show the plan (units, shards, predicted times)\n"
    "  shardrun merge -o OUT.xml IN.xml...    merge JUnit files into one report\n"
    "  shardrun timeline RUN_DIR... [-o FILE] the HTML timeline of earlier runs\n"
    "  shardrun report --queue URL --junit OUT.xml [--run-json PATH] [--timings PATH SUITE]\n"
    "                                         the merged report of a shared-queue run\n\n"
    "Exit status: 0 all passed, 1 a test failed, 2 usage or suite error (nothing ran),\n"
    "3 infrastructure failure (setup, teardown, resource, report), 130/143 interrupted.\n\n"
    "Per-shard resources (suite key shard.resources: port, postgres, service; see README):\n"
    "  SHARDRUN_LOCK_DIR    folder of the port locks shared by every shardrun on the host\n"
    "                       (default /tmp/shardrun-locks)\n"
    "  SHARDRUN_PORT_RANGE  ports handed out, e.g. 30000-30999 (default 20000-32000)\n"
    "  PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE  the PostgreSQL server, unless the\n"
    "                       resource has a url:\n"
    "  SHARDRUN_QUEUE_PASSWORD  the password of the --queue Redis server (never in the URL)";

// `shardrun --version`: the version and the commit built from.
std::string version_text() {
  return fmt::format("shardrun {} (git {})", SHARDRUN_VERSION, SHARDRUN_GIT_COMMIT);
}

Millis duration_option(const std::string& text, const char* flag) {
  std::optional<Millis> d = parse_duration(text);
  if (!d) throw UsageError(fmt::format("{}: '{}' is not a duration (e.g. 10s, 1m30s)", flag, text));
  return *d;
}

CLI::App* add_timeline_command(CLI::App& app, Options& o) {
  CLI::App* timeline = app.add_subcommand(
      "timeline", "Write the HTML timeline of earlier runs (their run directories, side by side)");
  timeline
      ->add_option("-o,--output", o.timeline_output,
                   "The page (default: timeline.html in the run directory, or here for several)")
      ->type_name("FILE");
  timeline->add_option("runs", o.timeline_runs, "Run directories (or their run.json)")
      ->required()
      ->type_name("RUN_DIR");
  return timeline;
}

}  // namespace

std::optional<std::pair<int, int>> detect_ci_node(
    const std::function<std::optional<std::string>(const char*)>& getenv) {
  struct Source {
    const char* index;
    const char* total;
    int base;
  };
  for (Source s : {Source{"CI_NODE_INDEX", "CI_NODE_TOTAL", 1},
                   Source{"CIRCLE_NODE_INDEX", "CIRCLE_NODE_TOTAL", 0},
                   Source{"BUILDKITE_PARALLEL_JOB", "BUILDKITE_PARALLEL_JOB_COUNT", 0}}) {
    std::optional<std::string> index = getenv(s.index);
    std::optional<std::string> total = getenv(s.total);
    if (!index || !total || index->empty() || total->empty()) continue;
    int i = 0, n = 0;
    try {
      std::size_t used_i = 0, used_n = 0;
      i = std::stoi(*index, &used_i) - s.base;
      n = std::stoi(*total, &used_n);
      if (used_i != index->size() || used_n != total->size()) throw std::invalid_argument("");
    } catch (const std::exception&) {
      throw UsageError(
          fmt::format("{}={} / {}={} are not numbers", s.index, *index, s.total, *total));
    }
    if (n < 1 || i < 0 || i >= n)
      throw UsageError(
          fmt::format("{}={} is out of range for {}={}", s.index, *index, s.total, *total));
    return std::pair{i, n};
  }
  return std::nullopt;
}

int resolve_workers(const std::optional<std::string>& flag, std::optional<int> suite_workers,
                    bool suite_auto, int cpus) {
  cpus = std::max(1, cpus);
  if (flag) {
    if (*flag == "auto") return cpus;
    int n = 0;
    std::size_t used = 0;
    try {
      n = std::stoi(*flag, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != flag->size() || n < 1 || n > 1024)
      throw UsageError(fmt::format(
          "--workers: '{}' is not a number of workers (1 to 1024, or \"auto\")", *flag));
    return n;
  }
  if (suite_auto) return cpus;
  if (suite_workers) return *suite_workers;
  return cpus;
}

namespace {

// The options of a run, in the order --help lists them.
void add_run_options(CLI::App& app, Options& o, std::string& kill_grace) {
  app.add_option("suite", o.suite, "The suite file (YAML, see README)")->type_name("SUITE");
  app.add_option("entries", o.entries,
                 "Run only these entries of the suite (their names; default: all)")
      ->type_name("ENTRY...");
  app.add_option("-j,--workers", o.workers,
                 "Number of shards (worker slots), or \"auto\" for the CPU count; overrides the "
                 "suite's `workers` (default: CPU count)")
      ->type_name("N|auto");
  app.add_option("--junit", o.junit, "Where to write the merged JUnit report")
      ->type_name("PATH")
      ->capture_default_str();
  app.add_option("--runs-dir", o.runs_dir,
                 "Folder for run directories (default: .shardrun/runs beside the suite)")
      ->type_name("DIR");
  app.add_option("--summary-md", o.summary_md,
                 "Append a Markdown summary of the run to PATH (as to $GITHUB_STEP_SUMMARY, "
                 "which is written when set)")
      ->type_name("PATH");
  app.add_option("--kill-grace", kill_grace,
                 "Time between SIGTERM and SIGKILL when a unit times out or the run is stopped")
      ->type_name("DURATION")
      ->capture_default_str();
  app.add_option("--max-failures", o.max_failures,
                 "Stop starting units after this many failed tests (0: never)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_flag("--keep-resources", o.keep_resources,
               "Leave each shard's PostgreSQL schema or database in place after the run, to "
               "look at what the tests left (the next run drops them first)");
  app.add_option("--keep-runs", o.keep_runs, "Run directories to keep (older ones are pruned)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--tail-lines", o.tail_lines, "Log lines printed for a failing unit")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--retries", o.retries,
                 "Re-run failed tests up to N times, on any shard (only the failed test ids of "
                 "an entry with `discover`, else the whole entry); overrides each entry's "
                 "`retries`. A test that passes on a retry is flaky: reported passed, with its "
                 "failures as <flakyFailure>")
      ->type_name("N")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--fail-on-flaky", o.fail_on_flaky,
               "Exit 1 when a test passed only on a retry (default: flaky passes count as passed)");
  app.add_option("--output-limit", o.output_limit,
                 "Log lines (and at most as many KiB) of a unit kept in the report for a "
                 "synthesized error (crash, timeout, missing JUnit) and from each earlier attempt "
                 "of a retried test; also caps --tail-lines")
      ->type_name("LINES")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

// What runs and where its plan comes from.
void add_selection_options(CLI::App& app, Options& o) {
  app.add_option("--timings", o.timings,
                 "Timing history file (default: .shardrun/timings.json beside the suite)")
      ->type_name("PATH");
  app.add_flag("--dry-run", o.dry_run, "Discover and plan, print the plan, run nothing");
  app.add_flag("--last-failed", o.last_failed,
               "Run only the tests (or, for entries without test ids, the entries) that failed "
               "or errored in the last run recorded in the runs folder; everything when none did");
  app.add_flag("--list", o.list,
               "Print the suite's entries and, for entries with `discover` or `files`, their "
               "test ids (one per line), then exit without running anything");
  app.add_option("--shard-index", o.shard_index,
                 "This CI machine's part, 0-based (default: from CI_NODE_INDEX, CIRCLE_NODE_INDEX, "
                 "BUILDKITE_PARALLEL_JOB)")
      ->type_name("I");
  app.add_option("--shard-count", o.shard_count, "Number of CI machines sharing the suite")
      ->type_name("M");
  app.add_option("--plan-out", o.plan_out, "Write the units of this run to FILE (JSON)")
      ->type_name("FILE");
  app.add_option("--plan-in", o.plan_in,
                 "Run exactly the units in FILE (from --plan-out), e.g. on a retried CI node")
      ->type_name("FILE");
}

CLI::App* add_plan_command(CLI::App& app, Options& o) {
  CLI::App* plan = app.add_subcommand(
      "plan", "Discover and plan without running: units, predicted shards and makespan");
  plan->add_option("suite", o.suite, "The suite file")->required()->type_name("SUITE");
  plan->add_option("entries", o.entries, "Plan only these entries (their names)")
      ->type_name("ENTRY...");
  plan->add_option("-j,--workers", o.workers, "Number of shards, or \"auto\"")->type_name("N|auto");
  plan->add_option("--timings", o.timings, "Timing history file")->type_name("PATH");
  plan->add_flag("--json", o.json, "Print the plan as JSON");
  plan->add_option("--runs-dir", o.runs_dir,
                   "Folder for run directories (discovery logs; default: .shardrun/runs beside "
                   "the suite)")
      ->type_name("DIR");
  return plan;
}

// --queue and its settings (a run, and `shardrun report`).
struct QueueTexts {
  std::string lease = "30s";
  std::string ttl = "24h";
  std::string init_timeout = "5m";
};

void add_queue_options(CLI::App& app, Options& o, QueueTexts& t, bool report) {
  app.add_option("--queue", o.queue,
                 report ? "The shared queue whose run to report: redis://[USER@]HOST:PORT/RUN_ID"
                        : "Take units from a queue shared by several CI machines, on Redis: "
                          "redis://[USER@]HOST:PORT/RUN_ID (same URL and suite on every node; "
                          "the first node plans; password from SHARDRUN_QUEUE_PASSWORD; no TLS)")
      ->type_name("URL");
  app.add_option("--queue-lease", t.lease,
                 report ? "A run whose nodes all stopped heartbeating this long is over (exit 3)"
                        : "A node that stops heartbeating this long loses its units to other "
                          "nodes (heartbeat every third of it)")
      ->type_name("DURATION")
      ->capture_default_str();
  if (report) return;
  app.add_option("--queue-max-requeues", o.queue_max_requeues,
                 "Times a unit is run again after its node was lost; then it is reported as "
                 "one error testcase")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--queue-nodes", o.queue_nodes,
                 "How many nodes will take part: the planning node makes units for N x -j "
                 "shards (default: CI_NODE_TOTAL, CIRCLE_NODE_TOTAL or "
                 "BUILDKITE_PARALLEL_JOB_COUNT, else 1; too few makes too few, too large units)")
      ->type_name("N")
      ->check(CLI::PositiveNumber);
  app.add_option("--queue-ttl", t.ttl, "Expiry of the run's keys in Redis")
      ->type_name("DURATION")
      ->capture_default_str();
  app.add_option("--queue-init-timeout", t.init_timeout,
                 "How long a node waits for another node's plan of the run")
      ->type_name("DURATION")
      ->capture_default_str();
}

CLI::App* add_report_command(CLI::App& app, Options& o, QueueTexts& t) {
  CLI::App* report = app.add_subcommand(
      "report",
      "Wait until a shared-queue run has no unit queued or running, then write the merged "
      "report of every node's accepted results; exit with the whole run's status");
  add_queue_options(*report, o, t, true);
  report->add_option("--junit", o.junit, "Where to write the merged JUnit report")
      ->type_name("PATH")
      ->capture_default_str();
  report
      ->add_option("--output-limit", o.output_limit,
                   "Lines (and as many KiB) kept from each earlier attempt of a retried test")
      ->type_name("LINES")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  report
      ->add_option("--run-json", o.run_json,
                   "Also write the run's run.json here (a local run's format; each unit with "
                   "the node that ran it, and the lost units)")
      ->type_name("PATH");
  report
      ->add_option("--timings", o.timings,
                   "Update this timing history from every accepted unit, as a local run does "
                   "(needs the SUITE the nodes ran)")
      ->type_name("PATH");
  report->add_option("suite", o.suite, "The suite file the nodes ran (for --timings)")
      ->type_name("SUITE");
  return report;
}

void check_queue_options(Options& o, const QueueTexts& t) {
  o.queue_lease = duration_option(t.lease, "--queue-lease");
  o.queue_ttl = duration_option(t.ttl, "--queue-ttl");
  o.queue_init_timeout = duration_option(t.init_timeout, "--queue-init-timeout");
  if (o.queue_lease < Millis(300)) throw UsageError("--queue-lease: at least 300ms");
  if (o.queue_ttl < std::chrono::minutes(1)) throw UsageError("--queue-ttl: at least 1m");
  if (!o.queue) {
    if (o.queue_nodes) throw UsageError("--queue-nodes goes only with --queue");
    return;
  }
  (void)parse_queue_url(*o.queue);  // UsageError for a bad URL, before anything runs
  if (o.shard_count || o.shard_index)
    throw UsageError(
        "--queue and --shard-index/--shard-count do not go together (the queue "
        "shares the units among the nodes)");
  if (o.plan_in) throw UsageError("--queue and --plan-in do not go together");
}

CLI::App* add_merge_command(CLI::App& app, Options& o) {
  CLI::App* merge = app.add_subcommand("merge", "Merge JUnit XML files into one report");
  merge->add_option("-o,--output", o.merge_output, "The merged report")
      ->required()
      ->type_name("OUT");
  merge->add_option("inputs", o.merge_inputs, "JUnit files to merge")->required()->type_name("IN");
  return merge;
}

// The checks of a run's options that CLI11 cannot express.
void check_run_options(Options& o, const std::string& kill_grace) {
  if (o.suite.empty())
    throw UsageError("no suite file given (usage: shardrun [OPTIONS] SUITE.yaml)");
  o.kill_grace = duration_option(kill_grace, "--kill-grace");
  if (o.junit.empty()) throw UsageError("--junit: the report path is empty");
  if (o.summary_md && o.summary_md->empty()) throw UsageError("--summary-md: the path is empty");
  if (o.list && o.plan_in) throw UsageError("--list and --plan-in do not go together");
  if (o.last_failed && o.plan_in)
    throw UsageError("--last-failed and --plan-in do not go together");
  if (!o.entries.empty() && o.plan_in)
    throw UsageError("entry names and --plan-in do not go together (the plan file says what runs)");
  if (o.shard_index.has_value() != o.shard_count.has_value())
    throw UsageError("--shard-index and --shard-count go together");
  if (o.shard_count &&
      (*o.shard_count < 1 || *o.shard_index < 0 || *o.shard_index >= *o.shard_count))
    throw UsageError(fmt::format("--shard-index {} is not in 0..{} (--shard-count {})",
                                 *o.shard_index, *o.shard_count - 1, *o.shard_count));
}

}  // namespace

CommandLine parse_command_line(int argc, const char* const* argv) {
  CommandLine result;
  Options& o = result.options;
  CLI::App app(kDescription, "shardrun");
  app.set_version_flag("--version", version_text());
  app.require_subcommand(0, 1);
  app.fallthrough(false);

  std::string kill_grace = "10s";
  add_run_options(app, o, kill_grace);
  add_selection_options(app, o);
  CLI::App* plan = add_plan_command(app, o);
  CLI::App* merge = add_merge_command(app, o);
  CLI::App* timeline = add_timeline_command(app, o);
  QueueTexts queue_texts;
  add_queue_options(app, o, queue_texts, false);
  CLI::App* report = add_report_command(app, o, queue_texts);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    result.print_and_exit = app.help();
    return result;
  } catch (const CLI::CallForAllHelp&) {
    result.print_and_exit = app.help("", CLI::AppFormatMode::All);
    return result;
  } catch (const CLI::CallForVersion&) {
    result.print_and_exit = version_text() + "\n";
    return result;
  } catch (const CLI::ParseError& e) {
    throw UsageError(fmt::format("{} (see shardrun --help)", e.what()));
  }

  if (merge->parsed()) {
    o.command = Options::Command::kMerge;
    return result;
  }
  if (timeline->parsed()) {
    o.command = Options::Command::kTimeline;
    return result;
  }
  if (report->parsed()) {
    o.command = Options::Command::kReport;
    check_queue_options(o, queue_texts);
    if (!o.queue) throw UsageError("report: --queue URL is required");
    if (o.timings && o.suite.empty())
      throw UsageError("report: --timings needs the suite file the nodes ran (report ... SUITE)");
    return result;
  }
  if (plan->parsed()) o.command = Options::Command::kPlan;
  check_run_options(o, kill_grace);
  check_queue_options(o, queue_texts);
  return result;
}

}  // namespace shardrun
