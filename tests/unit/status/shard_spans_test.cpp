// Shard events -> the spans of run.json.
#include "shardrun/shard_spans.hpp"

#include <catch2/catch.hpp>

using namespace shardrun;
using Kind = ShardEvent::Kind;
using Outcome = ShardEvent::Outcome;

namespace {
ShardEvent event(Kind kind, int shard, std::size_t resource = 0, Outcome outcome = Outcome::kOk,
                 std::string error = {}) {
  ShardEvent e;
  e.kind = kind;
  e.shard = shard;
  e.resource = resource;
  e.name = resource == 0 ? "port 'web'" : "service 'app'";
  e.outcome = outcome;
  e.error = std::move(error);
  e.commands = 2;
  return e;
}
}  // namespace

TEST_CASE("events become one span per resource, setup and teardown, with times and outcomes") {
  ShardSpanBook book;
  book.add(event(Kind::kResourceStart, 1, 0), 0.0);
  book.add(event(Kind::kResourceEnd, 1, 0), 0.0);
  book.add(event(Kind::kResourceStart, 1, 1), 0.0);
  book.add(event(Kind::kResourceEnd, 1, 1), 0.5);
  book.add(event(Kind::kSetupStart, 1), 0.5);
  book.add(event(Kind::kSetupEnd, 1), 1.0);
  book.add(event(Kind::kServiceDied, 1, 1, Outcome::kFailed, "app exited (exit status 1)"), 3.0);
  book.add(event(Kind::kTeardownStart, 1), 3.0);
  book.add(event(Kind::kTeardownEnd, 1, 0, Outcome::kFailed, "teardown command 1 failed"), 3.5);
  book.add(event(Kind::kResourceReleased, 1, 1), 3.5);
  book.add(event(Kind::kResourceReleased, 1, 0, Outcome::kOk, "could not drop"), 3.75);

  const auto& spans = book.spans();
  REQUIRE(spans.size() == 2);
  CHECK(spans[0].empty());  // shard 0 had no events
  REQUIRE(spans[1].size() == 4);
  const ShardSpan& port = spans[1][0];
  CHECK(port.kind == "resource");
  CHECK(port.name == "port 'web'");
  CHECK(port.outcome == "ready");
  CHECK(port.released == 3.75);
  CHECK(port.release_error == "could not drop");
  const ShardSpan& service = spans[1][1];
  CHECK(service.start == 0.0);
  CHECK(service.end == 0.5);
  CHECK(service.outcome == "died");
  CHECK(service.died == 3.0);
  CHECK(service.error == "app exited (exit status 1)");
  CHECK(service.released == 3.5);
  CHECK(spans[1][2].kind == "setup");
  CHECK(spans[1][2].start == 0.5);
  CHECK(spans[1][2].end == 1.0);
  CHECK(spans[1][2].outcome == "ok");
  CHECK(spans[1][2].commands == 2);
  CHECK(spans[1][3].kind == "teardown");
  CHECK(spans[1][3].outcome == "failed");
  CHECK(spans[1][3].error == "teardown command 1 failed");
}

TEST_CASE("a resource given up or failed keeps why; one never ended stays pending") {
  ShardSpanBook book;
  book.add(event(Kind::kResourceStart, 0, 1), 0.0);
  book.add(event(Kind::kResourceEnd, 0, 1, Outcome::kInterrupted, "interrupted"), 0.25);
  book.add(event(Kind::kResourceStart, 2, 1), 0.0);
  book.add(event(Kind::kResourceEnd, 2, 1, Outcome::kFailed, "not ready in 30s"), 30.0);
  book.add(event(Kind::kResourceStart, 3, 0), 1.0);
  const auto& spans = book.spans();
  REQUIRE(spans.size() == 4);
  CHECK(spans[0][0].outcome == "interrupted");
  CHECK(spans[0][0].error == "interrupted");
  CHECK(spans[2][0].outcome == "failed");
  CHECK(spans[2][0].end == 30.0);
  CHECK(spans[3][0].outcome == "pending");
  CHECK(spans[3][0].end < 0);
}
