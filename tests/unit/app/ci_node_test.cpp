#include <catch2/catch.hpp>
#include <map>

#include "shardrun/cli.hpp"
#include "shardrun/error.hpp"

using namespace shardrun;

namespace {
auto env_of(std::map<std::string, std::string> vars) {
  return [vars](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}
}  // namespace

TEST_CASE("CI node variables: GitLab is 1-based, CircleCI and Buildkite 0-based") {
  CHECK(detect_ci_node(env_of({})) == std::nullopt);
  CHECK(detect_ci_node(env_of({{"CI_NODE_INDEX", "1"}, {"CI_NODE_TOTAL", "3"}})) ==
        std::pair{0, 3});
  CHECK(detect_ci_node(env_of({{"CIRCLE_NODE_INDEX", "2"}, {"CIRCLE_NODE_TOTAL", "3"}})) ==
        std::pair{2, 3});
  CHECK(detect_ci_node(env_of({{"BUILDKITE_PARALLEL_JOB", "0"},
                               {"BUILDKITE_PARALLEL_JOB_COUNT", "4"}})) == std::pair{0, 4});
  // only one of the pair: not a split
  CHECK(detect_ci_node(env_of({{"CI_NODE_INDEX", "1"}})) == std::nullopt);
}

TEST_CASE("CI node variables out of range or not numbers are usage errors") {
  CHECK_THROWS_AS(detect_ci_node(env_of({{"CI_NODE_INDEX", "0"}, {"CI_NODE_TOTAL", "3"}})),
                  UsageError);
  CHECK_THROWS_AS(detect_ci_node(env_of({{"CIRCLE_NODE_INDEX", "3"}, {"CIRCLE_NODE_TOTAL", "3"}})),
                  UsageError);
  CHECK_THROWS_AS(detect_ci_node(env_of({{"CIRCLE_NODE_INDEX", "x"}, {"CIRCLE_NODE_TOTAL", "3"}})),
                  UsageError);
}

TEST_CASE("--shard-index and --shard-count go together and must be in range") {
  const char* both[] = {"shardrun", "--shard-index", "1", "--shard-count", "2", "s.yaml"};
  CommandLine cl = parse_command_line(6, both);
  CHECK(cl.options.shard_index == 1);
  CHECK(cl.options.shard_count == 2);
  const char* one[] = {"shardrun", "--shard-index", "1", "s.yaml"};
  CHECK_THROWS_AS(parse_command_line(4, one), UsageError);
  const char* out[] = {"shardrun", "--shard-index", "2", "--shard-count", "2", "s.yaml"};
  CHECK_THROWS_AS(parse_command_line(6, out), UsageError);
}

TEST_CASE("plan is a subcommand with its own --json") {
  const char* argv[] = {"shardrun", "plan", "--json", "-j", "3", "s.yaml"};
  CommandLine cl = parse_command_line(6, argv);
  CHECK(cl.options.command == Options::Command::kPlan);
  CHECK(cl.options.json);
  CHECK(cl.options.workers == std::optional<std::string>("3"));
  CHECK(cl.options.suite == "s.yaml");
}
