#pragma once
// Helpers for the plan tests: entries with fake timing histories, and the
// invariants every plan must keep.

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "shardrun/plan.hpp"
#include "shardrun/timings.hpp"

namespace plan_test {

using namespace shardrun;

/// A discovered entry named `name` with one test per duration, ids "name::tN",
/// each duration recorded in `timings`, and its start-up cost recorded. Each
/// test is a group of its own (`group: (.*)`, as if each were in a file of
/// its own): these helpers serve the balancing tests; grouping has its own.
/// The entry's measured prediction error is small (a good history).
inline PlanEntry timed_entry(Timings& timings, std::size_t index, const std::string& name,
                             const std::vector<double>& durations, double startup) {
  PlanEntry entry;
  entry.entry = index;
  entry.name = name;
  entry.discovered = true;
  entry.group_pattern = "(.*)";
  for (std::size_t i = 0; i < durations.size(); ++i) {
    entry.ids.push_back(name + "::t" + std::to_string(i));
    timings.record_test(name, entry.ids.back(), durations[i]);
  }
  timings.record_unit(name, startup, 0);
  // A history whose predictions were good: off by 7.5 % on average.
  timings.record_error(name, 0.075);
  return entry;
}

inline PlanEntry plain_entry(std::size_t index, const std::string& name) {
  PlanEntry entry;
  entry.entry = index;
  entry.name = name;
  return entry;
}

inline std::vector<double> uniform(int count, double low, double high, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> d(low, high);
  std::vector<double> v;
  for (int i = 0; i < count; ++i) v.push_back(d(rng));
  return v;
}

inline std::vector<double> exponential(int count, double mean, unsigned seed) {
  std::mt19937 rng(seed);
  std::exponential_distribution<double> d(1 / mean);
  std::vector<double> v;
  for (int i = 0; i < count; ++i) v.push_back(d(rng));
  return v;
}

/// Pareto-like: most tests short, a few very long.
inline std::vector<double> heavy_tailed(int count, double scale, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> d(0, 1);
  std::vector<double> v;
  for (int i = 0; i < count; ++i) v.push_back(scale / std::pow(1 - d(rng), 1 / 1.5));
  return v;
}

inline double sum(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s;
}

/// The predicted seconds of all units of a plan.
inline double predicted_total(const std::vector<Unit>& plan) {
  double s = 0;
  for (const Unit& u : plan) s += u.predicted_seconds;
  return s;
}

/// The invariants of any plan: ids 0..n-1 in order, longest first, every
/// discovered id exactly once and only in a unit of its own entry, ids of a
/// unit in discovery order, one unit per non-discovered entry.
inline void check_plan_shape(const std::vector<Unit>& plan, const std::vector<PlanEntry>& entries) {
  std::map<std::size_t, const PlanEntry*> by_index;
  for (const PlanEntry& e : entries) by_index[e.entry] = &e;
  std::map<std::size_t, std::multiset<std::string>> seen;
  std::map<std::size_t, int> whole_units;
  for (std::size_t i = 0; i < plan.size(); ++i) {
    const Unit& u = plan[i];
    REQUIRE(u.id == i);
    if (i > 0) REQUIRE(plan[i - 1].predicted_seconds >= u.predicted_seconds);
    REQUIRE(by_index.count(u.entry) == 1);
    const PlanEntry& e = *by_index[u.entry];
    if (!e.discovered) {
      REQUIRE(u.tests.empty());
      ++whole_units[u.entry];
      continue;
    }
    REQUIRE_FALSE(u.tests.empty());
    std::vector<std::size_t> positions;
    for (const std::string& id : u.tests) {
      auto at = std::find(e.ids.begin(), e.ids.end(), id);
      REQUIRE(at != e.ids.end());
      positions.push_back(static_cast<std::size_t>(at - e.ids.begin()));
      seen[u.entry].insert(id);
    }
    REQUIRE(std::is_sorted(positions.begin(), positions.end()));
  }
  for (const PlanEntry& e : entries) {
    if (e.discovered) {
      REQUIRE(seen[e.entry] == std::multiset<std::string>(e.ids.begin(), e.ids.end()));
    } else {
      REQUIRE(whole_units[e.entry] == 1);
    }
  }
}

/// A plan of `entries` on `shards` shards, checked against those invariants.
inline std::vector<Unit> checked_plan(const std::vector<PlanEntry>& entries, const Timings& timings,
                                      int shards) {
  PlanOptions o;
  o.shards = shards;
  std::vector<Unit> plan = make_plan(entries, timings, o);
  check_plan_shape(plan, entries);
  return plan;
}

}  // namespace plan_test
