#pragma once
// A queue of units shared by several CI machines, on Redis (issue 11, parts 1
// and 2): the queue URL, a synchronous connection (hiredis 0.14) and the
// protocol, atomic Lua scripts run with EVALSHA. The UnitSource over it, on
// a thread of its own so that the scheduler never waits on a round trip, is
// RedisSource (redis_source.hpp).
//
// Key layout: every key is under "shardrun:{RUN_ID}:" (the braces put them in
// one cluster slot), and every script sets the expiry (`ttl`) on each key it
// writes, so an abandoned run disappears by itself.
//
//   published   string  "1" once a node has published the plan
//   queue       zset    unit id -> predicted seconds, the units waiting
//   units       hash    unit id -> payload: JSON {"entry": NAME, "tests": [IDS]}
//   predicted   hash    unit id -> predicted seconds (to requeue a lost lease)
//   leases      zset    unit id -> lease deadline, ms of the server's TIME
//   owner       hash    unit id -> node holding its lease
//   token       hash    unit id -> fencing token of its current lease
//   tokens      string  INCR counter, the last fencing token given
//   requeues    hash    unit id -> times its lease expired
//   lost        set     unit ids whose leases expired more than max_requeues times
//   results     hash    unit id -> result of the accepted completion (capped): JSON
//                       {"shardrun_result": 1, "unit": {...}, "junit": FRAGMENT}
//   next_id     string  the last unit id given (units queued by complete count on)
//   lost_by     hash    unit id -> the node whose lease of it expired last
//   planner     string  the node planning the run (SET NX PX: expires if it dies)
//   digest      string  the suite digest the plan was made with
//
// The queue carries unit ids, entry names and test ids, never a command: a
// node runs only what its own suite file says. Deadlines are the server's
// TIME, so clocks of the nodes do not matter. Script contracts: see RedisQueue.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shardrun/error.hpp"

struct redisContext;

namespace shardrun {

/// `redis://[USER@]HOST:PORT/RUN_ID`.
struct QueueUrl {
  std::string user;  ///< empty: the default user
  std::string host;
  int port = 0;
  std::string run_id;  ///< [A-Za-z0-9._-]{1,64}

  /// "shardrun:{RUN_ID}:", the prefix of every key of the run.
  std::string key_prefix() const { return "shardrun:{" + run_id + "}:"; }
};

/// Parses a queue URL. Throws UsageError for anything else, for a password in
/// the URL (it would show in `ps` and CI logs: it comes only from
/// SHARDRUN_QUEUE_PASSWORD; the message never repeats it) and for
/// `rediss://` (hiredis 0.14 has no TLS).
QueueUrl parse_queue_url(std::string_view url);

/// A failure talking to Redis: unreachable, timed out, or the server's error
/// reply (what() has the server's text, never a command's arguments).
class QueueError : public Error {
 public:
  explicit QueueError(const std::string& message) : Error(message, ExitCode::kInfra) {}
};

/// A reply, owned. Status replies ("OK") are strings.
struct RedisReply {
  enum class Kind { kNil, kInteger, kString, kArray, kError };
  Kind kind = Kind::kNil;
  long long integer = 0;
  std::string str;  ///< kString, kError
  std::vector<RedisReply> elements;

  bool is_nil() const { return kind == Kind::kNil; }
};

/// One synchronous connection (hiredis). Not thread-safe: one per thread.
class RedisConnection {
 public:
  /// Connects within `timeout` (also each command's timeout), then sends AUTH
  /// when a password is given (`AUTH USER PASSWORD` with the URL's user). A
  /// user without a password is a UsageError. Throws QueueError. The caller
  /// reads the password from SHARDRUN_QUEUE_PASSWORD (the app, when `--queue`
  /// is wired, with the man page's ENVIRONMENT).
  RedisConnection(const QueueUrl& url, const std::optional<std::string>& password,
                  std::chrono::milliseconds timeout = std::chrono::seconds(5));
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  /// Sends one command, arguments binary-safe. An error reply throws
  /// QueueError with the server's text; so does a broken connection (after
  /// which every call throws).
  RedisReply command(const std::vector<std::string>& argv);

 private:
  redisContext* context_ = nullptr;
  std::string where_;  ///< "HOST:PORT", for messages
};

/// A unit as the queue holds it.
struct QueueUnit {
  std::size_t id = 0;
  double predicted_seconds = 0;
  std::string entry;               ///< the entry's name in the suite
  std::vector<std::string> tests;  ///< test ids
  int attempt = 0;                 ///< 0: planned; n: the n-th retry of failed tests
};

/// The payload stored for a unit, and back (QueueError if malformed).
std::string encode_unit_payload(const QueueUnit& unit);
void decode_unit_payload(std::string_view payload, QueueUnit& unit);

struct QueueOptions {
  std::chrono::seconds ttl = std::chrono::hours(24);  ///< expiry of every key
  int max_requeues = 2;                    ///< expired leases a unit survives; then it is lost
  std::size_t max_result_bytes = 1 << 20;  ///< a result is cut to this
};

/// The run's queue on one connection. Each call is one atomic script.
class RedisQueue {
 public:
  /// Loads the scripts (SCRIPT LOAD, once; reloaded if the server forgot them).
  RedisQueue(RedisConnection& connection, const QueueUrl& url, QueueOptions options = {});

  /// Only the first caller of a run publishes: stores each unit (payload,
  /// predicted seconds) and queues it, longest first. Returns whether this
  /// call published; a later call changes nothing. Unit ids must be unique;
  /// units queued later get ids above the largest.
  bool publish(const std::vector<QueueUnit>& units);

  struct Lease {
    QueueUnit unit;
    std::int64_t token = 0;  ///< fencing token, increasing across the run
    int requeues = 0;        ///< how many earlier leases of this unit expired
    std::string lost_by;     ///< the node whose lease expired last ("" if none)
  };
  struct Reservation {
    enum class Answer { kUnit, kNotYet, kDone };
    Answer answer = Answer::kDone;
    std::optional<Lease> lease;  ///< with kUnit
  };
  /// First reclaims every expired lease (the unit goes back to the queue and
  /// its requeue count goes up; past max_requeues it goes to `lost`), then
  /// leases the longest queued unit to `node` for `lease` with a new token.
  /// kNotYet: nothing queued but units leased, or nothing published yet;
  /// kDone: published, nothing queued and nothing leased.
  Reservation reserve(const std::string& node, std::chrono::milliseconds lease);

  /// Reclaims expired leases, then extends every lease `node` still holds to
  /// now + `lease`. Returns how many it extended.
  int heartbeat(const std::string& node, std::chrono::milliseconds lease);

  struct Completion {
    bool accepted = false;
    std::vector<std::size_t> new_ids;  ///< ids given to `new_units`, in order
  };
  /// Reclaims expired leases, then accepts only if `token` is the unit's
  /// current lease token: ends the lease, stores `result` (cut to
  /// max_result_bytes) and queues `new_units` (their ids are ignored: the
  /// queue gives new ones). A stale token changes nothing (accepted false).
  Completion complete(std::size_t unit_id, std::int64_t token, std::string_view result,
                      const std::vector<QueueUnit>& new_units);

  /// Reclaims expired leases, then, only if `token` is the unit's current
  /// lease token, ends the lease and puts the unit back in the queue (by its
  /// predicted seconds) without counting a requeue: a unit reserved but never
  /// run, its node stopping. Returns whether it released; a stale token
  /// changes nothing.
  bool release(std::size_t unit_id, std::int64_t token);

  /// The accepted result of a unit, if any.
  std::optional<std::string> result(std::size_t unit_id);
  /// Unit ids in `lost`, ascending.
  std::vector<std::size_t> lost();

  // Plain reads and writes outside the scripts (queue_state.cpp).

  struct Counts {
    bool published = false;
    std::size_t queued = 0;
    std::size_t leased = 0;
  };
  Counts counts();
  /// Whether `token` is still the unit's lease and its deadline has not
  /// passed by the server's clock: a completion now would be accepted.
  bool holds(std::size_t unit_id, std::int64_t token);
  /// The planner lock (`planner`, SET NX with an expiry of `hold`): true if
  /// `node` took it or holds it already (then it is extended).
  bool lock_planner(const std::string& node, std::chrono::milliseconds hold);
  /// The suite digest (`digest`, with the run's ttl) the plan was made with.
  void set_digest(const std::string& digest);
  std::optional<std::string> digest();

  /// Everything `shardrun report` needs, read at once.
  struct Snapshot {
    bool published = false;
    std::int64_t now_ms = 0;                                   ///< the server's TIME
    std::vector<QueueUnit> units;                              ///< every unit, ascending id
    std::vector<std::size_t> queued;                           ///< waiting, ascending
    std::vector<std::pair<std::size_t, std::int64_t>> leased;  ///< id, deadline (ms)
    std::vector<std::pair<std::size_t, std::string>> results;  ///< accepted, ascending id
    std::vector<std::pair<std::size_t, int>> requeues;         ///< id, expired leases
    std::vector<std::size_t> lost;
    std::vector<std::pair<std::size_t, std::string>> lost_by;  ///< id, the node that lost it last
  };
  Snapshot snapshot();

 private:
  enum Script { kPublish, kReserve, kHeartbeat, kComplete, kRelease, kScriptCount };
  RedisReply run(Script script, std::vector<std::string> args);
  void load_scripts();

  RedisConnection& connection_;
  std::string prefix_;
  QueueOptions options_;
  std::vector<std::string> shas_;
};

}  // namespace shardrun
