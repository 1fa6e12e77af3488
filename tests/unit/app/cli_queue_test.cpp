// The shared queue's options (issue 11): defaults, durations, `report`, and
// the combinations that are usage errors.
#include <catch2/catch.hpp>
#include <initializer_list>
#include <string>
#include <vector>

#include "shardrun/cli.hpp"
#include "shardrun/error.hpp"

using namespace shardrun;
using namespace std::chrono_literals;

namespace {

CommandLine parse(std::initializer_list<const char*> args) {
  std::vector<const char*> argv = {"shardrun"};
  argv.insert(argv.end(), args.begin(), args.end());
  return parse_command_line(static_cast<int>(argv.size()), argv.data());
}

std::string usage_error(std::initializer_list<const char*> args) {
  try {
    parse(args);
  } catch (const UsageError& e) {
    return e.what();
  }
  FAIL("no UsageError was thrown");
  return "";
}

}  // namespace

TEST_CASE("cli: --queue with the documented defaults") {
  Options o = parse({"--queue", "redis://h:6379/run-1", "suite.yaml"}).options;
  CHECK(o.queue == std::optional<std::string>("redis://h:6379/run-1"));
  CHECK(o.queue_lease == 30s);
  CHECK(o.queue_max_requeues == 2);
  CHECK(o.queue_ttl == 24h);
  CHECK(o.queue_init_timeout == 5min);
}

TEST_CASE("cli: the queue's durations and requeue bound") {
  Options o = parse({"--queue", "redis://h:1/r", "--queue-lease", "3s", "--queue-max-requeues", "0",
                     "--queue-ttl", "1h", "--queue-init-timeout", "1m30s", "s.yaml"})
                  .options;
  CHECK(o.queue_lease == 3s);
  CHECK(o.queue_max_requeues == 0);
  CHECK(o.queue_ttl == 1h);
  CHECK(o.queue_init_timeout == 90s);
  CHECK(usage_error({"--queue", "redis://h:1/r", "--queue-lease", "soon", "s.yaml"})
            .find("--queue-lease") != std::string::npos);
}

TEST_CASE("cli: --queue does not go with a static split, a plan file or a bad URL") {
  CHECK(usage_error(
            {"--queue", "redis://h:1/r", "--shard-index", "0", "--shard-count", "2", "s.yaml"})
            .find("--shard-index") != std::string::npos);
  CHECK(usage_error({"--queue", "redis://h:1/r", "--plan-in", "p.json", "s.yaml"})
            .find("--plan-in") != std::string::npos);
  std::string pw = usage_error({"--queue", "redis://u:hunter2@h:1/r", "s.yaml"});
  CHECK(pw.find("hunter2") == std::string::npos);
  CHECK_FALSE(usage_error({"--queue", "rediss://h:1/r", "s.yaml"}).empty());
}

TEST_CASE("cli: report needs --queue") {
  Options o = parse({"report", "--queue", "redis://h:1/r", "--junit", "all.xml"}).options;
  CHECK(o.command == Options::Command::kReport);
  CHECK(o.junit == "all.xml");
  CHECK(usage_error({"report", "--junit", "all.xml"}).find("--queue") != std::string::npos);
}

TEST_CASE("cli: --queue-nodes, the node count the planner plans for") {
  CHECK_FALSE(parse({"--queue", "redis://h:1/r", "s.yaml"}).options.queue_nodes.has_value());
  Options o = parse({"--queue", "redis://h:1/r", "--queue-nodes", "3", "s.yaml"}).options;
  CHECK(o.queue_nodes == std::optional<int>(3));
  CHECK(usage_error({"--queue", "redis://h:1/r", "--queue-nodes", "0", "s.yaml"})
            .find("--queue-nodes") != std::string::npos);
  CHECK(usage_error({"--queue-nodes", "3", "s.yaml"}).find("only with --queue") !=
        std::string::npos);
}
