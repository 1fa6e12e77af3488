// Reads and writes of the queue outside its scripts: counts, the lease check
// before a result is reported, the planner lock, the suite digest, and the
// snapshot `shardrun report` works from. None of them changes a unit's state.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "shardrun/queue.hpp"

namespace shardrun {

namespace {

template <typename T>
T number(const std::string& text, const char* what) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size())
    throw QueueError(fmt::format("queue: bad {} in a reply: '{}'", what, text));
  return value;
}

std::int64_t server_now_ms(RedisConnection& connection) {
  RedisReply t = connection.command({"TIME"});
  if (t.elements.size() != 2) throw QueueError("queue: unexpected reply to TIME");
  return number<std::int64_t>(t.elements[0].str, "time") * 1000 +
         number<std::int64_t>(t.elements[1].str, "time") / 1000;
}

// A score as Redis prints it ("12", "1.5", "1.7e+12").
double score(const std::string& text) {
  try {
    return std::stod(text);
  } catch (const std::exception&) {
    throw QueueError(fmt::format("queue: bad score in a reply: '{}'", text));
  }
}

}  // namespace

RedisQueue::Counts RedisQueue::counts() {
  Counts counts;
  counts.published = connection_.command({"EXISTS", prefix_ + "published"}).integer == 1;
  counts.queued =
      static_cast<std::size_t>(connection_.command({"ZCARD", prefix_ + "queue"}).integer);
  counts.leased =
      static_cast<std::size_t>(connection_.command({"ZCARD", prefix_ + "leases"}).integer);
  return counts;
}

bool RedisQueue::holds(std::size_t unit_id, std::int64_t token) {
  std::string id = std::to_string(unit_id);
  RedisReply current = connection_.command({"HGET", prefix_ + "token", id});
  if (current.is_nil() || current.str != std::to_string(token)) return false;
  RedisReply deadline = connection_.command({"ZSCORE", prefix_ + "leases", id});
  if (deadline.is_nil()) return false;
  return score(deadline.str) >= static_cast<double>(server_now_ms(connection_));
}

bool RedisQueue::lock_planner(const std::string& node, std::chrono::milliseconds hold) {
  std::string key = prefix_ + "planner";
  std::string ms = std::to_string(hold.count());
  if (!connection_.command({"SET", key, node, "NX", "PX", ms}).is_nil()) return true;
  RedisReply holder = connection_.command({"GET", key});
  if (holder.is_nil() || holder.str != node) return false;
  connection_.command({"PEXPIRE", key, ms});
  return true;
}

void RedisQueue::set_digest(const std::string& digest) {
  connection_.command(
      {"SET", prefix_ + "digest", digest, "EX", std::to_string(options_.ttl.count())});
}

std::optional<std::string> RedisQueue::digest() {
  RedisReply reply = connection_.command({"GET", prefix_ + "digest"});
  if (reply.is_nil()) return std::nullopt;
  return reply.str;
}

RedisQueue::Snapshot RedisQueue::snapshot() {
  Snapshot snap;
  // What is queued and leased, read in one transaction: a unit moves between
  // them atomically (reserve, complete with retries), so separate reads
  // could see neither and end a report early. Results, read after, only grow.
  connection_.command({"MULTI"});
  connection_.command({"EXISTS", prefix_ + "published"});
  connection_.command({"TIME"});
  connection_.command({"ZRANGE", prefix_ + "queue", "0", "-1"});
  connection_.command({"ZRANGE", prefix_ + "leases", "0", "-1", "WITHSCORES"});
  RedisReply state = connection_.command({"EXEC"});
  if (state.kind != RedisReply::Kind::kArray || state.elements.size() != 4)
    throw QueueError("queue: unexpected reply to a transaction");
  snap.published = state.elements[0].integer == 1;
  const RedisReply& t = state.elements[1];
  if (t.elements.size() != 2) throw QueueError("queue: unexpected reply to TIME");
  snap.now_ms = number<std::int64_t>(t.elements[0].str, "time") * 1000 +
                number<std::int64_t>(t.elements[1].str, "time") / 1000;
  for (const RedisReply& id : state.elements[2].elements)
    snap.queued.push_back(number<std::size_t>(id.str, "unit id"));
  std::sort(snap.queued.begin(), snap.queued.end());
  const RedisReply& leases = state.elements[3];
  for (std::size_t i = 0; i + 1 < leases.elements.size(); i += 2)
    snap.leased.emplace_back(number<std::size_t>(leases.elements[i].str, "unit id"),
                             static_cast<std::int64_t>(score(leases.elements[i + 1].str)));
  RedisReply units = connection_.command({"HGETALL", prefix_ + "units"});
  for (std::size_t i = 0; i + 1 < units.elements.size(); i += 2) {
    QueueUnit unit;
    unit.id = number<std::size_t>(units.elements[i].str, "unit id");
    decode_unit_payload(units.elements[i + 1].str, unit);
    snap.units.push_back(std::move(unit));
  }
  std::sort(snap.units.begin(), snap.units.end(),
            [](const QueueUnit& a, const QueueUnit& b) { return a.id < b.id; });
  RedisReply results = connection_.command({"HGETALL", prefix_ + "results"});
  for (std::size_t i = 0; i + 1 < results.elements.size(); i += 2)
    snap.results.emplace_back(number<std::size_t>(results.elements[i].str, "unit id"),
                              std::move(results.elements[i + 1].str));
  std::sort(snap.results.begin(), snap.results.end());
  RedisReply requeues = connection_.command({"HGETALL", prefix_ + "requeues"});
  for (std::size_t i = 0; i + 1 < requeues.elements.size(); i += 2)
    snap.requeues.emplace_back(number<std::size_t>(requeues.elements[i].str, "unit id"),
                               number<int>(requeues.elements[i + 1].str, "requeue count"));
  snap.lost = lost();
  RedisReply lost_by = connection_.command({"HGETALL", prefix_ + "lost_by"});
  for (std::size_t i = 0; i + 1 < lost_by.elements.size(); i += 2)
    snap.lost_by.emplace_back(number<std::size_t>(lost_by.elements[i].str, "unit id"),
                              std::move(lost_by.elements[i + 1].str));
  return snap;
}

}  // namespace shardrun
