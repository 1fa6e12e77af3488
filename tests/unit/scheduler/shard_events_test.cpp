// The scheduler's shard events: what run.json's spans and the timeline are
// made of, with the scheduler's (fake) clock.
#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "fake_runner.hpp"
#include "shardrun/scheduler.hpp"

using namespace shardrun;
using namespace shardrun::testing;

namespace {

// Resource 0 is made in-process at once; resource 1, when `service` is set,
// is a service that lives `lives` seconds and is ready after `ready_after`
// (given up after `timeout`). Setup 0.5 s, teardown 0.25 s; a unit runs for
// its predicted_seconds.
struct Jobs final : ShardResources, CommandFactory {
  struct Service {
    double lives = 1000;
    double ready_after = 0.3;
    double timeout = 30;
  };
  std::optional<Service> service = Service{};
  int setup_code = 0;

  std::size_t resource_count() const override { return service ? 2 : 1; }
  std::string resource_name(std::size_t index) const override {
    return index == 0 ? "port 'web'" : "service 'app'";
  }
  ResourceStart acquire_resource(int, std::size_t index) override {
    ResourceStart start;
    if (index == 1) {
      start.service = fake_spec(service->lives, 1, "service");
      start.service->log = "service.log";
    }
    return start;
  }
  ReadyCheck check_ready(int, std::size_t, TimePoint since, TimePoint now) override {
    double waited = std::chrono::duration<double>(now - since).count();
    if (waited >= service->ready_after) return {};
    if (waited >= service->timeout) return {ReadyCheck::State::kFailed, "not ready in time"};
    return {ReadyCheck::State::kWaiting, ""};
  }
  std::optional<std::string> release_resource(int, std::size_t) override { return std::nullopt; }
  std::vector<ProcessSpec> shard_setup(int) override { return {fake_spec(0.5, setup_code)}; }
  std::vector<ProcessSpec> shard_teardown(int) override { return {fake_spec(0.25)}; }
  ProcessSpec unit(int, const Unit& unit) override { return fake_spec(unit.predicted_seconds); }
};

const char* kind_name(ShardEvent::Kind kind) {
  switch (kind) {
    case ShardEvent::Kind::kResourceStart:
      return "resource-start";
    case ShardEvent::Kind::kResourceEnd:
      return "resource-end";
    case ShardEvent::Kind::kServiceDied:
      return "service-died";
    case ShardEvent::Kind::kResourceReleased:
      return "released";
    case ShardEvent::Kind::kSetupStart:
      return "setup-start";
    case ShardEvent::Kind::kSetupEnd:
      return "setup-end";
    case ShardEvent::Kind::kTeardownStart:
      return "teardown-start";
    case ShardEvent::Kind::kTeardownEnd:
      return "teardown-end";
  }
  return "?";
}

const char* outcome_name(ShardEvent::Outcome outcome) {
  switch (outcome) {
    case ShardEvent::Outcome::kOk:
      return "ok";
    case ShardEvent::Outcome::kFailed:
      return "failed";
    case ShardEvent::Outcome::kInterrupted:
      return "interrupted";
  }
  return "?";
}

// Events and unit starts/ends as "T KIND DETAIL" lines, T in milliseconds.
struct Listener final : SchedulerListener {
  std::vector<std::string> lines;
  std::vector<ShardEvent> events;
  static long ms(TimePoint t) {
    return std::lround(std::chrono::duration<double>(t - TimePoint{}).count() * 1000);
  }
  void on_unit_start(int shard, const Unit& unit, TimePoint when) override {
    lines.push_back(fmt::format("{} unit-start {} shard {}", ms(when), unit.id, shard));
  }
  UnitVerdict on_unit_end(int, const Unit& unit, const Completion& done) override {
    lines.push_back(fmt::format("{} unit-end {}", ms(done.ended), unit.id));
    return {};
  }
  void on_unit_not_run(const Unit&, const std::string&) override {}
  void on_shard_problem(int, const std::string&) override {}
  void on_shard_event(const ShardEvent& e) override {
    events.push_back(e);
    std::string what = kind_name(e.kind);
    if (!e.name.empty()) what += " " + e.name;
    if (e.kind == ShardEvent::Kind::kSetupStart || e.kind == ShardEvent::Kind::kTeardownStart)
      what += fmt::format(" x{}", e.commands);
    if (e.kind == ShardEvent::Kind::kResourceEnd || e.kind == ShardEvent::Kind::kSetupEnd ||
        e.kind == ShardEvent::Kind::kTeardownEnd)
      what += fmt::format(" {}", outcome_name(e.outcome));
    lines.push_back(fmt::format("{} {}", ms(e.when), what));
  }
};

Unit unit_of(std::size_t id, double seconds) {
  Unit u;
  u.id = id;
  u.label = fmt::format("u{}", id);
  u.predicted_seconds = seconds;
  return u;
}

std::vector<std::string> run(
    Jobs& jobs, Listener& listener, std::deque<Unit> units,
    std::function<int()> interrupts = [] { return 0; }) {
  FakeClock clock;
  FakeRunner runner(clock);
  SchedulerOptions options;
  options.shards = 1;
  options.interrupts = std::move(interrupts);
  Scheduler(runner, clock, jobs, jobs, listener, options).run(std::move(units));
  return listener.lines;
}

}  // namespace

TEST_CASE("a shard's events come in order, at the scheduler's times") {
  Jobs jobs;
  Listener listener;
  // The service is probed every 20 ms, so it is ready at 300 ms exactly.
  CHECK(run(jobs, listener, {unit_of(1, 1.0), unit_of(2, 2.0)}) ==
        std::vector<std::string>{
            "0 resource-start port 'web'",
            "0 resource-end port 'web' ok",
            "0 resource-start service 'app'",
            "300 resource-end service 'app' ok",
            "300 setup-start x1",
            "800 setup-end ok",
            "800 unit-start 1 shard 0",
            "1800 unit-end 1",
            "1800 unit-start 2 shard 0",
            "3800 unit-end 2",
            "3800 teardown-start x1",
            "4050 teardown-end ok",
            // the service is stopped first, then everything released in reverse
            "4050 released service 'app'",
            "4050 released port 'web'",
        });
  for (const ShardEvent& e : listener.events) {
    CHECK(e.shard == 0);
    CHECK(e.error.empty());
  }
  CHECK(listener.events[2].resource == 1);
  CHECK(listener.events.back().resource == 0);
}

TEST_CASE("a resource that is never ready ends failed, with why, and no setup starts") {
  Jobs jobs;
  jobs.service = Jobs::Service{.ready_after = 100, .timeout = 2};
  Listener listener;
  CHECK(run(jobs, listener, {unit_of(1, 1.0)}) ==
        std::vector<std::string>{
            "0 resource-start port 'web'",
            "0 resource-end port 'web' ok",
            "0 resource-start service 'app'",
            "2000 resource-end service 'app' failed",
            "2000 teardown-start x0",  // setup never began: no teardown commands
            "2000 teardown-end ok",
            "2000 released service 'app'",
            "2000 released port 'web'",
        });
  CHECK(listener.events[3].outcome == ShardEvent::Outcome::kFailed);
  CHECK(listener.events[3].error == "not ready in time");
}

TEST_CASE("a service that dies mid-unit is told, with its exit, before the teardown") {
  Jobs jobs;
  jobs.service = Jobs::Service{.lives = 1.5, .ready_after = 0};
  Listener listener;
  std::vector<std::string> lines = run(jobs, listener, {unit_of(1, 3.0), unit_of(2, 1.0)});
  CHECK(lines == std::vector<std::string>{
                     "0 resource-start port 'web'",
                     "0 resource-end port 'web' ok",
                     "0 resource-start service 'app'",
                     "0 resource-end service 'app' ok",  // ready at once
                     "0 setup-start x1",
                     "500 setup-end ok",
                     "500 unit-start 1 shard 0",
                     "1500 service-died service 'app'",
                     "1500 unit-end 1",  // stopped: the shard is broken, unit 2 never starts
                     "1500 teardown-start x1",
                     "1750 teardown-end ok",
                     "1750 released service 'app'",
                     "1750 released port 'web'",
                 });
  auto died = std::find_if(listener.events.begin(), listener.events.end(),
                           [](const auto& e) { return e.kind == ShardEvent::Kind::kServiceDied; });
  REQUIRE(died != listener.events.end());
  CHECK(Listener::ms(died->when) == 1500);
  CHECK(died->resource == 1);
  CHECK_THAT(died->error, Catch::Contains("service 'app' of shard 0 exited (exit status 1)"));
}

TEST_CASE("setup cut short by an interrupt ends interrupted; a failed setup ends failed") {
  SECTION("interrupted") {
    Jobs jobs;
    jobs.service.reset();
    Listener listener;
    int polls = 0;
    // The first poll is before anything starts; the second one, 100 ms later, interrupts.
    std::vector<std::string> lines =
        run(jobs, listener, {unit_of(1, 1.0)}, [&] { return ++polls >= 3 ? 1 : 0; });
    CHECK(lines == std::vector<std::string>{
                       "0 resource-start port 'web'",
                       "0 resource-end port 'web' ok",
                       "0 setup-start x1",
                       "100 setup-end interrupted",
                       "100 teardown-start x1",
                       "350 teardown-end ok",
                       "350 released port 'web'",
                   });
  }
  SECTION("failed") {
    Jobs jobs;
    jobs.service.reset();
    jobs.setup_code = 3;
    Listener listener;
    std::vector<std::string> lines = run(jobs, listener, {unit_of(1, 1.0)});
    CHECK(lines[3] == "500 setup-end failed");
    CHECK_THAT(listener.events[3].error,
               Catch::Contains("shard setup command 1 of 1 failed (exit status 3)"));
  }
}
