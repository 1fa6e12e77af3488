#pragma once
// `--queue`: a run's units from the queue shared by several CI machines
// (issue 11). The queue module does the protocol; this file joins a run
// (planner lock, publish, digest), decides what a queued unit may be (trust:
// only the local suite's entries and discovered ids), and turns a finished
// unit into the JUnit fragment the queue stores.

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "shardrun/app.hpp"
#include "shardrun/cli.hpp"
#include "shardrun/job_builder.hpp"
#include "shardrun/junit_attempts.hpp"
#include "shardrun/plan.hpp"
#include "shardrun/queue_results.hpp"
#include "shardrun/redis_source.hpp"
#include "shardrun/run_listener.hpp"
#include "shardrun/status.hpp"
#include "shardrun/suite.hpp"

namespace shardrun::app {

/// The queue's URL, password (SHARDRUN_QUEUE_PASSWORD) and options.
RedisSourceOptions queue_options(const Options& options);

/// A digest of the suite file's bytes and every entry's discovered ids:
/// nodes of one run must agree on it (FNV-1a 64, hex; a consistency check,
/// not a security boundary: units are validated one by one).
std::string suite_digest(const std::filesystem::path& suite_file,
                         const std::vector<PlanEntry>& entries);

/// Joins the run: the first node to take the planner lock publishes `units`
/// with the digest; the others wait for the plan (--queue-init-timeout),
/// taking the lock over if its holder dies first. Throws UsageError (exit 2)
/// when the published digest is not this node's, Error (exit 3) on timeout.
/// Returns false when the run has nothing left to do. An interrupt while
/// waiting throws Error with 130 or 143.
bool join_queue(const RedisSourceOptions& source, std::chrono::milliseconds init_timeout,
                const std::string& digest, const std::vector<Unit>& units, const Suite& suite,
                StatusPrinter& status, const InterruptSource& interrupts);

/// --queue: the source's options after join_queue with this node's digest;
/// nullopt when the run has nothing left to do (said on the status line).
std::optional<RedisSourceOptions> join_queue_run(const Options& options, const Suite& suite,
                                                 const std::vector<PlanEntry>& entries,
                                                 const std::vector<Unit>& units,
                                                 StatusPrinter& status,
                                                 const InterruptSource& interrupts);

/// The hooks of a RedisSource for this suite. `record_of` finds a finished
/// unit's record (the listener's); `limit` caps texts (--output-limit).
/// `node`: this node's name, stored with each result.
RedisSourceHooks queue_hooks(const Suite& suite, const std::vector<PlanEntry>& entries,
                             const JobBuilder& jobs,
                             std::function<const UnitRecord*(const Unit&)> record_of,
                             junit::TextLimit limit, const std::string& node = "");

/// The run's RedisSource, its hooks over this suite and the listener's records.
std::unique_ptr<RedisSource> make_queue_source(const RedisSourceOptions& queue, const Suite& suite,
                                               const std::vector<PlanEntry>& entries,
                                               const JobBuilder& jobs, RunListener& listener,
                                               const Options& options);
/// After the scheduler: sends what is left, prints the source's notes and
/// records its problems (a refused result, Redis gone: exit 3).
void close_queue_source(RedisSource& source, RunListener& listener, StatusPrinter& status);

/// What `shardrun report` found, for its run.json (queue_report_run.cpp).
struct QueueRunReport {
  const RedisQueue::Snapshot& snap;
  std::vector<std::size_t> left;  ///< queued or leased when every node was gone
  std::string run_id;
  std::string suite_name;  ///< empty: the one the results name
  std::filesystem::path report;
  junit::Totals totals;
  std::vector<std::string> problems;
  int exit_code = 0;
};
/// run.json of the shared run: a local run's format; every accepted unit
/// with its node (`node`) and, as one shard, each node's shard; each lost
/// unit ("lost", the node that lost it last) and unit left ("not-run").
void write_queue_run_json(const std::filesystem::path& path, const QueueRunReport& run);
/// Updates the timing history at `timings_path` from every accepted unit as
/// a local run does (TimingRecorder; `suite_file` says each entry's
/// framework and groups). Returns how many units it learnt from.
std::size_t record_queue_timings(const std::filesystem::path& timings_path,
                                 const std::filesystem::path& suite_file,
                                 const RedisQueue::Snapshot& snap);

}  // namespace shardrun::app
