// RedisQueue's scripts against a real redis-server: publish once, longest
// first with fencing tokens, lease expiry and its bound, exactly-once
// completion, new units, and an expiry on every key.
#include <catch2/catch.hpp>

#include <set>
#include <thread>

#include "redis_server.hpp"
#include "shardrun/queue.hpp"

using shardrun::QueueOptions;
using shardrun::QueueUnit;
using shardrun::RedisConnection;
using shardrun::RedisQueue;
using shardrun::testing::RedisServer;
using Answer = RedisQueue::Reservation::Answer;
using namespace std::chrono_literals;

namespace {

QueueUnit unit(std::size_t id, double seconds, std::string entry = "api",
               std::vector<std::string> tests = {"t/a.py::x"}) {
  return QueueUnit{id, seconds, std::move(entry), std::move(tests)};
}

RedisQueue::Lease take(RedisQueue& queue, const std::string& node,
                       std::chrono::milliseconds lease = 30s) {
  auto reservation = queue.reserve(node, lease);
  REQUIRE(reservation.answer == Answer::kUnit);
  REQUIRE(reservation.lease);
  return *reservation.lease;
}

}  // namespace

TEST_CASE("only the first publish publishes; the second changes nothing") {
  RedisServer server;
  RedisConnection redis(server.url(), std::nullopt);
  RedisQueue queue(redis, server.url());
  CHECK(queue.publish({unit(0, 1.0), unit(1, 2.0)}));
  CHECK_FALSE(queue.publish({unit(0, 99.0, "other"), unit(7, 50.0)}));

  auto first = take(queue, "n1");
  CHECK(first.unit.id == 1);
  CHECK(first.unit.predicted_seconds == 2.0);
  CHECK(first.unit.entry == "api");
  CHECK(take(queue, "n1").unit.id == 0);
  CHECK(queue.reserve("n1", 30s).answer == Answer::kNotYet);  // both leased, none queued
}

TEST_CASE("nothing published yet: reserve answers not yet, never done") {
  RedisServer server;
  RedisConnection redis(server.url(), std::nullopt);
  RedisQueue queue(redis, server.url());
  CHECK(queue.reserve("n1", 30s).answer == Answer::kNotYet);
  CHECK(queue.publish({}));
  CHECK(queue.reserve("n1", 30s).answer == Answer::kDone);
}

TEST_CASE("reserve hands out the longest unit first, with increasing tokens; done when empty") {
  RedisServer server;
  RedisConnection redis(server.url(), std::nullopt);
  RedisQueue queue(redis, server.url());
  REQUIRE(queue.publish({unit(0, 3.5), unit(1, 0.25, "web", {"a b", "\"; touch pwned"}),
                         unit(2, 12.0), unit(3, 7.0)}));

  std::vector<std::size_t> order;
  std::int64_t last_token = 0;
  for (int i = 0; i < 4; ++i) {
    auto lease = take(queue, i % 2 ? "n2" : "n1");
    CHECK(lease.token > last_token);
    CHECK(lease.requeues == 0);
    last_token = lease.token;
    order.push_back(lease.unit.id);
    if (lease.unit.id == 1) {  // the payload survives the trip, quotes and all
      CHECK(lease.unit.entry == "web");
      CHECK(lease.unit.tests == std::vector<std::string>{"a b", "\"; touch pwned"});
      CHECK(lease.unit.predicted_seconds == 0.25);
    }
    CHECK(queue.complete(lease.unit.id, lease.token, "ok", {}).accepted);
  }
  CHECK(order == std::vector<std::size_t>{2, 3, 0, 1});
  CHECK(queue.reserve("n1", 30s).answer == Answer::kDone);
}

TEST_CASE("an expired lease is reclaimed by the next reserve, with its requeue count") {
  RedisServer server;
  RedisConnection redis(server.url(), std::nullopt);
  RedisQueue queue(redis, server.url());
  REQUIRE(queue.publish({unit(0, 5.0), unit(1, 1.0)}));

  auto dead = take(queue, "dead-node", 1s);
  REQUIRE(dead.unit.id == 0);
  auto alive = take(queue, "n2", 30s);
  REQUIRE(alive.unit.id == 1);
  // Within the lease nothing is reclaimed.
  CHECK(queue.reserve("n2", 30s).answer == Answer::kNotYet);

  std::this_thread::sleep_for(1500ms);
  auto again = take(queue, "n2", 30s);
  CHECK(again.unit.id == 0);
  CHECK(again.requeues == 1);
  CHECK(again.lost_by == "dead-node");
  CHECK(alive.lost_by.empty());
  CHECK(again.token > alive.token);
  // The dead node's late result is refused and the current holder's accepted.
  CHECK_FALSE(queue.complete(0, dead.token, "late", {}).accepted);
  CHECK(queue.complete(0, again.token, "current", {}).accepted);
  CHECK(queue.result(0) == "current");
}

TEST_CASE("heartbeat keeps a node's leases; without it they expire") {
  RedisServer server;
  RedisConnection redis(server.url(), std::nullopt);
  RedisQueue queue(redis, server.url());
  REQUIRE(queue.publish({unit(0, 5.0), unit(1, 4.0), unit(2, 3.0)}));
  auto a = take(queue, "beating", 1s);
  auto b = take(queue, "beating", 1s);
  auto c = take(queue, "silent", 1s);

  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(500ms);
    CHECK(queue.heartbeat("beating", 1s) == 2);
  }
  // 1.5 s on: the silent node's lease is gone, the beating node's two are not.
  auto reclaimed = take(queue, "other", 30s);
  CHECK(reclaimed.unit.id == c.unit.id);
  CHECK(queue.reserve("other", 30s).answer == Answer::kNotYet);
  CHECK(queue.heartbeat("silent", 1s) == 0);
  CHECK(queue.complete(a.unit.id, a.token, "", {}).accepted);
  CHECK(queue.complete(b.unit.id, b.token, "", {}).accepted);
}

TEST_CASE("past max_requeues an expiring unit goes to lost, and the queue is done") {
  RedisServer server;
  RedisConnection redis(server.url(), std::nullopt);
  QueueOptions options;
  options.max_requeues = 2;
  RedisQueue queue(redis, server.url(), options);
  REQUIRE(queue.publish({unit(0, 1.0)}));

  for (int requeues = 0; requeues <= 2; ++requeues) {
    auto lease = take(queue, "killer", 200ms);
    CHECK(lease.unit.id == 0);
    CHECK(lease.requeues == requeues);
    std::this_thread::sleep_for(300ms);
  }
  // Its third lease expired: lost, not queued again.
  CHECK(queue.reserve("n", 30s).answer == Answer::kDone);
  CHECK(queue.lost() == std::vector<std::size_t>{0});
  CHECK_FALSE(queue.result(0));
}

TEST_CASE("complete: a stale token changes nothing; the current one stores and queues new units") {
  RedisServer server;
  RedisConnection redis(server.url(), std::nullopt);
  QueueOptions options;
  options.max_result_bytes = 8;
  RedisQueue queue(redis, server.url(), options);
  REQUIRE(queue.publish({unit(4, 10.0), unit(9, 1.0)}));
  auto lease = take(queue, "n1");
  REQUIRE(lease.unit.id == 4);

  auto stale = queue.complete(4, lease.token - 1, "bad", {unit(0, 50.0)});
  CHECK_FALSE(stale.accepted);
  CHECK(stale.new_ids.empty());
  CHECK_FALSE(queue.result(4));
  CHECK_FALSE(queue.complete(9, lease.token, "not its lease", {}).accepted);

  auto done = queue.complete(4, lease.token, "<testcase/> and more",
                             {unit(0, 0.5, "api", {"h1"}), unit(0, 6.0, "api", {"h2"})});
  CHECK(done.accepted);
  CHECK(done.new_ids == std::vector<std::size_t>{10, 11});  // above the largest published id
  CHECK(queue.result(4) == "<testcas");                     // cut to max_result_bytes
  // Accepted once: the same token again is refused.
  CHECK_FALSE(queue.complete(4, lease.token, "twice", {}).accepted);
  CHECK(queue.result(4) == "<testcas");

  auto next = take(queue, "n2");
  CHECK(next.unit.id == 11);
  CHECK(next.unit.tests == std::vector<std::string>{"h2"});
  CHECK(take(queue, "n2").unit.id == 9);
  CHECK(take(queue, "n2").unit.id == 10);
}

namespace {

// After each script: every key of the run exists with an expiry within the ttl.
std::set<std::string> keys_with_expiry(RedisConnection& redis, const std::string& prefix) {
  std::set<std::string> names;
  for (const auto& key : redis.command({"KEYS", prefix + "*"}).elements) {
    INFO(key.str);
    long long ttl = redis.command({"TTL", key.str}).integer;
    CHECK(ttl > 0);
    CHECK(ttl <= 600);
    names.insert(key.str.substr(prefix.size()));
  }
  return names;
}

}  // namespace

TEST_CASE("every key of the run has an expiry after each script, other runs untouched") {
  RedisServer server;
  RedisConnection redis(server.url(), std::nullopt);
  QueueOptions options;
  options.ttl = std::chrono::seconds(600);
  options.max_requeues = 0;
  const std::string prefix = "shardrun:{run-a}:";
  RedisQueue queue(redis, server.url("run-a"), options);
  RedisQueue other(redis, server.url("run-b"));
  REQUIRE(other.publish({unit(0, 1.0)}));

  REQUIRE(queue.publish({unit(0, 3.0), unit(1, 2.0), unit(2, 1.0)}));
  CHECK(keys_with_expiry(redis, prefix) ==
        std::set<std::string>{"published", "queue", "units", "predicted", "next_id"});
  auto lost = take(queue, "n1", 200ms);
  CHECK(keys_with_expiry(redis, prefix).size() == 9);  // + leases, owner, token, tokens
  std::this_thread::sleep_for(300ms);
  auto lease = take(queue, "n1");                       // reclaims the first into lost
  CHECK(keys_with_expiry(redis, prefix).size() == 12);  // + requeues, lost, lost_by
  REQUIRE(queue.lost() == std::vector<std::size_t>{lost.unit.id});
  auto last = take(queue, "n1");
  CHECK(queue.heartbeat("n1", 30s) == 2);
  REQUIRE(queue.complete(lease.unit.id, lease.token, "r", {unit(0, 1.0)}).accepted);
  // The keys a broken script would forget to expire are all there.
  CHECK(keys_with_expiry(redis, prefix) ==
        std::set<std::string>{"published", "queue", "units", "predicted", "leases", "owner",
                              "token", "tokens", "requeues", "lost", "results", "next_id",
                              "lost_by"});
  CHECK(last.unit.id == 2);

  auto other_lease = take(other, "n9");
  CHECK(other_lease.unit.id == 0);
  CHECK(other_lease.unit.predicted_seconds == 1.0);
}

TEST_CASE("scripts the server forgot (SCRIPT FLUSH, a restart) are loaded again") {
  RedisServer server;
  RedisConnection redis(server.url(), std::nullopt);
  RedisQueue queue(redis, server.url());
  REQUIRE(queue.publish({unit(0, 1.0)}));
  redis.command({"SCRIPT", "FLUSH"});
  CHECK(take(queue, "n1").unit.id == 0);
  CHECK(queue.reserve("n1", 30s).answer == Answer::kNotYet);
}

TEST_CASE("release: the current token puts the unit back at once, no requeue counted") {
  RedisServer server;
  RedisConnection redis(server.url(), std::nullopt);
  RedisQueue queue(redis, server.url(), QueueOptions{std::chrono::hours(1), 0});
  REQUIRE(queue.publish({unit(0, 5.0), unit(1, 1.0)}));
  auto held = take(queue, "stopping-node");
  REQUIRE(held.unit.id == 0);
  CHECK(queue.release(0, held.token));
  RedisQueue::Counts counts = queue.counts();
  CHECK(counts.queued == 2);
  CHECK(counts.leased == 0);
  // Back in its place (longest first), not counted: with max_requeues 0 a
  // counted requeue would have made it lost.
  auto again = take(queue, "n2");
  CHECK(again.unit.id == 0);
  CHECK(again.requeues == 0);
  CHECK(again.lost_by.empty());
  CHECK(again.token > held.token);
  CHECK(queue.lost().empty());
  CHECK(queue.complete(0, again.token, "done", {}).accepted);
  CHECK(queue.result(0) == "done");
}

TEST_CASE("release: a stale token changes nothing") {
  RedisServer server;
  RedisConnection redis(server.url(), std::nullopt);
  RedisQueue queue(redis, server.url());
  REQUIRE(queue.publish({unit(0, 5.0)}));
  auto first = take(queue, "n1");
  REQUIRE(queue.release(0, first.token));
  auto second = take(queue, "n2");
  // n1's old token no longer holds the unit: n2 keeps its lease.
  CHECK_FALSE(queue.release(0, first.token));
  CHECK_FALSE(queue.release(0, second.token + 1));
  CHECK_FALSE(queue.release(7, second.token));  // no such unit
  RedisQueue::Counts counts = queue.counts();
  CHECK(counts.queued == 0);
  CHECK(counts.leased == 1);
  CHECK(queue.holds(0, second.token));
  CHECK(queue.reserve("n3", 30s).answer == Answer::kNotYet);
  CHECK(queue.complete(0, second.token, "n2's", {}).accepted);
  CHECK(queue.result(0) == "n2's");
}

TEST_CASE("release after the lease expired: reclaimed and counted, the token refused") {
  RedisServer server;
  RedisConnection redis(server.url(), std::nullopt);
  RedisQueue queue(redis, server.url());
  REQUIRE(queue.publish({unit(0, 5.0)}));
  auto late = take(queue, "n1", 300ms);
  std::this_thread::sleep_for(500ms);
  CHECK_FALSE(queue.release(0, late.token));
  auto again = take(queue, "n2");
  CHECK(again.requeues == 1);
  CHECK(again.lost_by == "n1");
}
