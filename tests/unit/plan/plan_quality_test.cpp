// How good make_plan's plans are: the dynamic queue simulated on the
// predicted times must end close to the lower bound, while start-up is paid
// rarely (few units per shard), for several known distributions of test
// durations. These are ratios of simulated times, not timed tests.

#include <catch2/catch.hpp>

#include "support.hpp"

using namespace shardrun;
using namespace plan_test;

namespace {

struct Outcome {
  std::vector<Unit> plan;
  Simulation sim;
};

Outcome plan_and_simulate(const std::vector<PlanEntry>& entries, const Timings& timings,
                          int shards) {
  PlanOptions o;
  o.shards = shards;
  Outcome out{make_plan(entries, timings, o), {}};
  check_plan_shape(out.plan, entries);
  out.sim = simulate(out.plan, shards);
  return out;
}

// Whatever the batching, every shard pays at least one start-up and the
// longest test runs whole: no plan can end before this.
double ideal(const std::vector<double>& durations, double startup, int shards) {
  double longest = *std::max_element(durations.begin(), durations.end());
  return std::max(sum(durations) / shards, longest) + startup;
}

}  // namespace

TEST_CASE("skewed: 200 tests of 20-50 ms and five of 3 s, start-up 2 s") {
  std::vector<double> durations = uniform(200, 0.02, 0.05, 11);
  for (int i = 0; i < 5; ++i) durations.insert(durations.begin() + 40 * i + 7, 3.0);
  for (int shards : {4, 8}) {
    INFO("shards = " << shards);
    Timings t;
    std::vector<PlanEntry> entries = {timed_entry(t, 0, "skewed", durations, 2.0)};
    Outcome o = plan_and_simulate(entries, t, shards);
    CHECK(o.sim.ratio() <= 1.05);
    // Start-up costs as much as a shard's share of the tests: one unit per
    // shard, give or take the 3 s tests.
    CHECK(o.plan.size() <= static_cast<std::size_t>(shards) + 1);
    // The best possible: on 4 shards one shard must run two 3 s tests.
    double best = shards == 4 ? 2 * 3.0 + 2 : ideal(durations, 2.0, shards);
    CHECK(o.sim.makespan <= 1.05 * best);
    // Every 3 s test is in one of the first units handed out.
    for (std::size_t u = 0; u < o.plan.size(); ++u)
      for (const std::string& id : o.plan[u].tests)
        if (t.test("skewed", id)->seconds == 3.0) CHECK(u < static_cast<std::size_t>(shards));
  }
}

TEST_CASE("uniform, exponential and heavy-tailed durations end near the bound") {
  struct Case {
    const char* name;
    std::vector<double> durations;
    double startup;
  };
  std::vector<Case> cases = {
      {"uniform 0.1-1 s, start-up 1 s", uniform(300, 0.1, 1.0, 21), 1.0},
      {"exponential mean 0.3 s, start-up 1 s", exponential(300, 0.3, 22), 1.0},
      {"heavy-tailed, start-up 0.5 s", heavy_tailed(400, 0.05, 23), 0.5},
      {"uniform, start-up 5 s", uniform(300, 0.1, 1.0, 24), 5.0},
      {"2000 tiny tests, start-up 2 s", uniform(2000, 0.001, 0.01, 25), 2.0},
  };
  for (const Case& c : cases) {
    for (int shards : {2, 4, 8, 16}) {
      INFO(c.name << ", shards = " << shards);
      Timings t;
      std::vector<PlanEntry> entries = {timed_entry(t, 0, "e", c.durations, c.startup)};
      Outcome o = plan_and_simulate(entries, t, shards);
      CHECK(o.sim.ratio() <= 1.05);
      CHECK(o.sim.makespan <= 1.05 * ideal(c.durations, c.startup, shards));
      // Start-up at 1% or more of a shard's share: about one unit per shard.
      CHECK(o.plan.size() <= static_cast<std::size_t>(2 * shards));
    }
  }
}

TEST_CASE("cheap start-up and a history off by 20 % buy a dynamic tail of small units") {
  std::vector<double> durations = uniform(300, 0.1, 1.0, 31);
  for (int shards : {2, 4, 8}) {
    INFO("shards = " << shards);
    Timings t;
    std::vector<PlanEntry> entries = {timed_entry(t, 0, "e", durations, 0.01)};
    // The tail is sized from the measured error (a good history, as
    // timed_entry records, needs little of it at 2 shards).
    for (int run = 0; run < 4; ++run) t.record_error("e", 0.2);
    Outcome o = plan_and_simulate(entries, t, shards);
    CHECK(o.sim.ratio() <= 1.05);
    CHECK(o.plan.size() > static_cast<std::size_t>(shards));  // a tail
    // Start-ups this cheap make even the most units per shard (8) free.
    CHECK(o.plan.size() <= static_cast<std::size_t>(8 * shards + 1));
    // The tail is made of the smallest units: the last unit is well under
    // a shard's share, so the last shard to finish waits little.
    double share = sum(durations) / shards;
    CHECK(o.plan.back().predicted_seconds < 0.2 * share);
  }
}

TEST_CASE("one test longer than total / N: the bound is that test plus start-up") {
  std::vector<double> durations(100, 0.1);
  durations.push_back(20.0);
  for (int shards : {2, 4, 8, 16}) {
    INFO("shards = " << shards);
    Timings t;
    std::vector<PlanEntry> entries = {timed_entry(t, 0, "e", durations, 1.0)};
    Outcome o = plan_and_simulate(entries, t, shards);
    CHECK(o.sim.lower_bound == Approx(21.0));
    CHECK(o.sim.makespan == Approx(21.0));
    // Nothing gained by cutting the other 10 s into many units.
    CHECK(o.plan.size() <= 4);
  }
}

TEST_CASE("several entries and whole-entry units share the shards well") {
  Timings t;
  t.record_unit("smoke", 4, 0);
  std::vector<PlanEntry> entries = {
      timed_entry(t, 0, "api", uniform(200, 0.05, 0.3, 41), 0.1),
      timed_entry(t, 1, "ui", uniform(40, 0.5, 2.0, 42), 0.1),
      plain_entry(2, "smoke"),
      timed_entry(t, 3, "unit", uniform(500, 0.001, 0.02, 43), 0.1),
  };
  for (int shards : {2, 4, 8}) {
    INFO("shards = " << shards);
    Outcome o = plan_and_simulate(entries, t, shards);
    CHECK(o.sim.ratio() <= 1.05);
    CHECK(o.plan.size() <= static_cast<std::size_t>(4 * shards) + entries.size());
  }
}

TEST_CASE("a first run without history still balances and gets a tail") {
  PlanEntry e;
  e.name = "e";
  e.discovered = true;
  for (int i = 0; i < 300; ++i) e.ids.push_back("t" + std::to_string(i));
  Timings none;
  for (int shards : {2, 4, 8}) {
    INFO("shards = " << shards);
    Outcome o = plan_and_simulate({e}, none, shards);
    CHECK(o.sim.ratio() <= 1.05);
    // Every estimate is a guess: leave small units for the dynamic queue.
    CHECK(o.plan.size() > static_cast<std::size_t>(shards));
    CHECK(o.plan.size() <= static_cast<std::size_t>(4 * shards));
  }
}
