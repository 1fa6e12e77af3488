// One synchronous hiredis connection; replies copied into owned values so no
// hiredis object outlives a call.
#include <hiredis/hiredis.h>

#include <memory>

#include "shardrun/queue.hpp"

namespace shardrun {

namespace {

struct ReplyFree {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyFree>;

RedisReply convert(const redisReply& reply) {
  RedisReply out;
  switch (reply.type) {
    case REDIS_REPLY_INTEGER:
      out.kind = RedisReply::Kind::kInteger;
      out.integer = reply.integer;
      break;
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
      out.kind = RedisReply::Kind::kString;
      out.str.assign(reply.str, reply.len);
      break;
    case REDIS_REPLY_ERROR:
      out.kind = RedisReply::Kind::kError;
      out.str.assign(reply.str, reply.len);
      break;
    case REDIS_REPLY_ARRAY:
      out.kind = RedisReply::Kind::kArray;
      out.elements.reserve(reply.elements);
      for (size_t i = 0; i < reply.elements; ++i)
        out.elements.push_back(convert(*reply.element[i]));
      break;
    default:  // REDIS_REPLY_NIL
      break;
  }
  return out;
}

timeval to_timeval(std::chrono::milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  return tv;
}

}  // namespace

RedisConnection::RedisConnection(const QueueUrl& url, const std::optional<std::string>& password,
                                 std::chrono::milliseconds timeout)
    : where_(url.host + ":" + std::to_string(url.port)) {
  if (!url.user.empty() && !password)
    throw UsageError("queue URL names user " + url.user +
                     " but SHARDRUN_QUEUE_PASSWORD is not set");
  timeval tv = to_timeval(timeout);
  context_ = redisConnectWithTimeout(url.host.c_str(), url.port, tv);
  if (context_ == nullptr) throw QueueError("queue " + where_ + ": out of memory");
  if (context_->err) {
    std::string message = "queue " + where_ + ": cannot connect: " + context_->errstr;
    redisFree(context_);
    context_ = nullptr;
    throw QueueError(message);
  }
  if (redisSetTimeout(context_, tv) != REDIS_OK) {
    redisFree(context_);
    context_ = nullptr;
    throw QueueError("queue " + where_ + ": cannot set the command timeout");
  }
  if (!password) return;
  try {
    if (url.user.empty())
      command({"AUTH", *password});
    else
      command({"AUTH", url.user, *password});
  } catch (...) {
    redisFree(context_);
    context_ = nullptr;
    throw;
  }
}

RedisConnection::~RedisConnection() {
  if (context_ != nullptr) redisFree(context_);
}

RedisReply RedisConnection::command(const std::vector<std::string>& argv) {
  if (context_ == nullptr || context_->err)
    throw QueueError("queue " + where_ + ": the connection is broken");
  std::vector<const char*> args;
  std::vector<size_t> lengths;
  args.reserve(argv.size());
  lengths.reserve(argv.size());
  for (const std::string& arg : argv) {
    args.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  // Messages below name the command (argv[0]) only, never an argument: AUTH's
  // is the password.
  std::string name = argv.empty() ? std::string() : argv.front();
  ReplyPtr reply(static_cast<redisReply*>(
      redisCommandArgv(context_, static_cast<int>(args.size()), args.data(), lengths.data())));
  if (!reply)
    throw QueueError("queue " + where_ + ": " + name + ": " +
                     (context_->err ? context_->errstr : "no reply"));
  RedisReply owned = convert(*reply);
  if (owned.kind == RedisReply::Kind::kError)
    throw QueueError("queue " + where_ + ": " + name + ": " + owned.str);
  return owned;
}

}  // namespace shardrun
