#include "shardrun/plan.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <queue>
#include <utility>

namespace shardrun {

namespace {

// How make_plan batches (DESIGN §4).
//
// Every unit pays its entry's process start-up, and the load cost (import,
// collection) of every group (test file) it holds. So units are made of
// whole groups: each file is then loaded once in the whole run. But with
// exactly one unit per shard nothing is left for the dynamic queue to
// balance, and one mispredicted unit decides the run. So:
//  1. Predict each test (history, else the entry's median, else the
//     default; an unknown test file weighted by its size), each group's
//     load and each entry's start-up; a shard's share
//     is the total over the shard count, or the longest group if that is
//     longer.
//  2. Build a candidate plan per Shape: "m main units per shard, then a tail
//     of small units made of each entry's smallest groups" (equal units, or
//     units that halve level by level: pack_halving). An entry known from
//     history whose predictions may be off by 10 % or more keeps that much
//     of its time (at most 30 %) in the tail: only shapes with such a tail
//     are candidates (least_tail). A group larger
//     than a main unit (of at most kMaxCutsPerShard a shard; a group known
//     only by guesses: larger than a shard's share) is cut into as few
//     contiguous pieces as fit (each piece pays the group's load); the
//     groups and pieces are then packed
//     into units of nearly equal predicted time (longest first, into the
//     lightest unit).
//  3. Score each candidate by simulating the dynamic queue on the predicted
//     times and on deterministic perturbations of them: known times per
//     unit, as much as the entry's measured prediction error (a guess where
//     none was measured); guessed times per group, heavy-tailed
//     (guess_noise); the score of a plan known from history leans to its
//     worse outcomes (kRiskWeight).
//     Keep the first shape within kSlack of the best score.
//     Where predictions have been wrong, a tail of small late units wins;
//     where they have been right, fewer units do; on a first run, several
//     small units a shard.
//  4. Order units longest predicted first (LPT) and number them.

struct Shape {
  double per_shard;    // main units per shard
  double tail_share;   // share of an entry's time put in the tail
  int tail_per_shard;  // tail units per shard; kHalving: see pack_halving
};
constexpr int kHalving = -1;
// Fewest units first: among equal scores the earlier shape wins.
constexpr Shape kShapes[] = {
    {1, 0.0, 0}, {1.5, 0.0, 0}, {1, 0.15, 1}, {1, 0.15, kHalving}, {2, 0.0, 0}, {1, 0.3, kHalving},
    {1, 0.3, 3}, {2, 0.3, 2},   {1, 0.45, 4}, {1, 0.5, kHalving},  {3, 0.3, 2}, {4, 0.3, 4},
};
// An entry known from history whose predictions may be off by at least this
// (Work::noise) keeps that share of its time, up to kMaxLeastTail, in the
// dynamic tail (least_tail).
constexpr double kTailNoise = 0.1;
constexpr double kMaxLeastTail = 0.3;
// The smallest unit of a halving tail, in start-ups: a unit shorter than
// this spends more than a quarter of its time starting.
constexpr double kMinTailStartups = 4;
// Levels of a halving tail: its last units hold 1/16 of it.
constexpr int kMaxLevels = 4;
// Groups are cut as if a shape had at most this many main units a shard.
constexpr double kMaxCutsPerShard = 2;
// Scores within this factor of the best count as equal.
constexpr double kSlack = 1.01;
// How much the score of a plan known from history is the mean of its worse
// half of simulated outcomes rather than the mean of all (score()). At 0
// the sympy suite's warm plan was one unit a shard, which one test's random
// 2-16 s made 33 % late.
constexpr double kRiskWeight = 0.5;
// How far a prediction may be off, as the amplitude of a uniform factor
// 1 +- a (its mean error is a / 2). A start-up or whole-entry time never
// measured may be off by kUnknownNoise (guessed test times and loads are
// drawn by guess_noise instead); a measured one by twice the entry's
// measured mean error, or, where no run has measured it yet, by
// kUnmeasuredNoise: on real suites test times do not simply add up (caches
// warmed by earlier tests), so that guess is not small.
constexpr double kUnknownNoise = 0.6;
constexpr double kUnmeasuredNoise = 0.3;
constexpr double kMinNoise = 0.05;
constexpr double kMaxNoise = 0.9;  // keeps a perturbed time positive
constexpr int kScenarios = 16;
// Bounds of an unknown id's prior (PlanEntry::id_weights over their mean).
constexpr double kMinWeight = 0.1;
constexpr double kMaxWeight = 10;
// A unit whose prediction is known for less than this share is "estimated".
constexpr double kKnownShare = 0.8;

// One group of an entry: its tests in discovery order.
struct Group {
  std::vector<std::size_t> members;  // indices into PlanEntry::ids, ascending
  std::vector<double> seconds;       // per member
  std::vector<bool> known;           // per member
  double load = 0;
  bool load_known = false;
  double tests = 0;  // sum of `seconds`
  double total() const { return load + tests; }
};

// Nothing of the group is known from history.
bool guessed(const Group& g) {
  return !g.load_known && std::none_of(g.known.begin(), g.known.end(), [](bool k) { return k; });
}

// A discovered entry with its predictions.
struct Work {
  std::size_t source;  // index into make_plan's entries
  const PlanEntry* entry;
  std::vector<std::size_t> group_of_id;  // per id: index into `groups`
  double startup;
  bool startup_known;
  double noise;  // for known times
  std::vector<Group> groups;
  double total = 0;
};

// A whole group or a piece of one: what units are packed from.
struct Item {
  std::vector<std::size_t> members;
  double seconds = 0;     // tests + load
  double known = 0;       // the part of `seconds` from history
  double noisy = 0;       // sum of known seconds * noise
  std::size_t group = 0;  // index into Work::groups
};

// The part of a unit's prediction that rests on no history (tests and loads
// never measured), one per item, with the key its perturbation is drawn by.
struct Guess {
  double seconds;
  std::uint64_t key;
};

// A unit before it gets its strings, so that candidates stay cheap.
struct Batch {
  std::size_t source;                // index into make_plan's entries
  std::vector<std::size_t> members;  // indices into PlanEntry::ids; empty: whole entry
  double predicted = 0;
  double noise = 0;  // relative uncertainty of the part of `predicted` not in `guesses`
  double known = 0;  // the part of `predicted` from history
  std::size_t groups = 0;
  std::vector<Guess> guesses;  // the parts of `predicted` that are guesses
};

// The key of a guess: a group draws the same perturbation in every candidate
// plan, so that candidates are compared on the same worlds, and every piece
// of a split group draws the group's (a file that is slow is slow in every
// piece; splitting it must not look like spreading the risk).
std::uint64_t guess_key(std::size_t source, std::size_t group) {
  return (static_cast<std::uint64_t>(source) << 40) ^ group;
}

// How many units of about `capacity` seconds hold `seconds`: rounded up,
// because a unit well over the target lengthens a shard while one under it
// only costs a start-up; but up to 10% over is accepted, so that a main part
// a little larger than m * N units does not become m * N + 1 units and a
// straggler.
std::size_t bins_for(double seconds, double capacity) {
  if (capacity <= 0 || seconds <= 0) return 1;
  return static_cast<std::size_t>(std::max(1.0, std::ceil(seconds / capacity - 0.1)));
}

Item piece_of(const Work& w, std::size_t group, std::size_t first, std::size_t last) {
  const Group& g = w.groups[group];
  Item item;
  item.group = group;
  item.seconds = g.load;
  item.known = g.load_known ? g.load : 0;
  for (std::size_t i = first; i < last; ++i) {
    item.members.push_back(g.members[i]);
    item.seconds += g.seconds[i];
    if (g.known[i]) item.known += g.seconds[i];
  }
  item.noisy = item.known * w.noise;
  return item;
}

// A group as one item, or, when it is larger than `capacity`, as the fewest
// contiguous pieces that fit: contiguous, so that tests sharing a class or a
// module fixture stay together. Cuts fall where the running test time
// passes each piece's share.
void add_items(const Work& w, std::size_t group, double capacity, std::vector<Item>& out) {
  const Group& g = w.groups[group];
  std::size_t pieces = std::min(g.members.size(), bins_for(g.total(), capacity));
  if (pieces <= 1) {
    out.push_back(piece_of(w, group, 0, g.members.size()));
    return;
  }
  double share = g.tests / static_cast<double>(pieces);
  std::size_t first = 0;
  double running = 0;
  for (std::size_t p = 1; p < pieces; ++p) {
    std::size_t last = first;
    // At least one test per piece, and leave one for each piece to come.
    while (last < g.members.size() - (pieces - p) &&
           (last == first || running + g.seconds[last] / 2 <= share * static_cast<double>(p)))
      running += g.seconds[last++];
    out.push_back(piece_of(w, group, first, last));
    first = last;
  }
  out.push_back(piece_of(w, group, first, g.members.size()));
}

// The seconds of member `id` of a group (its position found by search:
// only units over the byte limit get here).
double seconds_of(const Work& w, std::size_t id) {
  const Group& g = w.groups[w.group_of_id[id]];
  auto at = std::lower_bound(g.members.begin(), g.members.end(), id);
  return g.seconds[static_cast<std::size_t>(at - g.members.begin())];
}

// A batch whose ids would not fit on a command line, cut into contiguous
// parts that do; each part pays the start-up and the loads of its groups.
void fit_bytes(const Work& w, Batch batch, std::vector<Batch>& out) {
  const PlanEntry& e = *w.entry;
  std::size_t bytes = 0;
  if (e.byte_limit > 0 && e.id_bytes.size() == e.ids.size())
    for (std::size_t id : batch.members) bytes += e.id_bytes[id];
  if (bytes <= e.byte_limit || e.byte_limit == 0 || batch.members.size() < 2) {
    out.push_back(std::move(batch));
    return;
  }
  const double known_share = batch.predicted > 0 ? batch.known / batch.predicted : 0;
  Batch part{w.source, {}, w.startup, batch.noise, 0, 0, {}};
  std::size_t used = 0, last_group = SIZE_MAX;
  auto flush = [&] {
    part.known = part.predicted * known_share;
    if (known_share < 1)
      part.guesses.push_back(Guess{part.predicted * (1 - known_share),
                                   guess_key(w.source, w.group_of_id[part.members.front()])});
    out.push_back(std::move(part));
    part = Batch{w.source, {}, w.startup, batch.noise, 0, 0, {}};
    used = 0;
    last_group = SIZE_MAX;
  };
  for (std::size_t id : batch.members) {
    if (!part.members.empty() && used + e.id_bytes[id] > e.byte_limit) flush();
    part.members.push_back(id);
    used += e.id_bytes[id];
    part.predicted += seconds_of(w, id);
    if (w.group_of_id[id] != last_group) {
      last_group = w.group_of_id[id];
      part.predicted += w.groups[last_group].load;
      part.groups += 1;
    }
  }
  flush();
}

// Packs items into as many batches as `capacity` needs, each item into the
// least loaded batch, largest first (greedy number partitioning). Batches
// left empty (fewer items than batches) are dropped.
void pack(const Work& w, std::vector<Item> items, double capacity, std::vector<Batch>& out) {
  if (items.empty()) return;
  double seconds = 0;
  for (const Item& item : items) seconds += item.seconds;
  std::stable_sort(items.begin(), items.end(),
                   [](const Item& a, const Item& b) { return a.seconds > b.seconds; });
  std::size_t count = std::min(items.size(), bins_for(seconds, capacity));
  std::vector<Batch> batches(count, Batch{w.source, {}, 0, 0, 0, 0, {}});
  using Slot = std::pair<double, std::size_t>;
  std::priority_queue<Slot, std::vector<Slot>, std::greater<Slot>> lightest;
  for (std::size_t i = 0; i < count; ++i) lightest.emplace(0.0, i);
  for (const Item& item : items) {
    auto [load, i] = lightest.top();
    lightest.pop();
    Batch& b = batches[i];
    b.predicted = load + item.seconds;
    b.known += item.known;
    b.noise += item.noisy;  // a weighted sum; divided below
    if (item.seconds > item.known)
      b.guesses.push_back(Guess{item.seconds - item.known, guess_key(w.source, item.group)});
    b.groups += 1;
    b.members.insert(b.members.end(), item.members.begin(), item.members.end());
    lightest.emplace(b.predicted, i);
  }
  for (Batch& b : batches) {
    if (b.members.empty()) continue;
    b.noise += w.startup * (w.startup_known ? w.noise : kUnknownNoise);
    b.predicted += w.startup;
    if (w.startup_known) b.known += w.startup;
    double guessed = 0;
    for (const Guess& g : b.guesses) guessed += g.seconds;
    double rest = b.predicted - guessed;  // known parts and the start-up
    b.noise = rest > 0 ? b.noise / rest : kUnknownNoise;
    // Discovery order: what a person reading the plan expects, the order
    // the test framework itself would run them in, and a split group's
    // pieces stay contiguous.
    std::sort(b.members.begin(), b.members.end());
    fit_bytes(w, std::move(b), out);
  }
}

// Longest predicted first; ties in a fixed order so that the plan, and hence
// the CI node split, is the same on every machine.
bool runs_before(const Batch& a, const Batch& b) {
  if (a.predicted != b.predicted) return a.predicted > b.predicted;
  if (a.source != b.source) return a.source < b.source;
  return a.members < b.members;
}

// Packs a tail of `seconds` a shard into units that halve in size level by
// level (guided self-scheduling): the first levels absorb what the main
// units overran, the last, small ones even out the shards' ends, and the
// tail costs few start-ups for how finely it ends. Level k's units hold
// about seconds / 2^k (one a shard while the entry's tail lasts), down to
// kMinTailStartups start-ups and at most kMaxLevels levels; the last level
// takes the rest. Items are taken largest first, so the larger tail groups
// go into the larger units.
void pack_halving(const Work& w, std::vector<Item> tail, double seconds, int shards,
                  std::vector<Batch>& out) {
  std::stable_sort(tail.begin(), tail.end(),
                   [](const Item& a, const Item& b) { return a.seconds > b.seconds; });
  const double smallest = kMinTailStartups * w.startup;
  double capacity = seconds / 2;
  std::size_t next = 0;
  for (int level = 1; next < tail.size(); ++level) {
    bool last = level == kMaxLevels || capacity / 2 < smallest;
    double budget = capacity * shards * 1.1;
    std::vector<Item> items;
    double taken = 0;
    while (next < tail.size() && (last || items.empty() || taken + tail[next].seconds <= budget)) {
      taken += tail[next].seconds;
      items.push_back(std::move(tail[next++]));
    }
    pack(w, std::move(items), std::max(capacity, smallest), out);
    capacity /= 2;
  }
}

// The least tail share a plan keeps: the dynamic tail sized from the
// measured prediction error. Scoring alone would not keep it: the simulated
// errors are uniform per unit, so one unit a shard scores within kSlack of
// a tail, but real errors are lumpy and sit in the longest tests (numpy's
// test_large_zip took 24 s, then 15 s; sympy's test_factorint 2 to 28 s by
// a random draw), and with one unit a shard the shard whose unit ran
// short then idles while the other finishes (numpy, 2 shards: 21 s and 39 s
// against 30 s predicted each). Entries whose predictions have been right
// (noise under kTailNoise) and plans on no history (whose guesses are drawn
// heavy-tailed in score() already) need none; nor an entry whose tail would
// be mostly start-ups.
double least_tail(const std::vector<Work>& work, int shards) {
  double need = 0;
  if (shards < 2) return need;  // nothing to balance
  for (const Work& w : work) {
    if (!w.startup_known || w.noise < kTailNoise) continue;
    double share = std::min(w.noise, kMaxLeastTail);
    if (w.total * share / shards < 2 * kMinTailStartups * w.startup) continue;
    need = std::max(need, share);
  }
  return need;
}

std::vector<Batch> build(const std::vector<Work>& work, const std::vector<Batch>& whole,
                         double span, const Shape& shape, int shards) {
  double main_capacity = span * (1 - shape.tail_share) / shape.per_shard;
  // Groups are cut against at most two main units a shard: the shapes with
  // more units a shard pack whole groups finer, they do not cut files into
  // more pieces (each piece loads the file again).
  double cut_capacity = span * (1 - shape.tail_share) / std::min(shape.per_shard, kMaxCutsPerShard);
  double tail_capacity =
      shape.tail_per_shard > 0 ? span * shape.tail_share / shape.tail_per_shard : 0;
  const bool halving = shape.tail_per_shard == kHalving;
  std::vector<Batch> plan = whole;
  for (const Work& w : work) {
    std::vector<Item> items;
    // A group known only by guesses is cut only when it is larger than a
    // shard's share: a guess says all files are alike, and cutting one costs
    // its load again in every piece; small units come from packing instead.
    for (std::size_t g = 0; g < w.groups.size(); ++g)
      add_items(w, g, guessed(w.groups[g]) ? std::max(cut_capacity, span) : cut_capacity, items);
    std::vector<Item> tail;
    double capacity = main_capacity;
    // An entry that fits in one main unit stays whole: splitting it would
    // only add start-ups. Otherwise its smallest items, up to the tail's
    // share, make the tail.
    if (shape.tail_share > 0 && w.total > main_capacity && items.size() > 1) {
      std::stable_sort(items.begin(), items.end(),
                       [](const Item& a, const Item& b) { return a.seconds > b.seconds; });
      double budget = w.total * shape.tail_share;
      double taken = 0;
      while (items.size() > 1 && taken + items.back().seconds <= budget) {
        taken += items.back().seconds;
        tail.push_back(std::move(items.back()));
        items.pop_back();
      }
      // The tail takes whole items, so it rarely gets all its share; the
      // main units are sized by the main part that is left, so that there
      // are per_shard of them a shard and not one more (on sympy's history
      // a third main unit of 19 s went to a shard after its first, and the
      // other shard took the whole tail alongside: nothing was left to even
      // out the shards' ends).
      double main = 0;
      for (const Item& item : items) main += item.seconds;
      if (main + taken > 0) capacity = span * main / (main + taken) / shape.per_shard;
    }
    pack(w, std::move(items), capacity, plan);
    if (halving)
      pack_halving(w, std::move(tail), span * shape.tail_share, shards, plan);
    else
      pack(w, std::move(tail), tail_capacity, plan);
  }
  std::sort(plan.begin(), plan.end(), runs_before);
  return plan;
}

// splitmix64: a fixed, portable hash, so that every CI node scores the same
// candidates the same way (std:: distributions differ between libraries).
double uniform_draw(std::uint64_t scenario, std::uint64_t position) {
  std::uint64_t z = scenario * 0x9E3779B97F4A7C15ull + position + 1;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) / static_cast<double>(1ull << 53);  // [0, 1)
}

double unit_noise(std::uint64_t scenario, std::uint64_t position, double amplitude) {
  return 1 + amplitude * (2 * uniform_draw(scenario, position) - 1);
}

// A guessed time's factor. On real suites the times of test files nobody
// has measured are heavy-tailed: in numpy's lib, ma, linalg, polynomial and
// random tests one file of 55 takes 40 % of the run, two more take 35 %, and
// most take under a second. So a guess is drawn from a coarse Pareto-like
// table: 2 % of groups take 30 times their guess, 5 % 10 times, 13 % 3 times,
// the rest 0.2 to 1 times (score() keeps the total). Drawn per group, not
// per unit: a unit of many guessed files is not safer for holding many.
double guess_noise(std::uint64_t scenario, std::uint64_t key) {
  double u = uniform_draw(scenario ^ 0x5bd1e995ull, key);
  if (u < 0.02) return 30;
  if (u < 0.07) return 10;
  if (u < 0.20) return 3;
  return 0.2 + (u - 0.20);
}

// The simulated makespan of a plan over the predicted times and kScenarios
// perturbations of them: the mean of all outcomes, leaning towards the mean
// of the worse half by kRiskWeight times the share of the plan known from
// history. Known times are drawn uniformly here, but real errors are
// lumpier (one sympy test takes 2 s or 16 s by its random seed; a unit
// holding it is off by a third), so a plan from history is judged by how it
// does when its predictions are wrong, which favours a dynamic tail that
// absorbs an overrun over one unit a shard that hopes for none. Guessed
// times are drawn heavy-tailed already (guess_noise) and keep the plain
// mean. Each perturbation keeps the plan's total: what matters is how
// units are off against each other (a run that is slower as a whole is so
// for every plan), and candidates must not win or lose by the luck of their
// draws where nothing can be balanced (one shard).
double score(const std::vector<Batch>& plan, int shards) {
  std::vector<Unit> light(plan.size());
  double sum = 0;
  double known = 0;
  for (const Batch& b : plan) {
    sum += b.predicted;
    known += b.known;
  }
  const double risk = sum > 0 ? kRiskWeight * std::clamp(known / sum, 0.0, 1.0) : 0;
  std::vector<double> makespans;
  makespans.reserve(kScenarios + 1);
  for (int scenario = 0; scenario <= kScenarios; ++scenario) {
    double perturbed = 0;
    for (std::size_t i = 0; i < plan.size(); ++i) {
      const Batch& b = plan[i];
      double seconds = b.predicted;
      if (scenario > 0) {
        seconds = 0;
        double rest = b.predicted;
        for (const Guess& g : b.guesses) {
          seconds += g.seconds * guess_noise(scenario, g.key);
          rest -= g.seconds;
        }
        seconds += std::max(0.0, rest) * unit_noise(scenario, i, b.noise);
      }
      light[i].predicted_seconds = seconds;
      perturbed += seconds;
    }
    if (perturbed > 0)
      for (Unit& u : light) u.predicted_seconds *= sum / perturbed;
    makespans.push_back(simulate(light, shards).makespan);
  }
  std::sort(makespans.begin(), makespans.end(), std::greater<>());
  std::size_t worse = (makespans.size() + 1) / 2;
  double worse_sum = 0, sum_all = 0;
  for (std::size_t i = 0; i < makespans.size(); ++i) {
    sum_all += makespans[i];
    if (i < worse) worse_sum += makespans[i];
  }
  return risk * worse_sum / static_cast<double>(worse) +
         (1 - risk) * sum_all / static_cast<double>(makespans.size());
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
    unit.groups = batch.groups;
    unit.estimated = batch.known < kKnownShare * batch.predicted;
    unit.label = entry.name;
    if (per_source[batch.source] > 1) unit.label += "#" + std::to_string(++seen[batch.source]);
    unit.tests.reserve(batch.members.size());
    for (std::size_t i : batch.members) unit.tests.push_back(entry.ids[i]);
    units.push_back(std::move(unit));
  }
  return units;
}

// The entry's ids grouped, each test and group predicted from the history.
Work predict(std::size_t source, const PlanEntry& entry, const Timings& timings,
             const PlanOptions& options) {
  Work w;
  w.source = source;
  w.entry = &entry;
  w.group_of_id.resize(entry.ids.size());
  std::optional<double> startup = timings.startup(entry.name);
  w.startup = startup.value_or(std::max(0.0, options.default_startup_seconds));
  w.startup_known = startup.has_value();
  std::optional<TimingSample> error = timings.error(entry.name);
  w.noise = error ? std::clamp(2 * error->seconds, kMinNoise, kMaxNoise) : kUnmeasuredNoise;
  // Medians once per entry: Timings would recompute them for every id.
  double unknown_test =
      timings.median(entry.name).value_or(std::max(0.0, options.default_test_seconds));
  double unknown_group =
      timings.group_median(entry.name).value_or(std::max(0.0, options.default_group_seconds));
  // The prior of unknown ids: weight over mean weight, kept within
  // [kMinWeight, kMaxWeight] so that one odd file cannot swamp the plan.
  double mean_weight = 0;
  if (entry.id_weights.size() == entry.ids.size() && !entry.ids.empty()) {
    for (double wt : entry.id_weights) mean_weight += std::max(0.0, wt);
    mean_weight /= static_cast<double>(entry.ids.size());
  }
  auto prior = [&](std::size_t i) {
    if (mean_weight <= 0) return 1.0;
    return std::clamp(std::max(0.0, entry.id_weights[i]) / mean_weight, kMinWeight, kMaxWeight);
  };
  std::optional<std::regex> pattern;
  if (!entry.group_pattern.empty()) pattern.emplace(entry.group_pattern);
  std::map<std::string, std::size_t> index;  // group key -> position in w.groups
  for (std::size_t i = 0; i < entry.ids.size(); ++i) {
    std::string key = group_of(entry.ids[i], pattern ? &*pattern : nullptr);
    auto [at, added] = index.emplace(key, w.groups.size());
    if (added) {
      Group g;
      std::optional<double> load = timings.group(entry.name, key);
      g.load = load.value_or(unknown_group);
      g.load_known = load.has_value();
      w.groups.push_back(std::move(g));
    }
    w.group_of_id[i] = at->second;
    Group& g = w.groups[at->second];
    std::optional<TimingSample> known = timings.test(entry.name, entry.ids[i]);
    g.members.push_back(i);
    g.seconds.push_back(known ? known->seconds : unknown_test * prior(i));
    g.known.push_back(known.has_value());
    g.tests += g.seconds.back();
  }
  for (const Group& g : w.groups) w.total += g.total();
  return w;
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
      std::optional<TimingSample> error = timings.error(entry.name);
      double noise = !known  ? kUnknownNoise
                     : error ? std::clamp(2 * error->seconds, kMinNoise, kMaxNoise)
                             : kUnmeasuredNoise;
      whole.push_back(Batch{source, {}, seconds, noise, known ? seconds : 0, 0, {}});
      total += seconds;
      longest = std::max(longest, seconds);
      continue;
    }
    // Discovery found nothing: nothing to run (an empty "{tests}" would make
    // most runners run everything).
    if (entry.ids.empty()) continue;
    Work w = predict(source, entry, timings, options);
    total += w.total;
    // What cannot be split: one test with its group's load.
    for (const Group& g : w.groups)
      longest = std::max(longest, g.load + *std::max_element(g.seconds.begin(), g.seconds.end()));
    work.push_back(std::move(w));
  }

  // One shard's share of the work. When one test is longer than that, the
  // run cannot end before it anyway, and units smaller than it only add
  // start-ups.
  double span = std::max(total / shards, longest);
  std::vector<std::vector<Batch>> candidates;
  std::vector<double> scores;
  const double need = least_tail(work, shards);
  for (const Shape& shape : kShapes) {
    // Halving tails are for a tail sized from a measured error (least_tail).
    if (shape.tail_share < need || (need == 0 && shape.tail_per_shard == kHalving)) continue;
    candidates.push_back(build(work, whole, span, shape, shards));
    scores.push_back(score(candidates.back(), shards));
  }
  double best = *std::min_element(scores.begin(), scores.end());
  std::size_t chosen = 0;
  while (scores[chosen] > best * kSlack) ++chosen;
  return materialize(candidates[chosen], entries);
}

}  // namespace shardrun
