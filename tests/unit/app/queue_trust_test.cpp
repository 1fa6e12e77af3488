// What a node accepts from the shared queue (queue_run.cpp): only its own
// suite's entries and the test ids it discovered; everything else is refused
// with the reason, and the refusal is a JUnit error testcase.
#include <catch2/catch.hpp>
#include <string>
#include <variant>
#include <vector>

#include "../temp_dir.hpp"
#include "shardrun/queue_run.hpp"

using namespace shardrun;
namespace fs = std::filesystem;
using shardrun::testing::TempDir;

namespace {

struct Node {
  TempDir dir;
  Suite suite;
  std::vector<PlanEntry> entries;
  std::unique_ptr<JobBuilder> jobs;
  RedisSourceHooks hooks;

  Node() {
    suite.file = dir.path() / "suite.yaml";
    suite.dir = dir.path();
    suite.name = "demo";
    Entry api;
    api.name = "api";
    api.command.script = "pytest {tests}";
    Entry smoke;
    smoke.name = "smoke";
    smoke.command.script = "./smoke.sh";
    suite.tests = {api, smoke};
    PlanEntry discovered;
    discovered.entry = 0;
    discovered.name = "api";
    discovered.discovered = true;
    discovered.ids = {"t/a.py::x", "t/a.py::y"};
    PlanEntry plain;
    plain.entry = 1;
    plain.name = "smoke";
    entries = {discovered, plain};
    RunContext context;
    context.run_dir = dir.path() / "run";
    jobs = std::make_unique<JobBuilder>(suite, context);
    hooks = app::queue_hooks(
        suite, entries, *jobs, [](const Unit&) { return nullptr; }, junit::TextLimit{});
  }

  std::string refused(QueueUnit q) {
    auto checked = hooks.validate(q);
    REQUIRE(std::holds_alternative<std::string>(checked));
    return std::get<std::string>(checked);
  }
};

}  // namespace

TEST_CASE("queue trust: a unit of known ids becomes the local entry's unit") {
  Node node;
  auto checked = node.hooks.validate(QueueUnit{7, 2.5, "api", {"t/a.py::y"}, 1});
  REQUIRE(std::holds_alternative<Unit>(checked));
  const Unit& unit = std::get<Unit>(checked);
  CHECK(unit.id == 7);
  CHECK(unit.entry == 0);
  CHECK(unit.tests == std::vector<std::string>{"t/a.py::y"});
  CHECK(unit.attempt == 1);
  CHECK(unit.label == "api#7");
  auto plain = node.hooks.validate(QueueUnit{8, 1, "smoke", {}, 0});
  REQUIRE(std::holds_alternative<Unit>(plain));
  CHECK(std::get<Unit>(plain).entry == 1);
}

TEST_CASE("queue trust: unknown entries and ids, and ids for an entry without any, are refused") {
  Node node;
  CHECK(node.refused(QueueUnit{1, 1, "nope", {}, 0}).find("'nope' is not in") != std::string::npos);
  // one bad id among good ones is enough
  CHECK(node.refused(QueueUnit{1, 1, "api", {"t/a.py::x", "\"; touch pwned"}, 0})
            .find("'\"; touch pwned' was not discovered") != std::string::npos);
  CHECK(node.refused(QueueUnit{1, 1, "api", {}, 0}).find("without test ids") != std::string::npos);
  CHECK(node.refused(QueueUnit{1, 1, "smoke", {"x"}, 0}).find("has no test ids") !=
        std::string::npos);
}

TEST_CASE("queue trust: a refusal is one JUnit error testcase naming why") {
  Node node;
  std::string xml = node.hooks.refusal(QueueUnit{3, 1, "nope", {}, 0}, "entry 'nope' <unknown>");
  CHECK(xml.find("<testcase") != std::string::npos);
  CHECK(xml.find("refused unit 3") != std::string::npos);
  CHECK(xml.find("<error") != std::string::npos);
  CHECK(xml.find("refused, not run: entry 'nope' &lt;unknown&gt;") != std::string::npos);
}
