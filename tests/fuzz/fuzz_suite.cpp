// libFuzzer target for the suite parser (shardrun::parse_suite).
//
// Contract under test (include/shardrun/suite.hpp, DESIGN §3): any bytes give
// either a validated Suite or a SuiteError naming the file, line and column.
// Anything else is a finding: another exception type (libFuzzer reports it as
// an uncaught exception / abort), a crash, a sanitizer report, a hang (the
// -timeout of scripts/fuzz.sh) or memory blow-up (-rss_limit_mb).
//
// Beyond "does not crash", a parsed Suite must satisfy what the loader
// promises its callers, since the scheduler relies on it without re-checking:
// a non-empty `tests:` with unique, non-empty names and non-empty commands.
// The commands of an accepted suite are also pushed through placeholder
// expansion, which must fail only with shardrun::Error, and through the
// JobBuilder the run uses, which must not fail at all: a suite the loader
// accepts must not blow up once the run has started (DESIGN §3: bad suites
// exit 2 with nothing run).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "shardrun/error.hpp"
#include "shardrun/job_builder.hpp"
#include "shardrun/placeholders.hpp"
#include "shardrun/suite.hpp"

namespace {

// A violated invariant: print why (libFuzzer shows stderr) and abort, so the
// input is saved as a crash.
[[noreturn]] void finding(const char* what, const std::string& detail = {}) {
  std::fprintf(stderr, "fuzz_suite: %s%s%s\n", what, detail.empty() ? "" : ": ", detail.c_str());
  std::abort();
}

void check_command(const shardrun::CommandSpec& command, const char* where) {
  if (command.shell) {
    if (command.script.find_first_not_of(" \t\r\n") == std::string::npos)
      finding("accepted an empty shell command", where);
  } else if (command.argv.empty() || command.argv.front().empty()) {
    finding("accepted an empty argv command", where);
  }
}

// Expands a command the way the job builder does for a unit; only
// shardrun::Error (unknown/unavailable placeholder) may come out.
void expand(const shardrun::CommandSpec& command) {
  static const std::vector<std::string> kTests = {"t::a", "t b", "it's"};
  shardrun::PlaceholderValues values;
  values.shard = 1;
  values.shards = 2;
  values.run_dir = "/run";
  values.tmp = "/run/tmp/1";
  values.junit = "/run/junit/1.xml";
  values.tests = &kTests;
  values.env = [](std::string_view name) -> std::optional<std::string> {
    if (name.size() % 2 == 0) return std::string(name);
    return std::nullopt;
  };
  try {
    if (command.shell) {
      (void)shardrun::expand_placeholders(command.script, values, true);
    } else {
      (void)shardrun::expand_argv(command.argv, values);
    }
  } catch (const shardrun::Error&) {
  }
}

void check_suite(const shardrun::Suite& suite) {
  if (suite.tests.empty()) finding("accepted a suite without tests");
  std::set<std::string> names;
  for (const shardrun::Entry& entry : suite.tests) {
    if (entry.name.empty()) finding("accepted an entry without a name");
    if (!names.insert(entry.name).second) finding("accepted a duplicate test name", entry.name);
    if (entry.retries < 0) finding("accepted negative retries", entry.name);
    if (entry.timeout && entry.timeout->count() <= 0)
      finding("accepted a non-positive timeout", entry.name);
    check_command(entry.command, "command");
    if (entry.discover) check_command(*entry.discover, "discover");
    expand(entry.command);
    if (entry.discover) expand(*entry.discover);
  }
  if (suite.workers && *suite.workers < 1) finding("accepted workers < 1");
  for (const auto* list :
       {&suite.setup, &suite.teardown, &suite.shard.setup, &suite.shard.teardown}) {
    for (const shardrun::CommandSpec& c : *list) {
      check_command(c, "setup/teardown");
      expand(c);
    }
  }
}

// One scratch run directory per fuzzing process (shard_setup creates
// {tmp} folders in it), removed at exit.
const std::filesystem::path& run_dir() {
  static const std::filesystem::path dir = [] {
    std::string pattern = (std::filesystem::temp_directory_path() / "fuzz_suite.XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) finding("mkdtemp failed");
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(run_dir(), ec);
    });
    return std::filesystem::path(pattern);
  }();
  return dir;
}

// Everything the run builds from the suite, for two shards.
void build_jobs(const shardrun::Suite& suite) {
  shardrun::RunContext context;
  context.run_id = "fuzz";
  context.run_dir = run_dir();
  context.shards = 2;
  context.base_env = {{"PATH", "/usr/bin:/bin"}, {"HOME", "/root"}};
  shardrun::JobBuilder jobs(suite, context);
  try {
    (void)jobs.global_setup();
    (void)jobs.global_teardown();
    for (int shard = 0; shard < 2; ++shard) {
      (void)jobs.shard_setup(shard);
      (void)jobs.shard_teardown(shard);
      for (std::size_t i = 0; i < suite.tests.size(); ++i) {
        const shardrun::Entry& entry = suite.tests[i];
        if (entry.discover && shard == 0) (void)jobs.discover(i);
        shardrun::Unit unit;
        unit.id = i;
        unit.entry = i;
        unit.label = entry.name;
        unit.attempt = shard;  // a retry on the second shard
        if (entry.discover) unit.tests = {"tests/a.py::t[1]", "it's b", "-x"};
        (void)jobs.unit(shard, unit);
      }
    }
  } catch (const std::exception& e) {
    finding("an accepted suite cannot be turned into processes", e.what());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const shardrun::Suite suite = shardrun::parse_suite(text, "fuzz.yaml");
    check_suite(suite);
    build_jobs(suite);
  } catch (const shardrun::SuiteError& e) {
    // The documented message format: "FILE:LINE:COL: error: MESSAGE".
    if (std::strncmp(e.what(), "fuzz.yaml:", 10) != 0)
      finding("SuiteError without the file", e.what());
    if (e.line() < 0 || e.column() < 0) finding("SuiteError with a negative location", e.what());
    if (e.detail().empty()) finding("SuiteError without a message", e.what());
  }
  // The duration grammar is reached through `timeout:` above; short inputs
  // also go straight in, where a crash is easier to read.
  if (size <= 64) {
    if (auto d = shardrun::parse_duration(text); d && d->count() < 0)
      finding("negative duration", text);
  }
  return 0;
}
