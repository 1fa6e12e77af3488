// The queue's protocol: each call one script, run with EVALSHA; the scripts
// and their contracts are in scripts.cpp and queue.hpp.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

#include "scripts.hpp"
#include "shardrun/queue.hpp"

namespace shardrun {

namespace {

std::string number_text(double seconds) {
  return fmt::format("{}", seconds);
}

template <typename T>
T parse_number(const std::string& text, const char* what) {
  T value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size())
    throw QueueError(fmt::format("queue: bad {} in a reply: '{}'", what, text));
  return value;
}

const RedisReply& element(const RedisReply& reply, std::size_t i) {
  if (reply.kind != RedisReply::Kind::kArray || i >= reply.elements.size())
    throw QueueError("queue: unexpected reply from a script");
  return reply.elements[i];
}

}  // namespace

std::string encode_unit_payload(const QueueUnit& unit) {
  nlohmann::json json{{"entry", unit.entry}, {"tests", unit.tests}};
  if (unit.attempt > 0) json["attempt"] = unit.attempt;
  return json.dump();
}

void decode_unit_payload(std::string_view payload, QueueUnit& unit) {
  try {
    auto json = nlohmann::json::parse(payload);
    unit.entry = json.at("entry").get<std::string>();
    unit.tests = json.at("tests").get<std::vector<std::string>>();
    unit.attempt = json.value("attempt", 0);
    if (unit.attempt < 0 || unit.attempt > 1000)
      throw QueueError("queue: a unit's attempt is out of range");
  } catch (const nlohmann::json::exception& e) {
    throw QueueError(fmt::format("queue: a unit's payload is malformed: {}", e.what()));
  }
}

RedisQueue::RedisQueue(RedisConnection& connection, const QueueUrl& url, QueueOptions options)
    : connection_(connection), prefix_(url.key_prefix()), options_(options) {
  load_scripts();
}

void RedisQueue::load_scripts() {
  shas_.clear();
  for (std::string_view script :
       {queue_scripts::kPublish, queue_scripts::kReserve, queue_scripts::kHeartbeat,
        queue_scripts::kComplete, queue_scripts::kRelease})
    shas_.push_back(
        connection_.command({"SCRIPT", "LOAD", queue_scripts::with_prelude(script)}).str);
}

RedisReply RedisQueue::run(Script script, std::vector<std::string> args) {
  std::vector<std::string> argv = {"EVALSHA", shas_[script],
                                   std::to_string(queue_scripts::kKeyNames.size())};
  for (std::string_view name : queue_scripts::kKeyNames)
    argv.push_back(prefix_ + std::string(name));
  argv.push_back(std::to_string(options_.ttl.count()));
  argv.push_back(std::to_string(options_.max_requeues));
  std::move(args.begin(), args.end(), std::back_inserter(argv));
  try {
    return connection_.command(argv);
  } catch (const QueueError& e) {
    // The server forgot the scripts (restarted, SCRIPT FLUSH): load them again, once.
    if (std::string_view(e.what()).find("NOSCRIPT") == std::string_view::npos) throw;
    load_scripts();
    argv[1] = shas_[script];
    return connection_.command(argv);
  }
}

bool RedisQueue::publish(const std::vector<QueueUnit>& units) {
  std::vector<std::string> args;
  args.reserve(units.size() * 3);
  for (const QueueUnit& unit : units) {
    args.push_back(std::to_string(unit.id));
    args.push_back(number_text(unit.predicted_seconds));
    args.push_back(encode_unit_payload(unit));
  }
  return run(kPublish, std::move(args)).integer == 1;
}

RedisQueue::Reservation RedisQueue::reserve(const std::string& node,
                                            std::chrono::milliseconds lease) {
  RedisReply reply = run(kReserve, {node, std::to_string(lease.count())});
  const std::string& answer = element(reply, 0).str;
  Reservation reservation;
  if (answer == "done") return reservation;
  if (answer == "wait") {
    reservation.answer = Reservation::Answer::kNotYet;
    return reservation;
  }
  Lease taken;
  taken.unit.id = parse_number<std::size_t>(element(reply, 1).str, "unit id");
  taken.unit.predicted_seconds = parse_number<double>(element(reply, 2).str, "prediction");
  decode_unit_payload(element(reply, 3).str, taken.unit);
  taken.token = parse_number<std::int64_t>(element(reply, 4).str, "token");
  taken.requeues = parse_number<int>(element(reply, 5).str, "requeue count");
  taken.lost_by = element(reply, 6).str;
  reservation.answer = Reservation::Answer::kUnit;
  reservation.lease = std::move(taken);
  return reservation;
}

int RedisQueue::heartbeat(const std::string& node, std::chrono::milliseconds lease) {
  return static_cast<int>(run(kHeartbeat, {node, std::to_string(lease.count())}).integer);
}

RedisQueue::Completion RedisQueue::complete(std::size_t unit_id, std::int64_t token,
                                            std::string_view result,
                                            const std::vector<QueueUnit>& new_units) {
  // Cut here too, so an oversized result does not travel; the script cuts again.
  std::vector<std::string> args = {std::to_string(unit_id), std::to_string(token),
                                   std::string(result.substr(0, options_.max_result_bytes)),
                                   std::to_string(options_.max_result_bytes)};
  for (const QueueUnit& unit : new_units) {
    args.push_back(number_text(unit.predicted_seconds));
    args.push_back(encode_unit_payload(unit));
  }
  RedisReply reply = run(kComplete, std::move(args));
  Completion completion;
  completion.accepted = element(reply, 0).str == "accepted";
  for (std::size_t i = 1; i < reply.elements.size(); ++i)
    completion.new_ids.push_back(parse_number<std::size_t>(reply.elements[i].str, "unit id"));
  return completion;
}

bool RedisQueue::release(std::size_t unit_id, std::int64_t token) {
  return run(kRelease, {std::to_string(unit_id), std::to_string(token)}).integer == 1;
}

std::optional<std::string> RedisQueue::result(std::size_t unit_id) {
  RedisReply reply = connection_.command({"HGET", prefix_ + "results", std::to_string(unit_id)});
  if (reply.is_nil()) return std::nullopt;
  return reply.str;
}

std::vector<std::size_t> RedisQueue::lost() {
  RedisReply reply = connection_.command({"SMEMBERS", prefix_ + "lost"});
  std::vector<std::size_t> ids;
  for (const RedisReply& member : reply.elements)
    ids.push_back(parse_number<std::size_t>(member.str, "unit id"));
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace shardrun
