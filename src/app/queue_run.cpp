// `--queue`: joining the shared run, trusting nothing the queue hands out,
// and the JUnit fragment stored as a unit's result (see queue_run.hpp).
#include "shardrun/queue_run.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <thread>

#include "shardrun/error.hpp"
#include "shardrun/file_text.hpp"
#include "shardrun/queue_results.hpp"
#include "shardrun/queue_trust.hpp"

namespace shardrun::app {

namespace fs = std::filesystem;

namespace {

QueueUnit to_queue_unit(const Suite& suite, const Unit& unit) {
  return QueueUnit{unit.id, unit.predicted_seconds, suite.tests.at(unit.entry).name, unit.tests,
                   unit.attempt};
}

// An interrupt (during discovery too) ends the wait, and never publishes a
// plan made from an interrupted discovery.
void stop_if_interrupted(const InterruptSource& interrupts) {
  if (interrupts.count() > 0)
    throw Error(
        "interrupted while joining the shared queue's run",
        interrupts.last_signal() == SIGTERM ? ExitCode::kTerminated : ExitCode::kInterrupted);
}

}  // namespace

RedisSourceOptions queue_options(const Options& options) {
  RedisSourceOptions o;
  o.url = parse_queue_url(*options.queue);
  if (const char* password = std::getenv("SHARDRUN_QUEUE_PASSWORD"))
    o.password = std::string(password);
  o.lease = options.queue_lease;
  o.queue.ttl = std::chrono::duration_cast<std::chrono::seconds>(options.queue_ttl);
  o.queue.max_requeues = options.queue_max_requeues;
  o.queue.max_result_bytes = std::max<std::size_t>(64 * 1024, options.output_limit * 1024 * 4);
  o.node = make_node_name();
  o.max_failures = options.max_failures;
  o.check_wait = std::min<std::chrono::milliseconds>(std::chrono::seconds(2), o.lease / 3);
  return o;
}

std::string suite_digest(const fs::path& suite_file, const std::vector<PlanEntry>& entries) {
  return run_digest(read_file_or_empty(suite_file), entries);
}

bool join_queue(const RedisSourceOptions& source, std::chrono::milliseconds init_timeout,
                const std::string& digest, const std::vector<Unit>& units, const Suite& suite,
                StatusPrinter& status, const InterruptSource& interrupts) {
  RedisConnection connection(source.url, source.password);
  RedisQueue queue(connection, source.url, source.queue);
  auto deadline = std::chrono::steady_clock::now() + init_timeout;
  bool told = false;
  stop_if_interrupted(interrupts);
  while (!queue.counts().published) {
    stop_if_interrupted(interrupts);
    if (queue.lock_planner(source.node, source.lease)) {
      std::vector<QueueUnit> published;
      for (const Unit& u : units) published.push_back(to_queue_unit(suite, u));
      queue.set_digest(digest);
      if (queue.publish(published))
        status.note(fmt::format("queue: this node planned the run: {} unit(s) published",
                                published.size()));
      break;
    }
    if (std::chrono::steady_clock::now() > deadline)
      throw Error(fmt::format("queue: no plan was published within --queue-init-timeout ({} s)",
                              init_timeout.count() / 1000),
                  ExitCode::kInfra);
    if (!told) status.note("queue: another node is planning the run; waiting for its plan");
    told = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  std::optional<std::string> published = queue.digest();
  if (published != digest)
    throw UsageError(fmt::format(
        "queue: this node's suite file or discovered test ids differ from the run's plan "
        "(digest {} here, {} published): every node of a run must have the same suite and tests",
        digest, published.value_or("none")));
  RedisQueue::Counts counts = queue.counts();
  return counts.queued > 0 || counts.leased > 0;
}

RedisSourceHooks queue_hooks(const Suite& suite, const std::vector<PlanEntry>& entries,
                             const JobBuilder& jobs,
                             std::function<const UnitRecord*(const Unit&)> record_of,
                             junit::TextLimit limit, const std::string& node) {
  std::vector<std::string> names;
  for (const Entry& e : suite.tests) names.push_back(e.name);
  auto known = std::make_shared<KnownIds>(known_ids(names, entries));
  RedisSourceHooks hooks;
  hooks.validate = [known](const QueueUnit& q) { return validate_unit(*known, q); };
  std::string suite_name = suite.name;
  hooks.refusal = [suite_name, node](const QueueUnit& q, const std::string& why) {
    return refused_result(suite_name, q, why, node);
  };
  hooks.entry_name = [&suite](const Unit& u) { return suite.tests.at(u.entry).name; };
  hooks.result_of = [&suite, &jobs, record_of, limit, node](const Unit& unit) {
    const UnitRecord* rec = record_of(unit);
    std::error_code ec;
    bool junit_cases = fs::exists(jobs.unit_junit(unit), ec);
    return stored_result(suite, unit, rec, node, junit_cases,
                         unit_fragment(suite, jobs.unit_junit(unit), rec, unit, limit));
  };
  return hooks;
}

std::optional<RedisSourceOptions> join_queue_run(const Options& options, const Suite& suite,
                                                 const std::vector<PlanEntry>& entries,
                                                 const std::vector<Unit>& units,
                                                 StatusPrinter& status,
                                                 const InterruptSource& interrupts) {
  RedisSourceOptions queue = queue_options(options);
  if (join_queue(queue, options.queue_init_timeout, suite_digest(options.suite, entries), units,
                 suite, status, interrupts))
    return queue;
  status.message("shardrun: the shared queue's run has nothing left to do");
  return std::nullopt;
}

std::unique_ptr<RedisSource> make_queue_source(const RedisSourceOptions& queue, const Suite& suite,
                                               const std::vector<PlanEntry>& entries,
                                               const JobBuilder& jobs, RunListener& listener,
                                               const Options& options) {
  auto record_of = [&listener](const Unit& unit) -> const UnitRecord* {
    const std::vector<UnitRecord>& records = listener.units();
    for (auto it = records.rbegin(); it != records.rend(); ++it)
      if (it->id == unit.id) return &*it;
    return nullptr;
  };
  junit::TextLimit limit{options.output_limit, options.output_limit * 1024};
  RedisSourceHooks hooks = queue_hooks(suite, entries, jobs, record_of, limit, queue.node);
  hooks.interrupted = [record_of](const Unit& unit) {
    const UnitRecord* rec = record_of(unit);
    return rec && rec->result == "interrupted";
  };
  return std::make_unique<RedisSource>(queue, std::move(hooks));
}

void close_queue_source(RedisSource& source, RunListener& listener, StatusPrinter& status) {
  std::vector<std::string> problems = source.close();
  for (const std::string& note : source.take_notes()) status.note(note);
  for (const Unit& unit : source.unreachable_left())
    listener.on_unit_not_run(unit, "queue unreachable");
  for (const std::string& problem : problems) listener.add_problem("shared queue", problem);
}

}  // namespace shardrun::app
