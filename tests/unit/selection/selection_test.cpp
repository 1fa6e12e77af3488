// Choosing what runs (selection.hpp): entry names and --last-failed.

#include <catch2/catch.hpp>

#include "shardrun/error.hpp"
#include "shardrun/selection.hpp"

using namespace shardrun;

namespace {

Suite suite_of(std::initializer_list<const char*> names) {
  Suite s;
  s.file = "/work/suite.yaml";
  for (const char* n : names) {
    Entry e;
    e.name = n;
    s.tests.push_back(e);
  }
  return s;
}

PlanEntry plan_entry(std::size_t entry, std::vector<std::string> ids) {
  PlanEntry p;
  p.entry = entry;
  p.discovered = !ids.empty();
  p.ids = std::move(ids);
  return p;
}

junit::CaseSummary failed(std::string classname, std::string name) {
  junit::CaseSummary c;
  c.classname = std::move(classname);
  c.name = std::move(name);
  c.outcome = junit::Outcome::kFailed;
  return c;
}

}  // namespace

TEST_CASE("select_entries keeps the named entries in the suite's order") {
  Suite s = suite_of({"api", "ui", "smoke"});
  select_entries(s, {"smoke", "api", "api"});
  REQUIRE(s.tests.size() == 2);
  CHECK(s.tests[0].name == "api");
  CHECK(s.tests[1].name == "smoke");
  Suite t = suite_of({"api", "ui"});
  CHECK_THROWS_WITH(select_entries(t, {"apj"}),
                    "no entry 'apj' in /work/suite.yaml (its entries: api, ui)");
}

TEST_CASE("keep_last_failed: failed node ids, the files holding failures, whole entries") {
  Suite s = suite_of({"nodes", "files", "plain", "green"});
  std::vector<PlanEntry> entries = {
      plan_entry(0, {"t/test_a.py::test_1", "t/test_a.py::test_2", "t/test_b.py::test_3"}),
      plan_entry(1, {"pkg/test_x.py", "pkg/test_y.py"}),
      plan_entry(2, {}),
      plan_entry(3, {"t/test_c.py::test_4"}),
  };
  entries[1].id_weights = {100, 200};
  LastFailed last;
  last.run_id = "20261202-190000-1";
  last.by_entry["nodes"] = {failed("t.test_a", "test_2"), failed("t.test_b", "test_3")};
  // pytest's classname for a test in a class of pkg/test_y.py
  last.by_entry["files"] = {failed("pkg.test_y.TestY", "test_z")};
  last.by_entry["plain"] = {failed("suite", "plain")};
  last.by_entry["green"] = {};  // ran, nothing failed
  std::size_t left = keep_last_failed(s, entries, last);
  REQUIRE(entries.size() == 3);
  CHECK(entries[0].ids == std::vector<std::string>{"t/test_a.py::test_2", "t/test_b.py::test_3"});
  CHECK(entries[1].ids == std::vector<std::string>{"pkg/test_y.py"});
  CHECK(entries[1].id_weights == std::vector<double>{200});
  CHECK(entries[2].entry == 2);
  CHECK(left == 4);  // three ids and one whole entry

  // A failure whose test is gone (renamed since) leaves nothing of its entry.
  std::vector<PlanEntry> renamed = {plan_entry(0, {"t/test_a.py::test_new"})};
  LastFailed gone;
  gone.by_entry["nodes"] = {failed("t.test_a", "test_old")};
  CHECK(keep_last_failed(s, renamed, gone) == 0);
  CHECK(renamed.empty());
}
