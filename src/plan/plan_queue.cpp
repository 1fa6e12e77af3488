// The dynamic queue's simulation and the CI-node split (DESIGN §4).
#include <algorithm>
#include <queue>
#include <utility>

#include "shardrun/error.hpp"
#include "shardrun/plan.hpp"

namespace shardrun {

namespace {

// Min-heap of (time, index): the earliest-free shard or the lightest node,
// ties to the lowest index, as the scheduler fills shards in index order.
using Slot = std::pair<double, int>;
using SlotQueue = std::priority_queue<Slot, std::vector<Slot>, std::greater<Slot>>;

SlotQueue all_free(int count) {
  SlotQueue slots;
  for (int i = 0; i < count; ++i) slots.emplace(0.0, i);
  return slots;
}

}  // namespace

Simulation simulate(const std::vector<Unit>& units, int shards) {
  shards = std::max(1, shards);
  Simulation sim;
  sim.shard.reserve(units.size());
  sim.start.reserve(units.size());
  SlotQueue free_at = all_free(shards);
  double sum = 0;
  double longest = 0;
  for (const Unit& unit : units) {
    // A hand-made plan file could predict a negative time; time does not
    // run backwards.
    double seconds = std::max(0.0, unit.predicted_seconds);
    auto [now, shard] = free_at.top();
    free_at.pop();
    sim.shard.push_back(shard);
    sim.start.push_back(now);
    sim.makespan = std::max(sim.makespan, now + seconds);
    free_at.emplace(now + seconds, shard);
    sum += seconds;
    longest = std::max(longest, seconds);
  }
  sim.lower_bound = std::max(sum / shards, longest);
  return sim;
}

std::vector<Unit> select_node(const std::vector<Unit>& units, int index, int count) {
  if (count < 1) throw UsageError("shard count must be at least 1, not " + std::to_string(count));
  if (index < 0 || index >= count)
    throw UsageError("shard index " + std::to_string(index) + " is outside 0.." +
                     std::to_string(count - 1));
  // Greedy in plan order (longest first when the plan comes from make_plan):
  // each unit goes to the node with the least predicted time so far. Every
  // node computes the same assignment from the same plan, so the parts are
  // disjoint and cover the plan without the nodes talking to each other.
  SlotQueue load = all_free(count);
  std::vector<Unit> mine;
  for (const Unit& unit : units) {
    auto [assigned, node] = load.top();
    load.pop();
    load.emplace(assigned + std::max(0.0, unit.predicted_seconds), node);
    if (node == index) mine.push_back(unit);
  }
  return mine;
}

}  // namespace shardrun
