// The command-line options of retries and output limits: --retries,
// --fail-on-flaky, --output-limit.
#include <catch2/catch.hpp>
#include <initializer_list>
#include <string>
#include <vector>

#include "shardrun/cli.hpp"
#include "shardrun/error.hpp"

using namespace shardrun;

namespace {

Options parse(std::initializer_list<const char*> args) {
  std::vector<const char*> argv = {"shardrun"};
  argv.insert(argv.end(), args.begin(), args.end());
  return parse_command_line(static_cast<int>(argv.size()), argv.data()).options;
}

}  // namespace

TEST_CASE("cli: retries default to each entry's own, flaky passes pass, 80 lines of output") {
  Options o = parse({"s.yaml"});
  CHECK_FALSE(o.retries.has_value());
  CHECK_FALSE(o.fail_on_flaky);
  CHECK(o.output_limit == 80);
}

TEST_CASE("cli: --retries, --fail-on-flaky and --output-limit are taken as given") {
  Options o = parse({"--retries", "2", "--fail-on-flaky", "--output-limit", "500", "s.yaml"});
  CHECK(o.retries == 2);
  CHECK(o.fail_on_flaky);
  CHECK(o.output_limit == 500);
  // 0 is a value of its own: it switches the suite's retries off.
  CHECK(parse({"--retries=0", "s.yaml"}).retries == 0);
}

TEST_CASE("cli: bad --retries and --output-limit values are usage errors") {
  for (std::initializer_list<const char*> args :
       {std::initializer_list<const char*>{"--retries", "-1", "s.yaml"},
        {"--retries", "many", "s.yaml"},
        {"--output-limit", "0", "s.yaml"},
        {"--output-limit", "x", "s.yaml"}}) {
    CHECK_THROWS_AS(parse(args), UsageError);
  }
}

TEST_CASE("cli: --help documents the new options") {
  std::vector<const char*> argv = {"shardrun", "--help"};
  CommandLine cl = parse_command_line(2, argv.data());
  REQUIRE(cl.print_and_exit.has_value());
  for (const char* flag : {"--retries", "--fail-on-flaky", "--output-limit", "flakyFailure"})
    CHECK(cl.print_and_exit->find(flag) != std::string::npos);
}
