#include "shardrun/shard_spans.hpp"

namespace shardrun {

namespace {
const char* outcome_text(ShardEvent::Outcome outcome, const char* ok) {
  switch (outcome) {
    case ShardEvent::Outcome::kOk:
      return ok;
    case ShardEvent::Outcome::kFailed:
      return "failed";
    case ShardEvent::Outcome::kInterrupted:
      return "interrupted";
  }
  return ok;
}
}  // namespace

ShardSpan* ShardSpanBook::open(int shard, const char* kind) {
  // The latest span of that kind which has not ended.
  std::vector<ShardSpan>& spans = spans_[static_cast<std::size_t>(shard)];
  for (auto it = spans.rbegin(); it != spans.rend(); ++it)
    if (it->kind == kind && it->end < 0) return &*it;
  return nullptr;
}

void ShardSpanBook::add(const ShardEvent& event, double at) {
  if (event.shard < 0) return;
  if (spans_.size() <= static_cast<std::size_t>(event.shard)) spans_.resize(event.shard + 1);
  std::vector<ShardSpan>& spans = spans_[static_cast<std::size_t>(event.shard)];
  auto resource = [&]() -> ShardSpan* {
    auto it = resources_.find({event.shard, event.resource});
    return it == resources_.end() ? nullptr : &spans[it->second];
  };
  using Kind = ShardEvent::Kind;
  switch (event.kind) {
    case Kind::kResourceStart: {
      ShardSpan span;
      span.kind = "resource";
      span.name = event.name;
      span.start = at;
      resources_[{event.shard, event.resource}] = spans.size();
      spans.push_back(std::move(span));
      return;
    }
    case Kind::kResourceEnd:
      if (ShardSpan* span = resource()) {
        span->end = at;
        span->outcome = outcome_text(event.outcome, "ready");
        span->error = event.error;
      }
      return;
    case Kind::kServiceDied:
      if (ShardSpan* span = resource()) {
        span->outcome = "died";
        span->died = at;
        span->error = event.error;
      }
      return;
    case Kind::kResourceReleased:
      if (ShardSpan* span = resource()) {
        span->released = at;
        span->release_error = event.error;
      }
      return;
    case Kind::kSetupStart:
    case Kind::kTeardownStart: {
      ShardSpan span;
      span.kind = event.kind == Kind::kSetupStart ? "setup" : "teardown";
      span.start = at;
      span.commands = event.commands;
      spans.push_back(std::move(span));
      return;
    }
    case Kind::kSetupEnd:
    case Kind::kTeardownEnd:
      if (ShardSpan* span =
              open(event.shard, event.kind == Kind::kSetupEnd ? "setup" : "teardown")) {
        span->end = at;
        span->outcome = outcome_text(event.outcome, "ok");
        span->error = event.error;
      }
      return;
  }
}

}  // namespace shardrun
