// simulate (the dynamic queue on predicted times) and select_node (the split
// of a plan across CI machines).

#include <catch2/catch.hpp>

#include "shardrun/error.hpp"
#include "support.hpp"

using namespace shardrun;
using namespace plan_test;

namespace {

std::vector<Unit> units_of(const std::vector<double>& seconds) {
  std::vector<Unit> units;
  for (std::size_t i = 0; i < seconds.size(); ++i) {
    Unit u;
    u.id = i;
    u.predicted_seconds = seconds[i];
    u.label = "u" + std::to_string(i);
    units.push_back(u);
  }
  return units;
}

std::vector<std::size_t> ids(const std::vector<Unit>& units) {
  std::vector<std::size_t> out;
  for (const Unit& u : units) out.push_back(u.id);
  return out;
}

double predicted(const std::vector<Unit>& units) {
  double s = 0;
  for (const Unit& u : units) s += u.predicted_seconds;
  return s;
}

}  // namespace

TEST_CASE("simulate: each free shard takes the next unit in order") {
  Simulation sim = simulate(units_of({5, 3, 3, 2}), 2);
  CHECK(sim.shard == std::vector<int>{0, 1, 1, 0});
  CHECK(sim.start == std::vector<double>{0, 0, 3, 5});
  CHECK(sim.makespan == Approx(7));
  CHECK(sim.lower_bound == Approx(6.5));
  CHECK(sim.ratio() == Approx(7 / 6.5));
}

TEST_CASE("simulate: ties go to the lowest shard, and order is the caller's") {
  Simulation sim = simulate(units_of({1, 1, 1, 1, 1}), 3);
  CHECK(sim.shard == std::vector<int>{0, 1, 2, 0, 1});
  CHECK(sim.makespan == Approx(2));
  // Shortest first is worse than longest first: the order matters.
  CHECK(simulate(units_of({1, 1, 1, 1, 4}), 2).makespan == Approx(6));
  CHECK(simulate(units_of({4, 1, 1, 1, 1}), 2).makespan == Approx(4));
}

TEST_CASE("simulate: the lower bound is the longest unit when it dominates") {
  Simulation sim = simulate(units_of({10, 1, 1}), 4);
  CHECK(sim.lower_bound == Approx(10));
  CHECK(sim.makespan == Approx(10));
  CHECK(sim.ratio() == Approx(1));
}

TEST_CASE("simulate: empty plans and odd inputs") {
  Simulation empty = simulate({}, 4);
  CHECK(empty.makespan == 0);
  CHECK(empty.lower_bound == 0);
  CHECK(empty.ratio() == 1.0);
  CHECK(empty.shard.empty());
  Simulation one = simulate(units_of({2, 3}), 0);  // treated as one shard
  CHECK(one.shard == std::vector<int>{0, 0});
  CHECK(one.makespan == Approx(5));
  Simulation negative = simulate(units_of({-4, 2}), 1);
  CHECK(negative.makespan == Approx(2));
}

TEST_CASE("select_node: every unit on exactly one node, deterministic, order kept") {
  std::vector<double> seconds = exponential(57, 3.0, 51);
  std::sort(seconds.rbegin(), seconds.rend());
  std::vector<Unit> plan = units_of(seconds);
  for (int count = 1; count <= 10; ++count) {
    INFO("count = " << count);
    std::vector<int> owner(plan.size(), -1);
    for (int index = 0; index < count; ++index) {
      std::vector<Unit> mine = select_node(plan, index, count);
      CHECK(ids(mine) == ids(select_node(plan, index, count)));
      std::vector<std::size_t> got = ids(mine);
      CHECK(std::is_sorted(got.begin(), got.end()));
      for (std::size_t id : got) {
        CHECK(owner[id] == -1);
        owner[id] = index;
      }
      // Units come back whole.
      for (const Unit& u : mine) CHECK(u.label == "u" + std::to_string(u.id));
    }
    CHECK(std::count(owner.begin(), owner.end(), -1) == 0);
  }
  CHECK(ids(select_node(plan, 0, 1)) == ids(plan));
}

TEST_CASE("select_node: nodes get balanced predicted time") {
  std::vector<double> seconds = uniform(400, 0.5, 5.0, 52);
  std::sort(seconds.rbegin(), seconds.rend());
  std::vector<Unit> plan = units_of(seconds);
  double total = predicted(plan);
  for (int count = 2; count <= 10; ++count) {
    INFO("count = " << count);
    double worst = 0;
    for (int index = 0; index < count; ++index)
      worst = std::max(worst, predicted(select_node(plan, index, count)));
    CHECK(worst <= 1.1 * total / count);
    CHECK(worst <= total / count + 5.0);  // LPT: off by at most one unit
  }
}

TEST_CASE("select_node: more nodes than units leaves some nodes empty") {
  std::vector<Unit> plan = units_of({3, 2, 1});
  std::size_t covered = 0;
  int empty = 0;
  for (int index = 0; index < 5; ++index) {
    std::vector<Unit> mine = select_node(plan, index, 5);
    covered += mine.size();
    empty += mine.empty() ? 1 : 0;
  }
  CHECK(covered == 3);
  CHECK(empty == 2);
}

TEST_CASE("select_node: bad index or count is a usage error") {
  std::vector<Unit> plan = units_of({1, 2});
  CHECK_THROWS_AS(select_node(plan, 0, 0), UsageError);
  CHECK_THROWS_AS(select_node(plan, -1, 3), UsageError);
  CHECK_THROWS_AS(select_node(plan, 3, 3), UsageError);
}

TEST_CASE("a plan made for all machines' shards, split by node, keeps each node busy") {
  // M machines of N shards each: the plan is made for N * M shards, so that
  // each node's part is about one unit per local shard.
  Timings t;
  std::vector<double> durations = uniform(600, 0.1, 1.0, 53);
  std::vector<PlanEntry> entries = {timed_entry(t, 0, "e", durations, 1.0)};
  const int shards = 4;
  const int machines = 3;
  PlanOptions o;
  o.shards = shards * machines;
  std::vector<Unit> plan = make_plan(entries, t, o);
  double whole = simulate(plan, shards * machines).makespan;
  for (int index = 0; index < machines; ++index) {
    INFO("node " << index);
    Simulation node = simulate(select_node(plan, index, machines), shards);
    CHECK(node.makespan <= 1.05 * whole);
  }
}
