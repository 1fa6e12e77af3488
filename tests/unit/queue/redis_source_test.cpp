// RedisSource against a real redis-server: units arrive on a later take(),
// untrusted units are refused without reaching the scheduler, a late result
// is refused and ends the node's taking.
#include <catch2/catch.hpp>

#include <algorithm>
#include <mutex>
#include <thread>
#include <vector>

#include "redis_server.hpp"
#include "shardrun/redis_source.hpp"

using namespace shardrun;
using shardrun::testing::RedisServer;
using namespace std::chrono_literals;

namespace {

RedisSourceHooks hooks() {
  RedisSourceHooks h;
  h.validate = [](const QueueUnit& q) -> std::variant<Unit, std::string> {
    if (q.entry != "api") return "unknown entry " + q.entry;
    Unit unit;
    unit.tests = q.tests;
    unit.label = "api#" + std::to_string(q.id);
    return unit;
  };
  h.refusal = [](const QueueUnit&, const std::string& why) { return "refused: " + why; };
  h.result_of = [](const Unit& u) { return "result of " + u.label; };
  h.entry_name = [](const Unit&) { return std::string("api"); };
  return h;
}

RedisSourceOptions options(const RedisServer& server, std::chrono::milliseconds lease = 30s) {
  RedisSourceOptions o;
  o.url = server.url();
  o.lease = lease;
  o.node = "node-a";
  return o;
}

// take() until it answers something other than "not yet" (bounded).
UnitSource::Take take_settled(RedisSource& source) {
  for (int i = 0; i < 200; ++i) {
    UnitSource::Take t = source.take(0);
    if (t.answer != UnitSource::Answer::kNotYet) return t;
    std::this_thread::sleep_for(10ms);
  }
  return source.take(0);
}

}  // namespace

TEST_CASE("a reserved unit is handed over on a later take, then done after its completion") {
  RedisServer server;
  RedisConnection redis(server.url(), std::nullopt);
  RedisQueue queue(redis, server.url());
  queue.publish({QueueUnit{0, 5, "api", {"t::a"}}});
  RedisSource source(options(server), hooks());
  CHECK(source.waiting() == 1);
  UnitSource::Take first = source.take(0);
  CHECK(first.answer == UnitSource::Answer::kNotYet);  // the reservation is in flight
  UnitSource::Take t = take_settled(source);
  REQUIRE(t.answer == UnitSource::Answer::kUnit);
  CHECK(t.unit->tests == std::vector<std::string>{"t::a"});
  CHECK(source.accept(0, *t.unit));
  source.finished(0, *t.unit, UnitVerdict{});
  CHECK(take_settled(source).answer == UnitSource::Answer::kDone);
  CHECK(source.close().empty());
  CHECK(queue.result(0) == std::optional<std::string>("result of api#0"));
}

TEST_CASE("a unit that fails validation is completed as refused and never handed over") {
  RedisServer server;
  RedisConnection redis(server.url(), std::nullopt);
  RedisQueue queue(redis, server.url());
  queue.publish({QueueUnit{0, 5, "evil", {"; touch pwned"}}});
  RedisSource source(options(server), hooks());
  CHECK(take_settled(source).answer == UnitSource::Answer::kDone);
  CHECK(queue.result(0) == std::optional<std::string>("refused: unknown entry evil"));
  std::vector<std::string> notes = source.take_notes();
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].find("unknown entry evil") != std::string::npos);
  CHECK(source.close().empty());
}

TEST_CASE("a result after the lease expired is refused and the node takes nothing more") {
  RedisServer server;
  RedisConnection redis(server.url(), std::nullopt);
  RedisQueue queue(redis, server.url());
  queue.publish({QueueUnit{0, 5, "api", {"t::a"}}, QueueUnit{1, 1, "api", {"t::b"}}});
  RedisSource source(options(server, 300ms), hooks());
  UnitSource::Take t = take_settled(source);
  REQUIRE(t.answer == UnitSource::Answer::kUnit);
  // Another node reclaims the lease while this one is "frozen" (no heartbeat
  // can run while the test holds the lease past its deadline: it is short).
  RedisQueue other(redis, server.url());
  auto stolen = RedisQueue::Reservation{};
  for (int i = 0; i < 100 && stolen.answer != RedisQueue::Reservation::Answer::kUnit; ++i) {
    std::this_thread::sleep_for(20ms);
    redis.command({"ZADD", server.url().key_prefix() + "leases", "XX", "0", "0"});
    stolen = other.reserve("node-b", 30s);
    if (stolen.lease && stolen.lease->unit.id != 0) break;
  }
  REQUIRE(stolen.lease);
  CHECK(stolen.lease->unit.id == 0);
  CHECK_FALSE(source.accept(0, *t.unit));
  CHECK(source.take(0).answer == UnitSource::Answer::kDone);
  std::vector<std::string> problems = source.close();
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].find("lease expired") != std::string::npos);
}

TEST_CASE("a snapshot: queued, leased with deadlines, results, and the server's time") {
  RedisServer server;
  RedisConnection redis(server.url(), std::nullopt);
  RedisQueue queue(redis, server.url());
  CHECK_FALSE(queue.snapshot().published);
  queue.publish({QueueUnit{0, 5, "api", {"t::a"}}, QueueUnit{1, 3, "api", {"t::b"}},
                 QueueUnit{2, 1, "api", {"t::c"}}});
  auto first = queue.reserve("n", 30s);
  queue.complete(first.lease->unit.id, first.lease->token, "<r/>", {});
  auto second = queue.reserve("n", 30s);
  RedisQueue::Snapshot snap = queue.snapshot();
  CHECK(snap.published);
  CHECK(snap.queued == std::vector<std::size_t>{2});
  REQUIRE(snap.leased.size() == 1);
  CHECK(snap.leased[0].first == 1);
  CHECK(snap.leased[0].second > snap.now_ms);
  CHECK(snap.leased[0].second <= snap.now_ms + 30000);
  REQUIRE(snap.results.size() == 1);
  CHECK(snap.results[0] == std::pair<std::size_t, std::string>{0, "<r/>"});
  CHECK(snap.units.size() == 3);
  CHECK(queue.holds(1, second.lease->token));
  CHECK_FALSE(queue.holds(1, second.lease->token + 1));
  CHECK_FALSE(queue.holds(0, first.lease->token));  // completed
}

TEST_CASE("drain gives a reserved, unstarted unit back to the queue at once, uncounted") {
  RedisServer server;
  RedisConnection redis(server.url(), std::nullopt);
  RedisQueue queue(redis, server.url());
  queue.publish({QueueUnit{0, 5, "api", {"t::a"}}});
  RedisSource source(options(server), hooks());
  CHECK(source.take(0).answer == UnitSource::Answer::kNotYet);  // asks for a reservation
  for (int i = 0; i < 200 && queue.counts().leased == 0; ++i) std::this_thread::sleep_for(10ms);
  REQUIRE(queue.counts().leased == 1);
  std::vector<Unit> rest = source.drain();
  REQUIRE(rest.size() == 1);
  CHECK(rest[0].tests == std::vector<std::string>{"t::a"});
  CHECK(source.take(0).answer == UnitSource::Answer::kDone);  // stopping: nothing more
  for (int i = 0; i < 200 && queue.counts().queued == 0; ++i) std::this_thread::sleep_for(10ms);
  CHECK(queue.counts().queued == 1);
  CHECK(queue.counts().leased == 0);
  CHECK(source.close().empty());
  auto other = queue.reserve("node-b", 30s);
  REQUIRE(other.lease);
  CHECK(other.lease->unit.id == 0);
  CHECK(other.lease->requeues == 0);
}

TEST_CASE("an interrupted unit is given back to the queue, not completed") {
  RedisServer server;
  RedisConnection redis(server.url(), std::nullopt);
  RedisQueue queue(redis, server.url());
  queue.publish({QueueUnit{0, 5, "api", {"t::a"}}});
  RedisSourceHooks h = hooks();
  h.interrupted = [](const Unit&) { return true; };
  RedisSource source(options(server), std::move(h));
  UnitSource::Take t = take_settled(source);
  REQUIRE(t.answer == UnitSource::Answer::kUnit);
  source.finished(0, *t.unit, UnitVerdict{});
  CHECK(source.close().empty());
  CHECK(queue.counts().queued == 1);
  CHECK(queue.counts().leased == 0);
  CHECK_FALSE(queue.result(0));
  auto other = queue.reserve("node-b", 30s);
  REQUIRE(other.lease);
  CHECK(other.lease->requeues == 0);
}

TEST_CASE(
    "a lease check asked while the thread is busy is answered at once, not after its idle wait") {
  // The scheduler's thread finishes unit a (a completion: a round trip in
  // the queue's thread), asks for the next unit (a reservation) and then
  // checks unit b's lease, blocked in accept() until the answer. A check
  // posted while the thread was in that round used to wait for the thread's
  // 100 ms idle wait: on 2 shards every unit paid it (scripts/bench/queue.sh).
  RedisServer server;
  RedisConnection redis(server.url(), std::nullopt);
  RedisQueue queue(redis, server.url());
  std::vector<QueueUnit> units;
  for (std::size_t i = 0; i < 42; ++i) units.push_back(QueueUnit{i, 1, "api", {"t::a"}});
  queue.publish(units);
  RedisSource source(options(server), hooks());
  std::vector<std::chrono::steady_clock::duration> waits;
  for (int round = 0; round < 20; ++round) {
    UnitSource::Take a = take_settled(source);
    UnitSource::Take b = take_settled(source);
    REQUIRE(a.answer == UnitSource::Answer::kUnit);
    REQUIRE(b.answer == UnitSource::Answer::kUnit);
    REQUIRE(source.accept(0, *a.unit));
    source.finished(0, *a.unit, UnitVerdict{});
    (void)source.take(0);  // not yet: a reservation starts
    auto before = std::chrono::steady_clock::now();
    CHECK(source.accept(1, *b.unit));
    waits.push_back(std::chrono::steady_clock::now() - before);
    source.finished(1, *b.unit, UnitVerdict{});
  }
  CHECK(source.close().empty());
  // A lease check is one round trip on loopback, never the idle wait. The
  // median, not the slowest: a loaded machine (the sanitizer builds run
  // beside other tests) may delay one check, but the bug delayed every one.
  std::sort(waits.begin(), waits.end());
  CHECK(waits[waits.size() / 2] < 60ms);
}
