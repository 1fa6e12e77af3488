// parse_command_line on argv arrays, and resolve_workers' precedence and
// validation.
#include "shardrun/cli.hpp"

#include <catch2/catch.hpp>
#include <initializer_list>
#include <string>
#include <vector>

#include "shardrun/build_info.hpp"
#include "shardrun/error.hpp"

using namespace shardrun;
using std::chrono::milliseconds;

namespace {

/// parse_command_line({"shardrun", args...}).
CommandLine parse(std::initializer_list<const char*> args) {
  std::vector<const char*> argv = {"shardrun"};
  argv.insert(argv.end(), args.begin(), args.end());
  return parse_command_line(static_cast<int>(argv.size()), argv.data());
}

/// The message of the UsageError that parsing throws ("" if none is thrown).
std::string usage_error(std::initializer_list<const char*> args) {
  try {
    parse(args);
  } catch (const UsageError& e) {
    CHECK(e.code() == ExitCode::kUsage);
    return e.what();
  }
  FAIL("no UsageError was thrown");
  return "";
}

}  // namespace

TEST_CASE("cli: a suite alone gets the documented defaults") {
  CommandLine cl = parse({"suite.yaml"});
  CHECK_FALSE(cl.print_and_exit.has_value());
  const Options& o = cl.options;
  CHECK(o.command == Options::Command::kRun);
  CHECK(o.suite == "suite.yaml");
  CHECK_FALSE(o.workers.has_value());
  CHECK(o.junit == "shardrun-junit.xml");
  CHECK_FALSE(o.runs_dir.has_value());
  CHECK(o.kill_grace == milliseconds(10000));
  CHECK(o.max_failures == 0);
  CHECK(o.keep_runs == 20);
  CHECK(o.tail_lines == 30);
  CHECK(o.merge_inputs.empty());
}

TEST_CASE("cli: -j/--workers is kept as given, before or after the suite") {
  CHECK(parse({"-j", "4", "s.yaml"}).options.workers == "4");
  CHECK(parse({"s.yaml", "--workers", "auto"}).options.workers == "auto");
  CHECK(parse({"--workers=3", "s.yaml"}).options.workers == "3");
  CHECK(parse({"-j2", "s.yaml"}).options.workers == "2");
  // Validation is resolve_workers' job, so the text passes through unchanged.
  CHECK(parse({"-j", "0", "s.yaml"}).options.workers == "0");
  CHECK(parse({"-j", "0", "s.yaml"}).options.suite == "s.yaml");
}

TEST_CASE("cli: --junit, --runs-dir, --max-failures, --keep-runs, --tail-lines") {
  CommandLine cl = parse({"--junit", "out/report.xml", "--runs-dir", "/tmp/runs", "--max-failures",
                          "5", "--keep-runs", "3", "--tail-lines", "7", "s.yaml"});
  const Options& o = cl.options;
  CHECK(o.junit == "out/report.xml");
  REQUIRE(o.runs_dir.has_value());
  CHECK(*o.runs_dir == "/tmp/runs");
  CHECK(o.max_failures == 5);
  CHECK(o.keep_runs == 3);
  CHECK(o.tail_lines == 7);
  CHECK(o.suite == "s.yaml");
}

TEST_CASE("cli: --kill-grace takes a duration") {
  CHECK(parse({"--kill-grace", "1m30s", "s.yaml"}).options.kill_grace == milliseconds(90000));
  CHECK(parse({"--kill-grace", "250ms", "s.yaml"}).options.kill_grace == milliseconds(250));
  CHECK(parse({"--kill-grace", "2", "s.yaml"}).options.kill_grace == milliseconds(2000));
  CHECK(parse({"--kill-grace=1.5", "s.yaml"}).options.kill_grace == milliseconds(1500));
  std::string message = usage_error({"--kill-grace", "soon", "s.yaml"});
  CHECK(message.find("--kill-grace") != std::string::npos);
  CHECK(message.find("'soon'") != std::string::npos);
  usage_error({"--kill-grace", "10x", "s.yaml"});
  usage_error({"--kill-grace", "-5s", "s.yaml"});
}

TEST_CASE("cli: --summary-md takes a path, not an empty one") {
  CHECK_FALSE(parse({"s.yaml"}).options.summary_md.has_value());
  CHECK(parse({"--summary-md", "out/summary.md", "s.yaml"}).options.summary_md ==
        std::filesystem::path("out/summary.md"));
  CHECK(usage_error({"--summary-md", "", "s.yaml"}).find("--summary-md") != std::string::npos);
}

TEST_CASE("cli: bad numbers are usage errors") {
  usage_error({"--max-failures", "-1", "s.yaml"});
  usage_error({"--max-failures", "many", "s.yaml"});
  usage_error({"--keep-runs", "0", "s.yaml"});
  usage_error({"--tail-lines", "lots", "s.yaml"});
  usage_error({"s.yaml", "--workers"});  // a flag without its value
}

TEST_CASE("cli: merge -o OUT IN... is the merge command") {
  CommandLine cl = parse({"merge", "-o", "all.xml", "a.xml", "b.xml"});
  CHECK(cl.options.command == Options::Command::kMerge);
  CHECK(cl.options.merge_output == "all.xml");
  CHECK(cl.options.merge_inputs == std::vector<std::filesystem::path>{"a.xml", "b.xml"});
  CHECK(cl.options.suite.empty());

  CommandLine long_form = parse({"merge", "a.xml", "--output", "all.xml"});
  CHECK(long_form.options.command == Options::Command::kMerge);
  CHECK(long_form.options.merge_output == "all.xml");
  CHECK(long_form.options.merge_inputs == std::vector<std::filesystem::path>{"a.xml"});
}

TEST_CASE("cli: merge needs -o and at least one input") {
  usage_error({"merge", "a.xml"});
  usage_error({"merge", "-o", "all.xml"});
  usage_error({"merge", "-o", "all.xml", "--frobnicate", "a.xml"});
}

TEST_CASE("cli: --help and --version ask to print and exit") {
  for (const char* flag : {"--help", "-h"}) {
    INFO(flag);
    CommandLine cl = parse({flag});
    REQUIRE(cl.print_and_exit.has_value());
    CHECK(cl.print_and_exit->find("--workers") != std::string::npos);
    CHECK(cl.print_and_exit->find("--kill-grace") != std::string::npos);
    CHECK(cl.print_and_exit->find("merge") != std::string::npos);
  }
  // Help wins over a missing suite and over other options.
  CHECK(parse({"-j", "4", "--help"}).print_and_exit.has_value());

  CommandLine version = parse({"--version"});
  REQUIRE(version.print_and_exit.has_value());
  CHECK(*version.print_and_exit ==
        std::string("shardrun ") + SHARDRUN_VERSION + " (git " + SHARDRUN_GIT_COMMIT + ")\n");
  // the commit CMake found: a short hash, or "unknown" outside a git checkout
  std::string commit = SHARDRUN_GIT_COMMIT;
  CHECK(
      (commit == "unknown" ||
       (commit.size() >= 7 && commit.find_first_not_of("0123456789abcdef") == std::string::npos)));
}

TEST_CASE("cli: unknown flags, extra arguments and a missing suite are usage errors") {
  CHECK(usage_error({"--frobnicate", "s.yaml"}).find("--help") != std::string::npos);
  usage_error({"-x", "s.yaml"});
  std::string none = usage_error({});
  CHECK(none.find("no suite file") != std::string::npos);
  usage_error({"-j", "4"});
}

TEST_CASE("resolve_workers: the flag wins, then the suite, then the CPU count") {
  CHECK(resolve_workers(std::string("3"), 5, false, 8) == 3);
  CHECK(resolve_workers(std::string("3"), std::nullopt, true, 8) == 3);
  CHECK(resolve_workers(std::string("auto"), 5, false, 8) == 8);
  CHECK(resolve_workers(std::nullopt, 5, false, 8) == 5);
  CHECK(resolve_workers(std::nullopt, std::nullopt, true, 8) == 8);
  CHECK(resolve_workers(std::nullopt, std::nullopt, false, 8) == 8);
  CHECK(resolve_workers(std::string("1"), std::nullopt, false, 8) == 1);
  CHECK(resolve_workers(std::string("1024"), std::nullopt, false, 8) == 1024);
  // A machine that reports no CPUs still gets one worker.
  CHECK(resolve_workers(std::nullopt, std::nullopt, false, 0) == 1);
  CHECK(resolve_workers(std::string("auto"), std::nullopt, false, 0) == 1);
}

TEST_CASE("resolve_workers: anything but a whole number from 1 to 1024 or auto is refused") {
  for (const char* bad : {"0", "-1", "x", "3x", "", "1025", "2.5", "AUTO", "99999999999999"}) {
    INFO("--workers '" << bad << "'");
    CHECK_THROWS_AS(resolve_workers(std::string(bad), 4, false, 8), UsageError);
  }
  try {
    resolve_workers(std::string("3x"), std::nullopt, false, 8);
    FAIL("no UsageError");
  } catch (const UsageError& e) {
    CHECK(std::string(e.what()).find("'3x'") != std::string::npos);
    CHECK(std::string(e.what()).find("--workers") != std::string::npos);
  }
}

TEST_CASE("cli: a negative --tail-lines is a usage error") {
  // CLI11 converts "-3" to std::size_t through strtoull, which wraps it to
  // 18446744073709551613 instead of refusing it.
  usage_error({"--tail-lines", "-3", "s.yaml"});
}

TEST_CASE("cli: an empty --junit path is a usage error") {
  // Accepted today; run_suite's fs::absolute("") then throws a
  // filesystem_error, so the run exits 3 ("infrastructure") instead of 2.
  usage_error({"--junit", "", "s.yaml"});
}

TEST_CASE("cli: entry names after the suite, and --list") {
  CommandLine cl = parse({"suite.yaml", "api", "ui"});
  CHECK(cl.options.suite == "suite.yaml");
  CHECK(cl.options.entries == std::vector<std::string>{"api", "ui"});
  CHECK_FALSE(cl.options.list);
  CHECK(parse({"suite.yaml"}).options.entries.empty());
  cl = parse({"--list", "suite.yaml", "api"});
  CHECK(cl.options.list);
  CHECK(cl.options.entries == std::vector<std::string>{"api"});
  cl = parse({"plan", "suite.yaml", "api"});
  CHECK(cl.options.command == Options::Command::kPlan);
  CHECK(cl.options.entries == std::vector<std::string>{"api"});
  CHECK(usage_error({"--list", "--plan-in", "p.json", "suite.yaml"}).find("--list") !=
        std::string::npos);
  CHECK(usage_error({"--plan-in", "p.json", "suite.yaml", "api"}).find("--plan-in") !=
        std::string::npos);
}
