// The result a node stores in the shared queue (queue_results.hpp): a JSON
// text of the unit's facts around its JUnit fragment, read back field by
// field; anything else is handed to the JUnit reader as it is.
#include <catch2/catch.hpp>
#include <string>

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
