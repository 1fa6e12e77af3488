#pragma once
// A UnitSource over the shared queue (issue 11): the scheduler's units come
// from Redis, taken and completed by a thread of its own with its own
// connection, so that the scheduler loop never waits on a round trip, except
// for accept(), which waits at most `check_wait` (documented below).
//
// What the queue hands out is not trusted: every unit is turned into a local
// Unit by `validate` (a known entry, test ids among the ones this node
// discovered) before the scheduler can see it; a unit that fails is never
// run, its completion is an error result naming why (`refusal`).

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "shardrun/queue.hpp"
#include "shardrun/scheduler.hpp"
#include "shardrun/unit_source.hpp"

namespace shardrun {

struct RedisSourceOptions {
  QueueUrl url;
  std::optional<std::string> password;  ///< from SHARDRUN_QUEUE_PASSWORD
  QueueOptions queue;
  std::chrono::milliseconds lease{30000};  ///< heartbeats every third of it
  std::string node;                        ///< this node's name in `owner`
  int max_failures = 0;                    ///< --max-failures (0: never)
  /// accept() waits this long at most for the lease check; without an
  /// answer (Redis slow or away) the result is reported here and its
  /// completion decides later (a refusal then still ends the node, exit 3).
  std::chrono::milliseconds check_wait{2000};
};

/// What the app supplies: trust and results stay outside the queue module.
struct RedisSourceHooks {
  /// A queued unit → the local unit to run, or why it is refused. Called on
  /// the source's thread: must only read immutable state.
  std::function<std::variant<Unit, std::string>(const QueueUnit&)> validate;
  /// The result stored for a refused unit (a JUnit fragment with one error
  /// testcase naming why). Called on the source's thread.
  std::function<std::string(const QueueUnit&, const std::string& why)> refusal;
  /// A finished unit's result as stored in the queue (a JUnit fragment of its
  /// testcases, capped). Called from finished(), on the scheduler's thread.
  std::function<std::string(const Unit&)> result_of;
  /// Whether a finished unit was cut short by an interrupt of this node
  /// (SIGINT/SIGTERM): it is not completed; its lease runs out and another
  /// node runs it. Null: never.
  std::function<bool(const Unit&)> interrupted;
  /// The entry name of a local unit (for the units it queues).
  std::function<std::string(const Unit&)> entry_name;
};

class RedisSource final : public UnitSource {
 public:
  /// Connects (synchronously, before the run starts) and starts the thread.
  /// Throws QueueError when Redis cannot be reached.
  RedisSource(RedisSourceOptions options, RedisSourceHooks hooks);
  ~RedisSource() override;
  RedisSource(const RedisSource&) = delete;
  RedisSource& operator=(const RedisSource&) = delete;

  Take take(int shard) override;
  std::size_t waiting() const override;
  bool accept(int shard, const Unit& unit) override;
  void finished(int shard, const Unit& unit, const UnitVerdict& verdict) override;
  bool budget_spent() const override;
  std::vector<Unit> drain() override;

  /// After the scheduler returned: sends what is left to send (completions)
  /// for up to the lease, then stops the thread. Returns the problems of the
  /// run, for exit 3: a refused completion, Redis unreachable past the lease.
  std::vector<std::string> close();
  /// Units this node had reserved but did not start because Redis became
  /// unreachable (drain() keeps them for this): to report as skipped.
  std::vector<Unit> unreachable_left();
  /// Messages for the status line (refused units, lost connection), taken
  /// once each. Thread-safe.
  std::vector<std::string> take_notes();

 private:
  struct Completion {
    std::size_t id = 0;
    std::int64_t token = 0;
    std::string result;
    std::vector<QueueUnit> new_units;
  };
  struct Check {
    std::size_t id = 0;
    std::int64_t token = 0;
    std::optional<bool> answer;
  };

  void loop();
  /// One round: heartbeat when due, checks, completions, a reservation.
  void round(RedisQueue& queue, std::chrono::steady_clock::time_point& last_heartbeat);
  void reserve_one(RedisQueue& queue);
  void send_releases(RedisQueue& queue);
  /// Moves the units in ready_ to releases_ (mutex held).
  std::vector<Unit> release_ready();
  void note(std::string text);

  RedisSourceOptions options_;
  RedisSourceHooks hooks_;
  std::unique_ptr<RedisConnection> connection_;  // the thread's only

  mutable std::mutex mutex_;
  std::condition_variable wake_;      // the thread: something to do
  std::condition_variable answered_;  // accept(): a check answered
  bool stopping_ = false;
  // Something was asked of the thread since it last woke: a notify while it
  // was busy with a round is not lost (it runs another round at once).
  bool poked_ = false;
  bool want_unit_ = false;     // a shard asked; reserve one
  bool queue_done_ = false;    // reserve said "done"
  bool refused_ = false;       // a completion or check was refused: take nothing more
  bool unreachable_ = false;   // no answer for longer than the lease
  std::size_t queued_ = 1;     // the queue's size as last seen
  std::deque<Unit> ready_;     // reserved and validated, not taken yet
  std::vector<Unit> cut_off_;  // drained while Redis was unreachable
  std::map<std::size_t, std::int64_t> tokens_;  // unit id → token, units this node holds
  std::deque<Completion> completions_;
  // Reserved but not run (drained, stopping): unit id, token; given back to
  // the queue at once by the release script, no requeue counted.
  std::deque<std::pair<std::size_t, std::int64_t>> releases_;
  bool draining_ = false;  // drain() was called: reserve nothing more
  std::map<std::size_t, Check> checks_;
  std::size_t running_ = 0;  // handed to the scheduler, not finished
  int failed_tests_ = 0;
  std::vector<std::string> notes_;
  std::vector<std::string> problems_;
  std::thread thread_;
};

/// A node's name in the queue: "HOST-PID-RANDOM".
std::string make_node_name();

}  // namespace shardrun
