#include "shardrun/scheduler.hpp"

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "fake_runner.hpp"

using namespace shardrun;
using namespace shardrun::testing;

namespace {

// Units carry their fake duration and exit code in the label: "NAME:SECONDS:CODE".
Unit make_unit(std::size_t id, double seconds, int code = 0) {
  Unit u;
  u.id = id;
  u.label = fmt::format("u{}:{}:{}", id, seconds, code);
  u.predicted_seconds = seconds;
  return u;
}

struct FakeJobs : ShardResources, CommandFactory {
  std::map<int, int> setup_code;  // shard -> exit code of its setup command
  std::set<int> failing_prepare;  // shards whose first resource cannot be made
  std::vector<std::string> events;
  // One in-process resource by default. A service is {lives SECONDS, ready
  // after READY seconds, gives up after TIMEOUT}.
  struct FakeService {
    double lives = 1000;
    double ready_after = 0;
    double timeout = 30;
  };
  std::vector<std::optional<FakeService>> resources = {std::nullopt};

  std::size_t resource_count() const override { return resources.size(); }
  std::string resource_name(std::size_t index) const override {
    return fmt::format("resource {}", index);
  }
  ResourceStart acquire_resource(int shard, std::size_t index) override {
    events.push_back(fmt::format("prepare {}", shard) +
                     (index > 0 ? fmt::format(" #{}", index) : std::string()));
    ResourceStart start;
    if (failing_prepare.count(shard) && index == 0) {
      start.error = fmt::format("port for shard {} unavailable", shard);
    } else if (resources[index]) {
      start.service =
          fake_spec(resources[index]->lives, 1, fmt::format("service {} #{}", shard, index));
      start.service->log = fmt::format("service-{}-{}.log", shard, index);
    }
    return start;
  }
  ReadyCheck check_ready(int, std::size_t index, TimePoint since, TimePoint now) override {
    double waited = std::chrono::duration<double>(now - since).count();
    if (waited >= resources[index]->ready_after) return {};
    if (waited >= resources[index]->timeout) return {ReadyCheck::State::kFailed, "not ready"};
    return {ReadyCheck::State::kWaiting, ""};
  }
  std::optional<std::string> release_resource(int shard, std::size_t index) override {
    events.push_back(fmt::format("release {}", shard) +
                     (index > 0 ? fmt::format(" #{}", index) : std::string()));
    return std::nullopt;
  }
  std::vector<ProcessSpec> shard_setup(int shard) override {
    int code = setup_code.count(shard) ? setup_code[shard] : 0;
    return {fake_spec(0.5, code, fmt::format("setup {}", shard))};
  }
  std::vector<ProcessSpec> shard_teardown(int shard) override {
    return {fake_spec(0.25, 0, fmt::format("teardown {}", shard))};
  }
  ProcessSpec unit(int shard, const Unit& unit) override {
    double seconds = 0;
    int code = 0;
    std::sscanf(unit.label.c_str() + unit.label.find(':') + 1, "%lf:%d", &seconds, &code);
    return fake_spec(seconds, code, fmt::format("unit {} shard {}", unit.id, shard));
  }
};

struct Recorder final : SchedulerListener {
  struct Run {
    int shard;
    std::size_t unit;
    double start;
    double end;
    ExitStatus status;
  };
  FakeClock& clock;
  std::vector<Run> runs;
  std::vector<std::pair<std::size_t, std::string>> not_run;
  std::vector<std::pair<int, std::string>> problems;
  std::map<std::size_t, double> started_at;
  std::vector<std::string> stopped_because;
  std::function<UnitVerdict(const Unit&, const Completion&)> verdict;

  explicit Recorder(FakeClock& c) : clock(c) {}
  void on_unit_start(int, const Unit& unit, TimePoint) override {
    started_at[unit.id] = clock.seconds();
  }
  UnitVerdict on_unit_end(int shard, const Unit& unit, const Completion& done) override {
    runs.push_back({shard, unit.id, started_at[unit.id], clock.seconds(), done.status});
    if (!done.stopped_because.empty()) stopped_because.push_back(done.stopped_because);
    if (verdict) return verdict(unit, done);
    return UnitVerdict{done.status.success() ? 0 : 1, {}};
  }
  void on_unit_not_run(const Unit& unit, const std::string& reason) override {
    not_run.emplace_back(unit.id, reason);
  }
  void on_shard_problem(int shard, const std::string& what) override {
    problems.emplace_back(shard, what);
  }
  std::vector<std::size_t> rejected;
  void on_unit_rejected(int, const Unit& unit, const Completion&) override {
    rejected.push_back(unit.id);
  }
};

struct Fixture {
  FakeClock clock;
  FakeRunner runner{clock};
  FakeJobs jobs;
  Recorder recorder{clock};

  SchedulerResult run(std::deque<Unit> units, SchedulerOptions options) {
    Scheduler scheduler(runner, clock, jobs, jobs, recorder, std::move(options));
    return scheduler.run(std::move(units));
  }
  SchedulerResult run(UnitSource& source, SchedulerOptions options) {
    Scheduler scheduler(runner, clock, jobs, jobs, recorder, std::move(options));
    return scheduler.run(source);
  }
  // Names of the started fake commands, in order.
  std::vector<std::string> started_names() const {
    std::vector<std::string> names;
    for (const auto& s : runner.started) names.push_back(s.spec.argv[3]);
    return names;
  }
};

double makespan_of(const std::vector<Recorder::Run>& runs) {
  double first = 1e18, last = 0;
  for (const auto& r : runs) {
    first = std::min(first, r.start);
    last = std::max(last, r.end);
  }
  return last - first;
}

}  // namespace

TEST_CASE("the origin story: 6 s, 5 s and 7 s take 18 s on one shard and 7 s on three") {
  for (auto [shards, expected] : {std::pair{1, 18.0}, std::pair{3, 7.0}}) {
    Fixture f;
    auto result = f.run({make_unit(0, 6), make_unit(1, 5), make_unit(2, 7)}, {.shards = shards});
    REQUIRE(f.recorder.runs.size() == 3);
    CHECK(makespan_of(f.recorder.runs) == Approx(expected));
    CHECK_FALSE(result.interrupted);
  }
}

TEST_CASE("a free shard takes the next unit from the queue") {
  Fixture f;
  f.run({make_unit(0, 5), make_unit(1, 1), make_unit(2, 1), make_unit(3, 1), make_unit(4, 1),
         make_unit(5, 1)},
        {.shards = 2});
  std::map<int, std::vector<std::size_t>> per_shard;
  for (const auto& r : f.recorder.runs) per_shard[r.shard].push_back(r.unit);
  CHECK(per_shard[0] == std::vector<std::size_t>{0});
  CHECK(per_shard[1] == std::vector<std::size_t>{1, 2, 3, 4, 5});
  CHECK(makespan_of(f.recorder.runs) == Approx(5.0));
}

TEST_CASE("units of one shard never overlap, and at most N units run at once") {
  Fixture f;
  std::deque<Unit> units;
  for (std::size_t i = 0; i < 40; ++i) units.push_back(make_unit(i, 0.1 + (i * 7 % 13) / 10.0));
  f.run(units, {.shards = 4});
  REQUIRE(f.recorder.runs.size() == 40);
  std::map<int, std::vector<Recorder::Run>> per_shard;
  for (const auto& r : f.recorder.runs) per_shard[r.shard].push_back(r);
  CHECK(per_shard.size() == 4);
  for (auto& [shard, runs] : per_shard)
    for (std::size_t i = 1; i < runs.size(); ++i) CHECK(runs[i].start >= runs[i - 1].end);
  CHECK(f.runner.max_running <= 4);
}

TEST_CASE("shard setup runs before the first unit and teardown after the last, in order") {
  Fixture f;
  f.run({make_unit(0, 1), make_unit(1, 1)}, {.shards = 1});
  CHECK(f.started_names() ==
        std::vector<std::string>{"setup 0", "unit 0 shard 0", "unit 1 shard 0", "teardown 0"});
  CHECK(f.jobs.events == std::vector<std::string>{"prepare 0", "release 0"});
}

TEST_CASE("no more shards are prepared than there are units") {
  Fixture f;
  auto result = f.run({make_unit(0, 1), make_unit(1, 1)}, {.shards = 8});
  int prepared = 0;
  for (const auto& shard : result.shards) prepared += shard.prepared;
  CHECK(prepared == 2);
  CHECK(f.jobs.events.size() == 4);  // two prepares, two releases
}

TEST_CASE("a shard whose setup fails takes no units, is torn down, and the others carry on") {
  Fixture f;
  f.jobs.setup_code[1] = 3;
  std::deque<Unit> units;
  for (std::size_t i = 0; i < 6; ++i) units.push_back(make_unit(i, 1));
  auto result = f.run(units, {.shards = 2});
  REQUIRE(f.recorder.problems.size() == 1);
  CHECK(f.recorder.problems[0].first == 1);
  CHECK_THAT(f.recorder.problems[0].second, Catch::Contains("setup command 1 of 1 failed"));
  CHECK_THAT(f.recorder.problems[0].second, Catch::Contains("exit status 3"));
  for (const auto& r : f.recorder.runs) CHECK(r.shard == 0);
  CHECK(f.recorder.runs.size() == 6);
  CHECK(result.shards[1].problem);
  CHECK_FALSE(result.shards[1].prepared);
  auto names = f.started_names();
  CHECK(std::count(names.begin(), names.end(), "teardown 1") == 1);
  CHECK(std::count(names.begin(), names.end(), "teardown 0") == 1);
}

TEST_CASE("when no shard can be prepared, every unit is reported as not run") {
  Fixture f;
  f.jobs.failing_prepare = {0, 1};
  f.run({make_unit(0, 1), make_unit(1, 1), make_unit(2, 1)}, {.shards = 2});
  CHECK(f.recorder.runs.empty());
  CHECK(f.recorder.problems.size() == 2);
  REQUIRE(f.recorder.not_run.size() == 3);
  CHECK_THAT(f.recorder.not_run[0].second, Catch::Contains("no shard could be prepared"));
  // The first resource failed, so no setup or teardown command ran and
  // there was nothing to release.
  CHECK(f.runner.started.empty());
  CHECK(std::count(f.jobs.events.begin(), f.jobs.events.end(), "release 0") == 0);
}

TEST_CASE("an interrupt stops running units, starts no new ones, and still tears down") {
  Fixture f;
  int interrupts = 0;
  std::deque<Unit> units;
  for (std::size_t i = 0; i < 10; ++i) units.push_back(make_unit(i, 2));
  SchedulerOptions options{.shards = 2};
  options.interrupts = [&] {
    if (f.clock.seconds() >= 3.0) interrupts = 1;
    return interrupts;
  };
  auto result = f.run(units, options);
  CHECK(result.interrupted);
  // 2 units finished (0.5..2.5 s), 2 were running at 3 s and got stopped.
  int interrupted = 0;
  for (const auto& r : f.recorder.runs) interrupted += r.status.interrupted;
  CHECK(f.recorder.runs.size() == 4);
  CHECK(interrupted == 2);
  CHECK(f.recorder.not_run.size() == 6);
  CHECK_THAT(f.recorder.not_run[0].second, Catch::Contains("interrupted"));
  auto names = f.started_names();
  CHECK(std::count(names.begin(), names.end(), "teardown 0") == 1);
  CHECK(std::count(names.begin(), names.end(), "teardown 1") == 1);
}

TEST_CASE("max_failures stops the run once that many tests failed") {
  Fixture f;
  std::deque<Unit> units;
  for (std::size_t i = 0; i < 8; ++i) units.push_back(make_unit(i, 1, i < 3 ? 1 : 0));
  auto result = f.run(units, {.shards = 1, .max_failures = 2});
  CHECK(result.stopped_by_failures);
  CHECK(f.recorder.runs.size() == 2);
  CHECK(f.recorder.not_run.size() == 6);
  CHECK_THAT(f.recorder.not_run[0].second, Catch::Contains("max-failures"));
}

TEST_CASE("units the listener requeues run again, on any shard") {
  Fixture f;
  f.recorder.verdict = [](const Unit& unit, const Completion&) {
    UnitVerdict v;
    if (unit.attempt == 0 && unit.id == 1) {
      Unit retry = unit;
      retry.id = 100;
      retry.attempt = 1;
      v.requeue.push_back(retry);
    }
    return v;
  };
  f.run({make_unit(0, 1), make_unit(1, 1), make_unit(2, 1)}, {.shards = 2});
  std::vector<std::size_t> ids;
  for (const auto& r : f.recorder.runs) ids.push_back(r.unit);
  CHECK(ids.size() == 4);
  CHECK(ids.back() == 100);
}

TEST_CASE("a unit past its timeout ends as timed out and the shard goes on") {
  Fixture f;
  struct TimeoutJobs : FakeJobs {
    ProcessSpec unit(int shard, const Unit& u) override {
      ProcessSpec spec = FakeJobs::unit(shard, u);
      spec.timeout = Millis(1500);
      return spec;
    }
  } jobs;
  Scheduler scheduler(f.runner, f.clock, jobs, jobs, f.recorder, {.shards = 1});
  scheduler.run({make_unit(0, 10), make_unit(1, 1)});
  REQUIRE(f.recorder.runs.size() == 2);
  CHECK(f.recorder.runs[0].status.timed_out);
  CHECK(f.recorder.runs[0].end - f.recorder.runs[0].start == Approx(1.5));
  CHECK(f.recorder.runs[1].status.success());
}

TEST_CASE("run_sequence stops at the first failure when asked, and names it") {
  FakeClock clock;
  FakeRunner runner(clock);
  auto steps =
      std::vector<ProcessSpec>{fake_spec(1, 0, "a"), fake_spec(1, 2, "b"), fake_spec(1, 0, "c")};
  auto failures = run_sequence(runner, steps, true);
  REQUIRE(failures.size() == 1);
  CHECK_THAT(failures[0], Catch::Contains("'b' failed (exit status 2)"));
  CHECK(runner.started.size() == 2);

  FakeRunner runner2(clock);
  failures = run_sequence(runner2, steps, false);
  CHECK(failures.size() == 1);
  CHECK(runner2.started.size() == 3);
}

TEST_CASE("resources are made in order before setup and released in reverse after teardown") {
  Fixture f;
  f.jobs.resources = {std::nullopt, FakeJobs::FakeService{.ready_after = 0.3}, std::nullopt};
  f.run({make_unit(0, 1)}, {.shards = 1});
  CHECK(f.jobs.events == std::vector<std::string>{"prepare 0", "prepare 0 #1", "prepare 0 #2",
                                                  "release 0 #2", "release 0 #1", "release 0"});
  REQUIRE(f.recorder.runs.size() == 1);
  // The unit waited for the service to be ready (0.3 s) and the setup (0.5 s).
  CHECK(f.recorder.runs[0].start == Approx(0.8).margin(0.03));
  CHECK(f.started_names() ==
        std::vector<std::string>{"service 0 #1", "setup 0", "unit 0 shard 0", "teardown 0"});
  CHECK(f.recorder.problems.empty());
}

TEST_CASE("a service that is never ready fails its shard, and its resources are released") {
  Fixture f;
  f.jobs.resources = {FakeJobs::FakeService{.ready_after = 100, .timeout = 2}};
  auto result = f.run({make_unit(0, 1), make_unit(1, 1)}, {.shards = 2});
  CHECK(f.recorder.runs.empty());
  REQUIRE(f.recorder.problems.size() == 2);
  CHECK_THAT(f.recorder.problems[0].second, Catch::Contains("resource 0: not ready"));
  REQUIRE(f.recorder.not_run.size() == 2);
  CHECK_FALSE(result.shards[0].prepared);
  // The services were stopped and released though never ready.
  CHECK(std::count(f.jobs.events.begin(), f.jobs.events.end(), "release 0") == 1);
  CHECK(std::count(f.jobs.events.begin(), f.jobs.events.end(), "release 1") == 1);
  CHECK(f.runner.running() == 0);
}

TEST_CASE("a service that exits before it is ready fails that shard at once") {
  Fixture f;
  f.jobs.resources = {FakeJobs::FakeService{.lives = 0.2, .ready_after = 5}};
  f.run({make_unit(0, 1)}, {.shards = 1});
  REQUIRE(f.recorder.problems.size() == 1);
  CHECK_THAT(f.recorder.problems[0].second,
             Catch::Contains("exited before it was ready (exit status 1)") &&
                 Catch::Contains("service-0-0.log"));
  CHECK(f.clock.seconds() < 1.0);  // no wait for the 30 s timeout
}

TEST_CASE("a service dying mid-run fails the shard's unit and the shard takes no more") {
  Fixture f;
  // Shard 0's service dies at 3 s; shard 1's lives on.
  struct Jobs : FakeJobs {
    ResourceStart acquire_resource(int shard, std::size_t index) override {
      ResourceStart start = FakeJobs::acquire_resource(shard, index);
      if (shard == 0 && start.service) start.service->argv[1] = "3";
      return start;
    }
  };
  Jobs jobs;
  jobs.resources = {FakeJobs::FakeService{}};
  Scheduler scheduler(f.runner, f.clock, jobs, jobs, f.recorder, {.shards = 2});
  std::deque<Unit> units;
  for (std::size_t i = 0; i < 6; ++i) units.push_back(make_unit(i, 2));
  auto result = scheduler.run(units);
  REQUIRE(f.recorder.runs.size() == 6);  // every unit ran; the stopped one counts as run
  int on_zero = 0;
  const Recorder::Run* stopped = nullptr;
  for (const auto& r : f.recorder.runs) {
    if (r.shard == 0) {
      ++on_zero;
      if (r.status.interrupted) stopped = &r;
    }
  }
  // Shard 0 ran unit 0 (0.5..2.5 s), then was running unit 2 when its service died at 3 s.
  CHECK(on_zero == 2);
  REQUIRE(stopped != nullptr);
  CHECK(stopped->end == Approx(3.0).margin(0.03));
  REQUIRE(f.recorder.problems.size() == 1);
  CHECK(f.recorder.problems[0].first == 0);
  CHECK_THAT(f.recorder.problems[0].second,
             Catch::Contains("resource 0 of shard 0 exited (exit status 1)") &&
                 Catch::Contains("takes no more units"));
  CHECK(f.recorder.stopped_because ==
        std::vector<std::string>{"resource 0 of shard 0 exited (exit status 1); see its log "
                                 "service-0-0.log"});
  CHECK(result.shards[1].units == 4);
  CHECK(f.runner.running() == 0);
}

TEST_CASE("an idle shard waits while units run, so requeued units run in parallel") {
  Fixture f;
  // Unit 1 ends at 3.5 s and requeues two 2 s units; shard 0 has been idle
  // since 1.5 s. Torn down early, the two would run one after the other.
  f.recorder.verdict = [](const Unit& unit, const Completion&) {
    UnitVerdict v;
    if (unit.id == 1) v.requeue = {make_unit(10, 2), make_unit(11, 2)};
    return v;
  };
  f.run({make_unit(1, 3), make_unit(0, 1)}, {.shards = 2});
  REQUIRE(f.recorder.runs.size() == 4);
  std::set<int> retry_shards;
  for (const auto& r : f.recorder.runs)
    if (r.unit >= 10) {
      retry_shards.insert(r.shard);
      CHECK(r.end == Approx(5.5).margin(0.03));
    }
  CHECK(retry_shards == std::set<int>{0, 1});
}

TEST_CASE("a pending in-process resource is polled without holding up other shards") {
  // Like a database connection: shard 0's takes 2 s, shard 1's fails at 1 s.
  struct Jobs : FakeJobs {
    ResourceStart acquire_resource(int shard, std::size_t index) override {
      FakeJobs::acquire_resource(shard, index);
      ResourceStart start;
      start.pending = true;
      return start;
    }
    ReadyCheck check_ready(int shard, std::size_t, TimePoint since, TimePoint now) override {
      double waited = std::chrono::duration<double>(now - since).count();
      if (shard == 1 && waited >= 1) return {ReadyCheck::State::kFailed, "server said no"};
      if (shard == 0 && waited >= 2) return {};
      return {ReadyCheck::State::kWaiting, ""};
    }
  };
  Fixture f;
  Jobs jobs;
  Scheduler scheduler(f.runner, f.clock, jobs, jobs, f.recorder, {.shards = 2});
  scheduler.run({make_unit(0, 1), make_unit(1, 1)});
  REQUIRE(f.recorder.problems.size() == 1);
  CHECK(f.recorder.problems[0] == std::pair<int, std::string>{1, "resource 0: server said no"});
  REQUIRE(f.recorder.runs.size() == 2);
  // Both units ran on shard 0 after its 2 s connect and 0.5 s setup.
  CHECK(f.recorder.runs[0].shard == 0);
  CHECK(f.recorder.runs[0].start == Approx(2.5).margin(0.05));
  // Shard 1's half-made resource was released too.
  CHECK(std::count(jobs.events.begin(), jobs.events.end(), "release 1") == 1);
}

namespace {

// A source like a queue on a network service: units appear at given times
// (another machine adds them), "nothing yet" before; it may refuse results.
struct TimedSource final : UnitSource {
  FakeClock& clock;
  std::vector<std::pair<double, Unit>> arrivals;  // (seconds, unit), in time order
  double closes_at = 0;                           // after this, and empty: done
  std::set<std::size_t> refuse;                   // unit ids whose results it refuses
  std::vector<std::string> calls;
  int failed = 0;

  explicit TimedSource(FakeClock& c) : clock(c) {}
  Take take(int shard) override {
    if (!arrivals.empty() && arrivals.front().first <= clock.seconds()) {
      Unit unit = arrivals.front().second;
      arrivals.erase(arrivals.begin());
      calls.push_back(fmt::format("take {} -> {}", shard, unit.id));
      return Take{Answer::kUnit, unit};
    }
    if (!arrivals.empty() || clock.seconds() < closes_at) return Take{Answer::kNotYet, {}};
    return Take{Answer::kDone, {}};
  }
  std::size_t waiting() const override { return arrivals.empty() ? 0 : arrivals.size(); }
  bool accept(int, const Unit& unit) override { return refuse.count(unit.id) == 0; }
  void finished(int, const Unit& unit, const UnitVerdict& verdict) override {
    calls.push_back(fmt::format("finished {}", unit.id));
    failed += verdict.failed_tests;
  }
  bool budget_spent() const override { return false; }
  std::vector<Unit> drain() override {
    std::vector<Unit> rest;
    for (auto& [when, unit] : arrivals) rest.push_back(unit);
    arrivals.clear();
    return rest;
  }
};

}  // namespace

TEST_CASE("a source that answers \"nothing yet\" is asked again until its unit comes") {
  Fixture f;
  TimedSource source(f.clock);
  // Unit 1 is there at once; unit 2 only at 6 s, long after unit 1 ended
  // (setup 0.5 s + 1 s): nothing runs in between, and the run must wait.
  source.arrivals = {{0, make_unit(1, 1)}, {6, make_unit(2, 1)}};
  auto result = f.run(source, {.shards = 1});
  REQUIRE(f.recorder.runs.size() == 2);
  CHECK(f.recorder.runs[1].unit == 2);
  CHECK(f.recorder.runs[1].start >= 6.0);
  CHECK(f.recorder.runs[1].start < 6.2);  // asked about every poll interval
  CHECK(source.calls ==
        std::vector<std::string>{"take 0 -> 1", "finished 1", "take 0 -> 2", "finished 2"});
  CHECK(f.recorder.not_run.empty());
  CHECK_FALSE(result.interrupted);
}

TEST_CASE("a shard the source had nothing for asks again within 20 ms, not a poll interval") {
  // A shared queue answers "not yet" and reserves a unit in the background:
  // a poll interval (100 ms) before asking again would be idle time per unit.
  Fixture f;
  TimedSource source(f.clock);
  source.arrivals = {{0, make_unit(1, 1)}, {6.05, make_unit(2, 1)}};
  f.run(source, {.shards = 1});
  REQUIRE(f.recorder.runs.size() == 2);
  CHECK(f.recorder.runs[1].start >= 6.05);
  CHECK(f.recorder.runs[1].start <= 6.071);  // 6.1 when asked every 100 ms
}

TEST_CASE("a refused result is not reported, and the shard goes on") {
  Fixture f;
  TimedSource source(f.clock);
  source.arrivals = {{0, make_unit(1, 1, 1)}, {0, make_unit(2, 1)}};
  source.refuse = {1};  // unit 1 was taken from this run: its failure is not ours
  f.run(source, {.shards = 1});
  CHECK(f.recorder.rejected == std::vector<std::size_t>{1});
  REQUIRE(f.recorder.runs.size() == 1);
  CHECK(f.recorder.runs[0].unit == 2);
  CHECK(source.calls == std::vector<std::string>{"take 0 -> 1", "take 0 -> 2", "finished 2"});
  CHECK(source.failed == 0);
}

TEST_CASE("an interrupt while a source has nothing yet ends the run, its units not run") {
  Fixture f;
  TimedSource source(f.clock);
  source.arrivals = {{0, make_unit(1, 1)}, {50, make_unit(2, 1)}};
  auto result =
      f.run(source, {.shards = 1, .interrupts = [&f] { return f.clock.seconds() > 5 ? 1 : 0; }});
  CHECK(result.interrupted);
  REQUIRE(f.recorder.runs.size() == 1);
  REQUIRE(f.recorder.not_run.size() == 1);
  CHECK(f.recorder.not_run[0].first == 2);
  CHECK(f.clock.seconds() < 10);  // it did not wait for unit 2's arrival
}

TEST_CASE("the local queue numbers requeued units after every id it has seen") {
  LocalQueue queue({make_unit(0, 1), make_unit(4, 1)}, 0);
  Unit a = *queue.take(0).unit;
  Unit retry = make_unit(0, 1);
  retry.id = Unit::kNoId;
  retry.origin = UnitOrigin{"retry", "", ""};
  Unit half = make_unit(9, 1);  // already numbered: kept
  queue.finished(0, a, UnitVerdict{0, {retry, half, retry}});
  std::vector<std::size_t> ids;
  while (queue.waiting() > 0) ids.push_back(queue.take(0).unit->id);
  CHECK(ids == std::vector<std::size_t>{4, 5, 9, 10});  // after the planned units, then after 9
}

TEST_CASE("the local queue: done only when empty and nothing it handed out still runs") {
  LocalQueue queue({make_unit(1, 1), make_unit(2, 1)}, 3);
  CHECK(queue.waiting() == 2);
  UnitSource::Take a = queue.take(0);
  REQUIRE(a.answer == UnitSource::Answer::kUnit);
  CHECK(a.unit->id == 1);
  UnitSource::Take b = queue.take(1);
  CHECK(b.unit->id == 2);
  CHECK(queue.take(0).answer == UnitSource::Answer::kNotYet);  // 1 and 2 still run
  UnitVerdict retry{2, {make_unit(3, 1)}};
  queue.finished(0, *a.unit, retry);
  CHECK_FALSE(queue.budget_spent());
  UnitSource::Take c = queue.take(0);
  CHECK(c.unit->id == 3);
  queue.finished(1, *b.unit, UnitVerdict{1, {}});
  CHECK(queue.budget_spent());                                 // 3 failed tests of 3
  CHECK(queue.take(1).answer == UnitSource::Answer::kNotYet);  // 3 still runs
  queue.finished(0, *c.unit, UnitVerdict{});
  CHECK(queue.take(0).answer == UnitSource::Answer::kDone);
  CHECK(queue.drain().empty());
}
