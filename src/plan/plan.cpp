#include "shardrun/plan.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <queue>
#include <utility>

#include "shardrun/error.hpp"

namespace shardrun {

namespace {

// How make_plan batches (DESIGN §4).
//
// Every unit pays its entry's process start-up, so few large units are
// cheap; but with exactly one unit per shard nothing is left for the dynamic
// queue to balance, and one mispredicted unit decides the run. So:
//  1. Predict each test (history, else the entry's median, else the default)
//     and each entry's start-up; a shard's share is the total over the shard
//     count, or the longest test if that is longer.
//  2. Build a candidate plan per Shape: "m main units per shard, then a tail
//     of small units made of each entry's shortest tests". Each entry's tests
//     are split into that many units of nearly equal predicted time by greedy
//     number partitioning (longest test first, into the lightest unit), so a
//     test longer than a unit's share runs alone.
//  3. Score each candidate by simulating the dynamic queue (start-ups
//     included) on the predicted times and on a few deterministic
//     perturbations of them, and keep the first shape within kSlack of the
//     best score. A tail only wins where it pays for its start-ups.
//  4. Order units longest predicted first (LPT) and number them.

struct Shape {
  double per_shard;    // main units per shard
  double tail_share;   // share of an entry's test time put in the tail
  int tail_per_shard;  // tail units per shard
};
// Fewest units first: among equal scores the earlier shape wins.
constexpr Shape kShapes[] = {
    {1, 0.0, 0}, {1.5, 0.0, 0}, {1, 0.15, 1}, {2, 0.0, 0}, {1, 0.3, 3}, {2, 0.3, 2},
};
// Scores within this factor of the best count as equal.
constexpr double kSlack = 1.01;
// The perturbations: each unit's time is scaled by a factor in 1 +- its
// uncertainty, a guess at how far a prediction is off: a test timed in earlier
// runs varies a little from run to run; one never timed (estimated by the
// median or a default) may be off by a lot. So a first run, with no history,
// gets a tail unless start-up is expensive, and a run with a good history
// gets one only where start-up is cheap.
constexpr double kKnownNoise = 0.15;
constexpr double kUnknownNoise = 0.6;
constexpr int kScenarios = 8;

struct Test {
  double seconds;
  std::size_t index;  // into PlanEntry::ids
  double noise;       // kKnownNoise or kUnknownNoise
};

// A discovered entry with its predictions, tests longest first.
struct Work {
  std::size_t source;  // index into make_plan's entries
  double startup;
  double startup_noise;
  std::vector<Test> tests;
  double total = 0;
};

// A unit before it gets its strings, so that candidates stay cheap.
struct Batch {
  std::size_t source;                // index into make_plan's entries
  std::vector<std::size_t> members;  // indices into PlanEntry::ids; empty: whole entry
  double predicted = 0;
  double noise = 0;  // relative uncertainty of `predicted`
};

// How many units of about `capacity` seconds hold `seconds` of tests: rounded
// up, because a unit well over the target lengthens a shard while one under
// it only costs a start-up; but up to 10% over is accepted, so that a main
// part a few short tests larger than m * N units (the tail boundary falls
// between tests) does not become m * N + 1 units and a straggler.
std::size_t bins_for(double seconds, double capacity) {
  if (capacity <= 0 || seconds <= 0) return 1;
  return static_cast<std::size_t>(std::max(1.0, std::ceil(seconds / capacity - 0.1)));
}

// Splits `tests` (longest first) into `count` batches of nearly equal
// predicted time: each test goes to the least loaded one (greedy number
// partitioning, LPT). A test longer than a batch's share ends up alone.
// Batches left empty (fewer tests than batches) are dropped.
void partition(const Work& work, std::vector<Test>::const_iterator first,
               std::vector<Test>::const_iterator last, double capacity, std::vector<Batch>& out) {
  if (first == last) return;
  double seconds = 0;
  for (auto it = first; it != last; ++it) seconds += it->seconds;
  std::size_t count = bins_for(seconds, capacity);
  std::vector<Batch> batches(count, Batch{work.source, {}, 0, 0});
  using Slot = std::pair<double, std::size_t>;
  std::priority_queue<Slot, std::vector<Slot>, std::greater<Slot>> lightest;
  for (std::size_t i = 0; i < count; ++i) lightest.emplace(0.0, i);
  for (auto it = first; it != last; ++it) {
    auto [load, i] = lightest.top();
    lightest.pop();
    batches[i].predicted = load + it->seconds;
    batches[i].noise += it->seconds * it->noise;  // weighted sum; divided below
    batches[i].members.push_back(it->index);
    lightest.emplace(batches[i].predicted, i);
  }
  for (Batch& batch : batches) {
    if (batch.members.empty()) continue;
    batch.noise += work.startup * work.startup_noise;
    batch.predicted += work.startup;
    batch.noise = batch.predicted > 0 ? batch.noise / batch.predicted : work.startup_noise;
    // Discovery order: what a person reading the plan expects, and the
    // order the test framework itself would have run them in.
    std::sort(batch.members.begin(), batch.members.end());
    out.push_back(std::move(batch));
  }
}

// Longest predicted first; ties in a fixed order so that the plan, and hence
// the CI node split, is the same on every machine.
bool runs_before(const Batch& a, const Batch& b) {
  if (a.predicted != b.predicted) return a.predicted > b.predicted;
  if (a.source != b.source) return a.source < b.source;
  return a.members < b.members;
}

std::vector<Batch> build(const std::vector<Work>& work, const std::vector<Batch>& whole,
                         double span, const Shape& shape) {
  double main_capacity = span * (1 - shape.tail_share) / shape.per_shard;
  double tail_capacity =
      shape.tail_per_shard > 0 ? span * shape.tail_share / shape.tail_per_shard : 0;
  std::vector<Batch> plan = whole;
  for (const Work& w : work) {
    auto split = w.tests.end();
    // An entry that fits in one main unit stays whole: splitting it would
    // only add start-ups.
    if (shape.tail_share > 0 && w.total > main_capacity) {
      double budget = w.total * shape.tail_share;
      double taken = 0;
      while (split != w.tests.begin() && taken + std::prev(split)->seconds <= budget) {
        --split;
        taken += split->seconds;
      }
    }
    partition(w, w.tests.begin(), split, main_capacity, plan);
    partition(w, split, w.tests.end(), tail_capacity, plan);
  }
  std::sort(plan.begin(), plan.end(), runs_before);
  return plan;
}

// splitmix64: a fixed, portable hash, so that every CI node scores the same
// candidates the same way (std:: distributions differ between libraries).
double unit_noise(std::uint64_t scenario, std::uint64_t position, double amplitude) {
  std::uint64_t z = scenario * 0x9E3779B97F4A7C15ull + position + 1;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  double uniform = static_cast<double>(z >> 11) / static_cast<double>(1ull << 53);  // [0, 1)
  return 1 + amplitude * (2 * uniform - 1);
}

// Mean simulated makespan over the predicted times and kScenarios
// perturbations of them.
double score(const std::vector<Batch>& plan, int shards) {
  std::vector<Unit> light(plan.size());
  double total = 0;
  for (int scenario = 0; scenario <= kScenarios; ++scenario) {
    for (std::size_t i = 0; i < plan.size(); ++i)
      light[i].predicted_seconds =
          plan[i].predicted * (scenario == 0 ? 1.0 : unit_noise(scenario, i, plan[i].noise));
    total += simulate(light, shards).makespan;
  }
  return total / (kScenarios + 1);
}

std::vector<Unit> materialize(const std::vector<Batch>& plan,
                              const std::vector<PlanEntry>& entries) {
  std::map<std::size_t, int> per_source;
  for (const Batch& batch : plan) ++per_source[batch.source];
  std::map<std::size_t, int> seen;
  std::vector<Unit> units;
  units.reserve(plan.size());
  for (const Batch& batch : plan) {
    const PlanEntry& entry = entries[batch.source];
    Unit unit;
    unit.id = units.size();
    unit.entry = entry.entry;
    unit.predicted_seconds = batch.predicted;
    unit.label = entry.name;
    if (per_source[batch.source] > 1) unit.label += "#" + std::to_string(++seen[batch.source]);
    unit.tests.reserve(batch.members.size());
    for (std::size_t i : batch.members) unit.tests.push_back(entry.ids[i]);
    units.push_back(std::move(unit));
  }
  return units;
}

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

std::vector<Unit> make_plan(const std::vector<PlanEntry>& entries, const Timings& timings,
                            const PlanOptions& options) {
  int shards = std::max(1, options.shards);
  std::vector<Work> work;
  std::vector<Batch> whole;
  double total = 0;
  double longest = 0;
  for (std::size_t source = 0; source < entries.size(); ++source) {
    const PlanEntry& entry = entries[source];
    if (!entry.discovered) {
      // A unit without test ids is predicted by its whole wall time, which
      // Timings::record_unit keeps as the entry's start-up cost (such a
      // unit's testcases are not test ids, so its test_seconds is 0).
      std::optional<double> known = timings.startup(entry.name);
      double seconds = known.value_or(std::max(0.0, options.default_unit_seconds));
      whole.push_back(Batch{source, {}, seconds, known ? kKnownNoise : kUnknownNoise});
      total += seconds;
      longest = std::max(longest, seconds);
      continue;
    }
    // Discovery found nothing: nothing to run (an empty "{tests}" would make
    // most runners run everything).
    if (entry.ids.empty()) continue;
    Work w;
    w.source = source;
    std::optional<double> startup = timings.startup(entry.name);
    w.startup = startup.value_or(std::max(0.0, options.default_startup_seconds));
    w.startup_noise = startup ? kKnownNoise : kUnknownNoise;
    // The median once per entry: Timings::estimate would recompute it for
    // every unknown test.
    double unknown =
        timings.median(entry.name).value_or(std::max(0.0, options.default_test_seconds));
    w.tests.reserve(entry.ids.size());
    for (std::size_t i = 0; i < entry.ids.size(); ++i) {
      std::optional<TimingSample> known = timings.test(entry.name, entry.ids[i]);
      double seconds = known ? known->seconds : unknown;
      w.tests.push_back(Test{seconds, i, known ? kKnownNoise : kUnknownNoise});
      w.total += seconds;
      longest = std::max(longest, seconds);
    }
    std::stable_sort(w.tests.begin(), w.tests.end(),
                     [](const Test& a, const Test& b) { return a.seconds > b.seconds; });
    total += w.total;
    work.push_back(std::move(w));
  }

  // One shard's share of the work. When one test is longer than that, the
  // run cannot end before it anyway, and units smaller than it only add
  // start-ups.
  double span = std::max(total / shards, longest);
  std::vector<std::vector<Batch>> candidates;
  std::vector<double> scores;
  for (const Shape& shape : kShapes) {
    candidates.push_back(build(work, whole, span, shape));
    scores.push_back(score(candidates.back(), shards));
  }
  double best = *std::min_element(scores.begin(), scores.end());
  std::size_t chosen = 0;
  while (scores[chosen] > best * kSlack) ++chosen;
  return materialize(candidates[chosen], entries);
}

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
