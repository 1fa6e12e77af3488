// The merged report as CI consumers read it (issue 13, part 3; DESIGN §8
// rules 2, 3, 4, 7, 10): one test per item, a fixture of fixtures/junit/ in,
// the rule checked on the re-parsed committed report.
#include <set>
#include <tuple>

#include "support.hpp"

using namespace shardrun::junit;
using namespace junit_test;

namespace {

using Identity = std::tuple<std::string, std::string, std::string>;

std::set<Identity> identities(const Report& report) {
  std::set<Identity> all;
  for (pugi::xml_node suite : report.root.children("testsuite"))
    for (pugi::xml_node tc : suite.children("testcase"))
      all.emplace(attr(suite, "name"), attr(tc, "classname"), attr(tc, "name"));
  return all;
}

// A writer over one fixture, committed; its warnings are kept.
struct Merged {
  std::unique_ptr<Report> report;
  std::vector<std::string> warnings;
};

Merged merge_one(const TempDir& dir, const std::string& name, const SuiteLabel& label = {}) {
  ReportWriter writer(dir / "out.xml");
  const AddResult added = writer.add_file(fixture(name), label);
  INFO(added.error);
  REQUIRE(added.ok);
  writer.commit();
  Merged merged{load_report(dir / "out.xml"), writer.warnings()};
  check_invariants(*merged.report);
  return merged;
}

// 2024-01-02T03:04:05Z
const auto kUnitStart = std::chrono::system_clock::from_time_t(1704164645);

}  // namespace

TEST_CASE("item 2: suite names carry the entry, never the shard, unit or run") {
  // One input as two runs at different worker counts would write it: in a
  // different shard, as a different unit (a batch, a retry).
  auto run = [](const TempDir& dir, const std::string& shard, const std::string& unit) {
    SuiteLabel label{"api", {{"shardrun.shard", shard}, {"shardrun.unit", unit}}, kUnitStart};
    ReportWriter writer(dir / "out.xml");
    REQUIRE(writer.add_file(fixture("pytest_report.xml"), label).ok);
    REQUIRE(writer.add_file(fixture("nested_suites.xml"), label).ok);
    REQUIRE(
        writer.add_buffer("<testsuite><testcase classname='c' name='t'/></testsuite>", label).ok);
    writer.commit();
    auto report = load_report(dir / "out.xml");
    check_invariants(*report);
    return report;
  };
  TempDir one, other;
  auto first = run(one, "0", "api#1");
  auto second = run(other, "3", "api#2.retry1");
  CHECK(identities(*first) == identities(*second));
  CHECK(suite_named(first->root, "pytest [api]"));
  CHECK(suite_named(first->root, "grandchild [api]"));
  CHECK(suite_named(first->root, "api"));  // an unnamed suite: the entry alone
  for (pugi::xml_node suite : first->root.children("testsuite")) {
    INFO(attr(suite, "name"));
    CHECK(attr(suite, "name").find("shard") == std::string::npos);
    CHECK(attr(suite, "name").find('#') == std::string::npos);
  }
  // Where it ran is in the properties.
  pugi::xml_node props = suite_named(second->root, "pytest [api]").child("properties");
  CHECK(attr(props.find_child_by_attribute("property", "name", "shardrun.shard"), "value") == "3");
  CHECK(attr(props.find_child_by_attribute("property", "name", "shardrun.unit"), "value") ==
        "api#2.retry1");
}

TEST_CASE("item 7: suites without a timestamp get the unit's start, nested ones their parent's") {
  ScopedTz tz("UTC0");
  TempDir dir;
  SuiteLabel label{"api", {}, kUnitStart};
  Merged m = merge_one(dir, "no_timestamps.xml", label);
  const std::string start = "2024-01-02T03:04:05+00:00";
  CHECK(attr(suite_named(m.report->root, "outer [api]"), "timestamp") == start);
  CHECK(attr(suite_named(m.report->root, "inner [api]"), "timestamp") == start);
  CHECK(attr(suite_named(m.report->root, "dated_child [api]"), "timestamp") ==
        "2024-05-06T07:08:09Z");
  CHECK(attr(suite_named(m.report->root, "own_time [api]"), "timestamp") ==
        "2024-05-06T08:00:00+02:00");

  // Without a start (shardrun merge) nothing is invented for an input suite.
  TempDir dir2;
  Merged merged = merge_one(dir2, "no_timestamps.xml");
  CHECK_FALSE(suite_named(merged.report->root, "inner").attribute("timestamp"));
  CHECK(attr(suite_named(merged.report->root, "dated_child"), "timestamp") ==
        "2024-05-06T07:08:09Z");

  // Synthetic suites: the label's start, else the time of writing.
  TempDir dir3;
  ReportWriter writer(dir3 / "out.xml");
  writer.add_synthetic_suite("shardrun", label,
                             {SyntheticCase{"c", "n", Outcome::kPassed, 0, "", "", "", ""}});
  writer.commit();
  auto report = load_report(dir3 / "out.xml");
  CHECK(attr(suite_named(report->root, "shardrun [api]"), "timestamp") == start);
}
