#pragma once
// argv -> Options (CLI11 only here). No YAML, no processes.

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "shardrun/process.hpp"

namespace shardrun {

struct Options {
  enum class Command { kRun, kMerge, kPlan, kTimeline, kReport };
  Command command = Command::kRun;

  // run
  std::filesystem::path suite;
  std::vector<std::string> entries;    ///< run/plan: only these entries (by name); empty: all
  bool list = false;                   ///< print the entries and their test ids, run nothing
  bool last_failed = false;            ///< run only what failed in the last run of the runs dir
  std::optional<std::string> workers;  ///< "auto" or a positive number, as given
  std::filesystem::path junit = "shardrun-junit.xml";
  std::optional<std::filesystem::path> runs_dir;  ///< default: .shardrun/runs beside the suite
  Millis kill_grace{10000};
  int max_failures = 0;
  int keep_runs = 20;
  bool keep_resources = false;  ///< leave per-shard schemas/databases for inspection
  std::size_t tail_lines = 30;
  /// Re-run failed tests up to this many times (DESIGN §8 rule 9); overrides
  /// every entry's `retries`. nullopt: each entry's own.
  std::optional<int> retries;
  bool fail_on_flaky = false;  ///< a test that passed only on a retry fails the run (exit 1)
  /// Lines of a unit's log (at most as many KiB) kept in the report for a
  /// synthesized error, and of each text kept from a retried test's earlier
  /// attempts; the terminal shows at most this many too.
  std::size_t output_limit = 80;
  std::optional<std::filesystem::path>
      timings;           ///< default: .shardrun/timings.json beside the suite
  bool dry_run = false;  ///< run: plan only (same as `shardrun plan`)
  bool json = false;     ///< plan: machine-readable output
  /// CI-node split, 0-based; from the flags or the CI's variables.
  std::optional<int> shard_index;
  std::optional<int> shard_count;
  std::optional<std::filesystem::path> plan_out;
  std::optional<std::filesystem::path> plan_in;
  /// Also append the run's Markdown summary here (as to $GITHUB_STEP_SUMMARY).
  std::optional<std::filesystem::path> summary_md;

  /// The queue shared by several CI machines (issue 11):
  /// `redis://[USER@]HOST:PORT/RUN_ID`; also `shardrun report`'s source.
  std::optional<std::string> queue;
  Millis queue_lease{30000};             ///< a node silent this long loses its units
  int queue_max_requeues = 2;            ///< lost leases a unit survives; then one error testcase
  Millis queue_ttl{24 * 3600 * 1000LL};  ///< expiry of the run's keys
  Millis queue_init_timeout{5 * 60 * 1000};  ///< how long a node waits for the plan
  /// report: where to write the shared run's run.json (nullopt: not written).
  std::optional<std::filesystem::path> run_json;
  /// How many nodes the planner plans for (N x --workers shards); unset:
  /// the CI variables' node count (detect_ci_node), else 1.
  std::optional<int> queue_nodes;
  // merge
  std::filesystem::path merge_output;
  std::vector<std::filesystem::path> merge_inputs;

  // timeline
  std::vector<std::filesystem::path> timeline_runs;  ///< run directories (or run.json files)
  std::optional<std::filesystem::path> timeline_output;
};

/// The result of parsing: options to act on, or text to print and exit 0
/// with (--help, --version).
struct CommandLine {
  Options options;
  std::optional<std::string> print_and_exit;
};

/// Throws UsageError (exit 2) for a bad command line.
CommandLine parse_command_line(int argc, const char* const* argv);

/// A CI node split from the environment: CI_NODE_INDEX/CI_NODE_TOTAL (GitLab,
/// 1-based), CIRCLE_NODE_INDEX/CIRCLE_NODE_TOTAL and BUILDKITE_PARALLEL_JOB/
/// BUILDKITE_PARALLEL_JOB_COUNT (0-based). Returns {index (0-based), count}.
/// Throws UsageError for values that are not numbers or out of range.
std::optional<std::pair<int, int>> detect_ci_node(
    const std::function<std::optional<std::string>(const char*)>& getenv);

/// Workers from --workers, else the suite's `workers`, else the CPU count.
/// Throws UsageError for a bad value.
int resolve_workers(const std::optional<std::string>& flag, std::optional<int> suite_workers,
                    bool suite_auto, int cpus);

}  // namespace shardrun
