// The result a node stores in the shared queue (queue_results.hpp): a JSON
// text of the unit's facts around its JUnit fragment, read back field by
// field; anything else is handed to the JUnit reader as it is.
#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <utility>

#include "shardrun/queue_results.hpp"

using namespace shardrun;

namespace {

Suite demo_suite() {
  Suite suite;
  suite.name = "demo";
  Entry api;
  api.name = "api";
  suite.tests = {api};
  return suite;
}

}  // namespace

TEST_CASE("a stored result carries the unit, its node and times, and the fragment") {
  Suite suite = demo_suite();
  Unit unit;
  unit.id = 4;
  unit.entry = 0;
  unit.tests = {"t/a.py::x"};
  unit.predicted_seconds = 2.5;
  unit.label = "api#4";
  UnitRecord rec;
  rec.shard = 1;
  rec.start = 10;
  rec.end = 13.5;
  rec.result = "passed";
  std::string text = stored_result(suite, unit, &rec, "host-1-abcd", true, "<testsuites/>");
  StoredResult back = read_stored_result(text);
  CHECK(back.junit == "<testsuites/>");
  REQUIRE(back.meta.is_object());
  CHECK(back.meta["node"] == "host-1-abcd");
  CHECK(back.meta["entry"] == "api");
  CHECK(back.meta["tests"] == nlohmann::json::array({"t/a.py::x"}));
  CHECK(back.meta["shard"] == 1);
  CHECK(back.meta["actual_seconds"] == Approx(3.5));
  CHECK(back.meta["end_epoch"].get<double>() - back.meta["start_epoch"].get<double>() ==
        Approx(3.5));
  CHECK(back.meta["predicted_seconds"] == Approx(2.5));
  CHECK(back.meta["result"] == "passed");
  CHECK(back.meta["timings_ok"] == true);
  CHECK(back.meta["junit_cases"] == true);
}

TEST_CASE("a bare or malformed stored result is all JUnit, with no facts") {
  StoredResult bare = read_stored_result("<testsuite/>");
  CHECK(bare.meta.is_null());
  CHECK(bare.junit == "<testsuite/>");
  std::string cut = R"({"shardrun_result": 1, "unit": {"id": 1}, "junit": "<testsu)";
  StoredResult malformed = read_stored_result(cut);
  CHECK(malformed.meta.is_null());
  CHECK(malformed.junit == cut);  // the reader reports it unreadable
  StoredResult wrong = read_stored_result(R"({"unit": [], "junit": 3})");
  CHECK(wrong.meta.is_null());
}

namespace {

// A stored result of entry `entry`'s unit `id`, as a node stores it, with
// `found_no_tests` (nullopt: without that fact, as older nodes stored).
std::pair<std::size_t, std::string> result_of_unit(std::size_t id, const std::string& entry,
                                                   std::optional<bool> found_no_tests) {
  Suite suite;
  suite.name = "demo";
  Entry e;
  e.name = entry;
  suite.tests = {e};
  Unit unit;
  unit.id = id;
  unit.entry = 0;
  UnitRecord rec;
  rec.result = "passed";
  rec.found_no_tests = found_no_tests.value_or(false);
  std::string text = stored_result(suite, unit, &rec, "node-1", true, "<testsuites/>");
  if (!found_no_tests) {
    auto json = nlohmann::json::parse(text);
    json["unit"].erase("found_no_tests");
    text = json.dump();
  }
  return {id, text};
}

QueueUnit queued(std::size_t id, const std::string& entry) {
  QueueUnit u;
  u.id = id;
  u.entry = entry;
  return u;
}

}  // namespace

TEST_CASE("a stored result says whether its unit found no test") {
  CHECK(read_stored_result(result_of_unit(1, "api", true).second).meta["found_no_tests"] == true);
  CHECK(read_stored_result(result_of_unit(1, "api", false).second).meta["found_no_tests"] == false);
}

TEST_CASE("an entry of a shared run without tests: only when every unit of it found none") {
  RedisQueue::Snapshot snap;
  snap.units = {queued(0, "api"), queued(1, "api"), queued(2, "ui"), queued(3, "ui"),
                queued(4, "db")};
  snap.results = {result_of_unit(0, "api", true), result_of_unit(1, "api", true),
                  result_of_unit(2, "ui", true), result_of_unit(3, "ui", false),
                  result_of_unit(4, "db", true)};

  std::vector<EntryWithoutTests> without = entries_without_tests(snap, {});
  REQUIRE(without.size() == 2);
  CHECK(without[0].entry == "api");
  CHECK(without[0].suite == "demo");
  CHECK(without[0].units == 2);
  CHECK(without[1].entry == "db");
  CHECK(without[1].units == 1);

  SECTION("a lost or unrun unit may have held the entry's tests: not judged") {
    snap.units.push_back(queued(5, "api"));
    without = entries_without_tests(snap, {5});
    REQUIRE(without.size() == 1);
    CHECK(without[0].entry == "db");
  }
  SECTION("a result without the fact (an older node's) counts as having found tests") {
    snap.results[4] = result_of_unit(4, "db", std::nullopt);
    without = entries_without_tests(snap, {});
    REQUIRE(without.size() == 1);
    CHECK(without[0].entry == "api");
  }
  SECTION("a bare JUnit result counts as having found tests") {
    snap.results[0].second = "<testsuite/>";
    snap.results[1].second = "<testsuite/>";
    without = entries_without_tests(snap, {});
    REQUIRE(without.size() == 1);
    CHECK(without[0].entry == "db");
  }
}
