// What a node trusts of the shared queue: only its own suite's entries and
// the test ids it discovered; the run's digest changes with the suite file
// and with any discovered id. Pure: no Redis.
#include <catch2/catch.hpp>
#include <string>
#include <variant>
#include <vector>

#include "shardrun/queue_trust.hpp"

using namespace shardrun;

namespace {

std::vector<PlanEntry> discovered() {
  PlanEntry api;
  api.entry = 0;
  api.name = "api";
  api.discovered = true;
  api.ids = {"t/a.py::x", "t/a.py::y"};
  PlanEntry smoke;  // runs whole: no discovery
  smoke.entry = 1;
  smoke.name = "smoke";
  return {api, smoke};
}

std::string refusal(const std::variant<Unit, std::string>& checked) {
  REQUIRE(std::holds_alternative<std::string>(checked));
  return std::get<std::string>(checked);
}

}  // namespace

TEST_CASE("validate_unit: a unit of known ids becomes a local unit of that entry") {
  KnownIds known = known_ids({"api", "smoke"}, discovered());
  auto checked = validate_unit(known, QueueUnit{7, 2.5, "api", {"t/a.py::y"}, 1});
  REQUIRE(std::holds_alternative<Unit>(checked));
  const Unit& u = std::get<Unit>(checked);
  CHECK(u.id == 7);
  CHECK(u.entry == 0);
  CHECK(u.tests == std::vector<std::string>{"t/a.py::y"});
  CHECK(u.predicted_seconds == 2.5);
  CHECK(u.attempt == 1);
  auto whole = validate_unit(known, QueueUnit{8, 1, "smoke", {}, 0});
  REQUIRE(std::holds_alternative<Unit>(whole));
  CHECK(std::get<Unit>(whole).entry == 1);
}

TEST_CASE("validate_unit: anything this node did not find itself is refused, with why") {
  KnownIds known = known_ids({"api", "smoke"}, discovered());
  CHECK(refusal(validate_unit(known, QueueUnit{1, 1, "api", {"\"; touch pwned"}, 0}))
            .find("not discovered here") != std::string::npos);
  CHECK(refusal(validate_unit(known, QueueUnit{2, 1, "api", {"t/a.py::x", "t/b.py::z"}, 0}))
            .find("'t/b.py::z'") != std::string::npos);
  CHECK(refusal(validate_unit(known, QueueUnit{3, 1, "deploy", {}, 0})).find("'deploy'") !=
        std::string::npos);
  CHECK(refusal(validate_unit(known, QueueUnit{4, 1, "smoke", {"x"}, 0})).find("no test ids") !=
        std::string::npos);
  CHECK(refusal(validate_unit(known, QueueUnit{5, 1, "api", {}, 0})).find("without test ids") !=
        std::string::npos);
}

TEST_CASE("run_digest: the same suite and ids agree; a byte or an id more does not") {
  std::vector<PlanEntry> entries = discovered();
  std::string same = run_digest("version: 1\n", entries);
  CHECK(same == run_digest("version: 1\n", entries));
  CHECK(same.size() == 16);
  CHECK(same != run_digest("version: 1 \n", entries));
  std::vector<PlanEntry> more = entries;
  more[0].ids.push_back("t/c.py::new");
  CHECK(same != run_digest("version: 1\n", more));
  // Ids are separated: "ab" + "c" is not "a" + "bc".
  std::vector<PlanEntry> a = entries, b = entries;
  a[0].ids = {"ab", "c"};
  b[0].ids = {"a", "bc"};
  CHECK(run_digest("", a) != run_digest("", b));
}
