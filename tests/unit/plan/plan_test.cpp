// make_plan: what every plan looks like, and where its predictions come from.

#include <catch2/catch.hpp>

#include "support.hpp"

using namespace shardrun;
using namespace plan_test;

namespace {

double total_predicted(const std::vector<Unit>& plan) {
  double s = 0;
  for (const Unit& u : plan) s += u.predicted_seconds;
  return s;
}

std::size_t units_of(const std::vector<Unit>& plan, std::size_t entry) {
  return static_cast<std::size_t>(
      std::count_if(plan.begin(), plan.end(), [&](const Unit& u) { return u.entry == entry; }));
}

}  // namespace

TEST_CASE("nothing to plan gives an empty plan") {
  Timings t;
  CHECK(make_plan({}, t, PlanOptions{}).empty());
  PlanEntry nothing_found;
  nothing_found.name = "api";
  nothing_found.discovered = true;
  // Discovery found no tests: no unit, rather than one that runs everything.
  CHECK(make_plan({nothing_found}, t, PlanOptions{}).empty());
}

TEST_CASE("every test id lands in exactly one unit of its own entry, in discovery order") {
  Timings t;
  std::vector<PlanEntry> entries = {
      timed_entry(t, 0, "api", uniform(120, 0.05, 0.4, 1), 0.3),
      plain_entry(1, "smoke"),
      timed_entry(t, 2, "ui", exponential(40, 1.5, 2), 1.0),
      plain_entry(3, "lint"),
  };
  for (int shards : {1, 2, 3, 4, 7, 16, 64}) {
    INFO("shards = " << shards);
    PlanOptions o;
    o.shards = shards;
    check_plan_shape(make_plan(entries, t, o), entries);
  }
}

TEST_CASE("labels: the name for a single unit, name#k in plan order for several") {
  Timings t;
  std::vector<PlanEntry> entries = {
      timed_entry(t, 0, "api", uniform(100, 0.5, 1.0, 3), 0.2),
      timed_entry(t, 1, "tiny", {0.1, 0.1}, 0.2),
      plain_entry(2, "smoke"),
  };
  PlanOptions o;
  o.shards = 4;
  std::vector<Unit> plan = make_plan(entries, t, o);
  REQUIRE(units_of(plan, 0) >= 4);  // 60 s of tests on 4 shards
  REQUIRE(units_of(plan, 1) == 1);
  int next = 1;
  for (const Unit& u : plan) {
    if (u.entry == 0) CHECK(u.label == "api#" + std::to_string(next++));
    if (u.entry == 1) CHECK(u.label == "tiny");
    if (u.entry == 2) CHECK(u.label == "smoke");
    CHECK(u.attempt == 0);
  }
}

TEST_CASE("a unit's prediction is its tests' estimates plus one start-up") {
  Timings t;
  PlanEntry api = timed_entry(t, 0, "api", {1, 2, 3}, 0.5);
  api.ids.push_back("api::new");  // unknown: the median of the known ones, 2
  PlanOptions o;
  o.default_test_seconds = 100;  // must not be used: the entry has a median
  o.default_startup_seconds = 100;
  for (int shards : {1, 2, 4}) {
    o.shards = shards;
    std::vector<Unit> plan = make_plan({api}, t, o);
    CHECK(total_predicted(plan) == Approx(8 + 0.5 * static_cast<double>(plan.size())));
    for (const Unit& u : plan) {
      double expected = 0.5;
      for (const std::string& id : u.tests)
        expected += id == "api::new" ? 2.0 : t.test("api", id)->seconds;
      CHECK(u.predicted_seconds == Approx(expected));
    }
  }
}

TEST_CASE("without history the defaults predict tests, start-up and whole units") {
  Timings t;
  PlanEntry api;
  api.entry = 0;
  api.name = "api";
  api.discovered = true;
  for (int i = 0; i < 40; ++i) api.ids.push_back("a" + std::to_string(i));
  PlanOptions o;
  o.shards = 2;
  o.default_test_seconds = 0.25;
  o.default_startup_seconds = 0.75;
  o.default_unit_seconds = 42;
  std::vector<Unit> plan = make_plan({api, plain_entry(1, "smoke")}, t, o);
  std::size_t api_units = units_of(plan, 0);
  double api_predicted = total_predicted(plan) - 42;
  CHECK(api_predicted == Approx(40 * 0.25 + 0.75 * static_cast<double>(api_units)));
  // The whole-entry unit is the longest, so it comes first.
  CHECK(plan.front().entry == 1);
  CHECK(plan.front().predicted_seconds == Approx(42));
}

TEST_CASE("a non-discovered entry is predicted by its recorded whole-unit time") {
  Timings t;
  t.record_unit("smoke", 6, 0);
  t.record_unit("smoke", 8, 0);                  // smoothed: 7
  t.record_test("smoke", "some testcase", 100);  // testcases are not test ids: ignored
  PlanOptions o;
  o.default_unit_seconds = 1;
  std::vector<Unit> plan = make_plan({plain_entry(5, "smoke"), plain_entry(6, "other")}, t, o);
  REQUIRE(plan.size() == 2);
  CHECK(plan[0].entry == 5);
  CHECK(plan[0].predicted_seconds == Approx(7));
  CHECK(plan[0].tests.empty());
  CHECK(plan[0].label == "smoke");
  CHECK(plan[1].predicted_seconds == Approx(1));
}

TEST_CASE("units are ordered longest predicted first across entries") {
  Timings t;
  t.record_unit("slow-script", 30, 0);
  std::vector<PlanEntry> entries = {
      timed_entry(t, 0, "api", uniform(50, 0.1, 0.2, 4), 0.1),
      plain_entry(1, "slow-script"),
      timed_entry(t, 2, "ui", {12, 0.5, 0.5}, 1),
  };
  PlanOptions o;
  o.shards = 3;
  std::vector<Unit> plan = make_plan(entries, t, o);
  check_plan_shape(plan, entries);
  CHECK(plan[0].label == "slow-script");
  // The 12 s test leads the second unit.
  CHECK(plan[1].entry == 2);
  CHECK(std::find(plan[1].tests.begin(), plan[1].tests.end(), "ui::t0") != plan[1].tests.end());
}

TEST_CASE("a test longer than a shard's share runs alone") {
  Timings t;
  std::vector<double> durations(100, 0.1);
  durations.insert(durations.begin() + 37, 20.0);  // total 30 s: longer than 30 / 4
  std::vector<PlanEntry> entries = {timed_entry(t, 0, "api", durations, 1)};
  PlanOptions o;
  o.shards = 4;
  std::vector<Unit> plan = make_plan(entries, t, o);
  check_plan_shape(plan, entries);
  REQUIRE(plan[0].tests == std::vector<std::string>{"api::t37"});
  CHECK(plan[0].predicted_seconds == Approx(21));
}

TEST_CASE("the plan is deterministic") {
  Timings t;
  // Many equal durations: ties everywhere.
  std::vector<PlanEntry> entries = {
      timed_entry(t, 0, "api", std::vector<double>(90, 0.5), 0.2),
      timed_entry(t, 1, "web", std::vector<double>(30, 0.5), 0.2),
      plain_entry(2, "x"),
  };
  PlanOptions o;
  o.shards = 4;
  std::vector<Unit> a = make_plan(entries, t, o);
  for (int i = 0; i < 3; ++i) {
    std::vector<Unit> b = make_plan(entries, t, o);
    REQUIRE(a.size() == b.size());
    for (std::size_t k = 0; k < a.size(); ++k) {
      CHECK(a[k].entry == b[k].entry);
      CHECK(a[k].tests == b[k].tests);
      CHECK(a[k].label == b[k].label);
      CHECK(a[k].predicted_seconds == b[k].predicted_seconds);
    }
  }
}

TEST_CASE("zero or negative shard counts plan as one shard") {
  Timings t;
  std::vector<PlanEntry> entries = {timed_entry(t, 0, "api", uniform(30, 0.1, 1, 5), 0.5)};
  for (int shards : {0, -3}) {
    PlanOptions o;
    o.shards = shards;
    std::vector<Unit> plan = make_plan(entries, t, o);
    check_plan_shape(plan, entries);
    PlanOptions one;
    one.shards = 1;
    CHECK(plan.size() == make_plan(entries, t, one).size());
  }
}

TEST_CASE("tests predicted at zero seconds share a unit instead of one unit each") {
  Timings t;
  std::vector<PlanEntry> entries = {timed_entry(t, 0, "api", std::vector<double>(500, 0.0), 0)};
  PlanOptions o;
  o.shards = 8;
  std::vector<Unit> plan = make_plan(entries, t, o);
  check_plan_shape(plan, entries);
  CHECK(plan.size() == 1);
}

TEST_CASE("more shards than tests: at most one unit per test") {
  Timings t;
  std::vector<PlanEntry> entries = {timed_entry(t, 0, "api", {3, 2, 2, 1}, 0.5)};
  PlanOptions o;
  o.shards = 16;
  std::vector<Unit> plan = make_plan(entries, t, o);
  check_plan_shape(plan, entries);
  CHECK(plan.size() <= 4);
  CHECK(simulate(plan, 16).makespan == Approx(3.5));
}
