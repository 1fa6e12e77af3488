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

struct FakeJobs : JobSource {
  std::map<int, int> setup_code;  // shard -> exit code of its setup command
  std::set<int> failing_prepare;
  std::vector<std::string> events;

  std::optional<std::string> prepare_shard(int shard) override {
    events.push_back(fmt::format("prepare {}", shard));
    if (failing_prepare.count(shard)) return fmt::format("port for shard {} unavailable", shard);
    return std::nullopt;
  }
  std::optional<std::string> release_shard(int shard) override {
    events.push_back(fmt::format("release {}", shard));
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
  std::function<UnitVerdict(const Unit&, const Completion&)> verdict;

  explicit Recorder(FakeClock& c) : clock(c) {}
  void on_unit_start(int, const Unit& unit, TimePoint) override {
    started_at[unit.id] = clock.seconds();
  }
  UnitVerdict on_unit_end(int shard, const Unit& unit, const Completion& done) override {
    runs.push_back({shard, unit.id, started_at[unit.id], clock.seconds(), done.status});
    if (verdict) return verdict(unit, done);
    return UnitVerdict{done.status.success() ? 0 : 1, {}};
  }
  void on_unit_not_run(const Unit& unit, const std::string& reason) override {
    not_run.emplace_back(unit.id, reason);
  }
  void on_shard_problem(int shard, const std::string& what) override {
    problems.emplace_back(shard, what);
  }
};

struct Fixture {
  FakeClock clock;
  FakeRunner runner{clock};
  FakeJobs jobs;
  Recorder recorder{clock};

  SchedulerResult run(std::deque<Unit> units, SchedulerOptions options) {
    Scheduler scheduler(runner, clock, jobs, recorder, std::move(options));
    return scheduler.run(std::move(units));
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
  // prepare failed, so no setup or teardown command ran, but resources were released
  CHECK(f.runner.started.empty());
  CHECK(std::count(f.jobs.events.begin(), f.jobs.events.end(), "release 0") == 1);
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
  Scheduler scheduler(f.runner, f.clock, jobs, f.recorder, {.shards = 1});
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
