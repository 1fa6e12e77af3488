// JobBuilder over a Suite filled in by hand (no YAML): environment layering,
// placeholders, commands, file names and folders of each process.
#include "shardrun/job_builder.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include "../temp_dir.hpp"

using namespace shardrun;
namespace fs = std::filesystem;
using std::chrono::milliseconds;

namespace {

using shardrun::testing::TempDir;

CommandSpec shell(std::string script) {
  CommandSpec c;
  c.shell = true;
  c.script = std::move(script);
  return c;
}

CommandSpec argv(std::vector<std::string> words) {
  CommandSpec c;
  c.shell = false;
  c.argv = std::move(words);
  return c;
}

/// A suite with every layer of environment and a string and a list command.
Suite make_suite(const fs::path& dir) {
  Suite s;
  s.file = dir / "suite.yaml";
  s.dir = dir;
  s.name = "demo";
  s.env = {{"LAYER", "suite"},
           {"APP_ENV", "test"},
           {"FROM_BASE", "{env.BASE_ONLY}-suite"},
           {"SUITE_SEES_SHARD_LAYER", "<{env.DB}>"},  // shard env comes later: not visible
           {"SUITE_CHAIN", "{env.APP_ENV}+{shards}"}};
  s.setup = {shell("migrate {run_dir} {shards}"), argv({"./seed", "--env={env.APP_ENV}"})};
  s.teardown = {shell("cleanup")};
  s.shard.env = {{"LAYER", "shard"},
                 {"DB", "db_{shard}_of_{shards}"},
                 {"SHARD_TMP", "{tmp}"},
                 {"SEES_SUITE", "{env.APP_ENV}"},
                 {"SEES_BUILTIN", "n{env.TEST_ENV_NUMBER}"}};
  s.shard.setup = {shell("create {env.DB} in {tmp}"), shell("second")};
  s.shard.teardown = {shell("drop {env.DB}")};

  Entry api;
  api.name = "api";
  api.command = shell("pytest {tests} --junitxml={junit} --shard={shard}/{shards}");
  api.env = {{"LAYER", "entry"},
             {"ENTRY_JUNIT", "{junit}"},
             {"ENTRY_SEES_SHARD", "{env.DB}"},
             {"ENTRY_SEES_JUNIT_VAR", "{env.SHARDRUN_JUNIT}"}};
  api.cwd = dir / "api";
  api.timeout = milliseconds(5000);

  Entry smoke;
  smoke.name = "smoke";
  smoke.command = argv({"./smoke.sh", "{tests}", "--out={junit}", "{shard}", "{env.LAYER}"});
  smoke.cwd = dir;

  s.tests = {api, smoke};
  return s;
}

RunContext make_context(const fs::path& run_dir) {
  RunContext c;
  c.run_id = "run-7";
  c.run_dir = run_dir;
  c.shards = 3;
  c.base_env = {{"PATH", "/usr/bin:/bin"}, {"LAYER", "base"}, {"BASE_ONLY", "b"}};
  c.kill_grace = milliseconds(2500);
  return c;
}

/// The value of NAME in a ProcessSpec's environment; fails the test when the
/// name appears more than once.
std::optional<std::string> env_of(const ProcessSpec& spec, const std::string& name) {
  std::optional<std::string> found;
  int count = 0;
  for (const std::string& kv : spec.env) {
    if (kv.rfind(name + "=", 0) == 0) {
      ++count;
      found = kv.substr(name.size() + 1);
    }
  }
  INFO(name);
  CHECK(count <= 1);
  return found;
}

Unit make_unit(std::size_t id, std::size_t entry, std::vector<std::string> tests = {},
               int attempt = 0) {
  Unit u;
  u.id = id;
  u.entry = entry;
  u.tests = std::move(tests);
  u.attempt = attempt;
  return u;
}

}  // namespace

TEST_CASE("unit env: base < suite < shard < entry, later layers win") {
  TempDir dir;
  Suite suite = make_suite(dir.path());
  JobBuilder jobs(suite, make_context(dir.path() / "run"));
  ProcessSpec spec = jobs.unit(1, make_unit(3, 0, {"t1"}));

  CHECK(env_of(spec, "LAYER") == "entry");
  CHECK(env_of(spec, "PATH") == "/usr/bin:/bin");
  CHECK(env_of(spec, "BASE_ONLY") == "b");
  CHECK(env_of(spec, "APP_ENV") == "test");
  CHECK(env_of(spec, "DB") == "db_1_of_3");

  // Without an entry env the shard layer is the last word; without a shard
  // layer (global commands) the suite's.
  ProcessSpec smoke = jobs.unit(1, make_unit(4, 1));
  CHECK(env_of(smoke, "LAYER") == "shard");
  CHECK(jobs.global_setup().at(0).env.size() > 0);
  CHECK(env_of(jobs.global_setup().at(0), "LAYER") == "suite");
  EnvList shard_env = jobs.shard_env(2);
  CHECK(get_env(shard_env, "LAYER") == "shard");
}

TEST_CASE("unit env: SHARDRUN_* variables and TEST_ENV_NUMBER") {
  TempDir dir;
  Suite suite = make_suite(dir.path());
  fs::path run = dir.path() / "run";
  JobBuilder jobs(suite, make_context(run));
  ProcessSpec spec = jobs.unit(2, make_unit(3, 0, {"t1"}));

  CHECK(env_of(spec, "SHARDRUN_SHARD") == "2");
  CHECK(env_of(spec, "SHARDRUN_SHARDS") == "3");
  CHECK(env_of(spec, "SHARDRUN_RUN_ID") == "run-7");
  CHECK(env_of(spec, "SHARDRUN_RUN_DIR") == run.string());
  CHECK(env_of(spec, "SHARDRUN_TMPDIR") == (run / "tmp" / "shard-2").string());
  CHECK(env_of(spec, "SHARDRUN_JUNIT") == (run / "junit" / "003-api.xml").string());
  CHECK(env_of(spec, "TEST_ENV_NUMBER") == "3");  // shard + 1
  CHECK(env_of(jobs.unit(0, make_unit(3, 0, {"t1"})), "TEST_ENV_NUMBER") == "1");
}

TEST_CASE("{env.NAME} sees the layers before it, not the ones after") {
  TempDir dir;
  Suite suite = make_suite(dir.path());
  fs::path run = dir.path() / "run";
  JobBuilder jobs(suite, make_context(run));
  ProcessSpec spec = jobs.unit(1, make_unit(3, 0, {"t1"}));

  CHECK(env_of(spec, "FROM_BASE") == "b-suite");
  CHECK(env_of(spec, "SUITE_CHAIN") == "test+3");         // an earlier name of the same layer
  CHECK(env_of(spec, "SUITE_SEES_SHARD_LAYER") == "<>");  // DB is set by a later layer
  CHECK(env_of(spec, "SEES_SUITE") == "test");
  CHECK(env_of(spec, "SEES_BUILTIN") == "n2");
  CHECK(env_of(spec, "ENTRY_SEES_SHARD") == "db_1_of_3");
  CHECK(env_of(spec, "ENTRY_SEES_JUNIT_VAR") == (run / "junit" / "003-api.xml").string());
  CHECK(env_of(spec, "ENTRY_JUNIT") == (run / "junit" / "003-api.xml").string());
  CHECK(env_of(spec, "SHARD_TMP") == (run / "tmp" / "shard-1").string());
}

TEST_CASE("a string command runs under /bin/sh -c with {tests} shell-quoted") {
  TempDir dir;
  Suite suite = make_suite(dir.path());
  fs::path run = dir.path() / "run";
  JobBuilder jobs(suite, make_context(run));
  ProcessSpec spec = jobs.unit(1, make_unit(3, 0, {"t.py::a", "t.py::b[x y]", "it's"}));
  REQUIRE(spec.argv.size() == 3);
  CHECK(spec.argv[0] == "/bin/sh");
  CHECK(spec.argv[1] == "-c");
  CHECK(spec.argv[2] == "pytest t.py::a 't.py::b[x y]' 'it'\\''s' --junitxml=" +
                            (run / "junit" / "003-api.xml").string() + " --shard=1/3");
}

TEST_CASE("a list command is argv: {tests} becomes separate elements, unquoted") {
  TempDir dir;
  Suite suite = make_suite(dir.path());
  fs::path run = dir.path() / "run";
  JobBuilder jobs(suite, make_context(run));
  std::string junit = (run / "junit" / "012-smoke.xml").string();

  ProcessSpec spec = jobs.unit(2, make_unit(12, 1, {"a b", "it's"}));
  CHECK(spec.argv ==
        std::vector<std::string>{"./smoke.sh", "a b", "it's", "--out=" + junit, "2", "shard"});

  // No test ids: "{tests}" leaves no empty argument behind.
  ProcessSpec none = jobs.unit(2, make_unit(12, 1));
  CHECK(none.argv == std::vector<std::string>{"./smoke.sh", "--out=" + junit, "2", "shard"});
}

TEST_CASE("unit files: logs/NNN-entry.log and junit/NNN-entry.xml, retries apart") {
  TempDir dir;
  Suite suite = make_suite(dir.path());
  fs::path run = dir.path() / "run";
  JobBuilder jobs(suite, make_context(run));

  Unit first = make_unit(3, 0);
  CHECK(jobs.unit_stem(first) == "003-api");
  CHECK(jobs.unit_log(first) == run / "logs" / "003-api.log");
  CHECK(jobs.unit_junit(first) == run / "junit" / "003-api.xml");
  CHECK(jobs.unit(0, first).log == run / "logs" / "003-api.log");

  Unit retry = make_unit(3, 0, {}, 1);
  CHECK(jobs.unit_stem(retry) == "003-api.retry1");
  CHECK(jobs.unit_log(retry) == run / "logs" / "003-api.retry1.log");
  CHECK(jobs.unit_junit(retry) == run / "junit" / "003-api.retry1.xml");
  ProcessSpec spec = jobs.unit(0, retry);
  CHECK(spec.log == run / "logs" / "003-api.retry1.log");
  CHECK(env_of(spec, "SHARDRUN_JUNIT") == (run / "junit" / "003-api.retry1.xml").string());

  CHECK(jobs.unit_stem(make_unit(1234, 1, {}, 2)) == "1234-smoke.retry2");
  CHECK(jobs.shard_tmp(4) == run / "tmp" / "shard-4");
}

TEST_CASE("a unit runs in its entry's cwd with its timeout and the run's kill grace") {
  TempDir dir;
  Suite suite = make_suite(dir.path());
  JobBuilder jobs(suite, make_context(dir.path() / "run"));
  ProcessSpec api = jobs.unit(0, make_unit(0, 0));
  CHECK(api.cwd == dir.path() / "api");
  CHECK(api.timeout == milliseconds(5000));
  CHECK(api.kill_grace == milliseconds(2500));
  ProcessSpec smoke = jobs.unit(0, make_unit(1, 1));
  CHECK(smoke.cwd == dir.path());
  CHECK_FALSE(smoke.timeout.has_value());
  CHECK(smoke.kill_grace == milliseconds(2500));
}

TEST_CASE("shard setup and teardown: suite folder, shard env, numbered logs") {
  TempDir dir;
  Suite suite = make_suite(dir.path());
  fs::path run = dir.path() / "run";
  JobBuilder jobs(suite, make_context(run));

  std::vector<ProcessSpec> setup = jobs.shard_setup(2);
  REQUIRE(setup.size() == 2);
  CHECK(setup[0].argv ==
        std::vector<std::string>{"/bin/sh", "-c",
                                 "create db_2_of_3 in " + (run / "tmp" / "shard-2").string()});
  CHECK(setup[0].log == run / "logs" / "shard-2-setup-1.log");
  CHECK(setup[1].log == run / "logs" / "shard-2-setup-2.log");
  for (const ProcessSpec& s : setup) {
    CHECK(s.cwd == dir.path());
    CHECK(s.kill_grace == milliseconds(2500));
    CHECK_FALSE(s.timeout.has_value());
  }
  CHECK(env_of(setup[0], "SHARDRUN_SHARD") == "2");
  CHECK(env_of(setup[0], "TEST_ENV_NUMBER") == "3");
  CHECK(env_of(setup[0], "DB") == "db_2_of_3");
  CHECK(env_of(setup[0], "LAYER") == "shard");
  CHECK_FALSE(env_of(setup[0], "SHARDRUN_JUNIT").has_value());  // no unit, no JUnit path

  std::vector<ProcessSpec> teardown = jobs.shard_teardown(0);
  REQUIRE(teardown.size() == 1);
  CHECK(teardown[0].argv == std::vector<std::string>{"/bin/sh", "-c", "drop db_0_of_3"});
  CHECK(teardown[0].log == run / "logs" / "shard-0-teardown-1.log");
  CHECK(env_of(teardown[0], "SHARDRUN_SHARD") == "0");
}

TEST_CASE("global setup and teardown: suite env only, no shard variables") {
  TempDir dir;
  Suite suite = make_suite(dir.path());
  fs::path run = dir.path() / "run";
  JobBuilder jobs(suite, make_context(run));

  std::vector<ProcessSpec> setup = jobs.global_setup();
  REQUIRE(setup.size() == 2);
  CHECK(setup[0].argv ==
        std::vector<std::string>{"/bin/sh", "-c", "migrate " + run.string() + " 3"});
  CHECK(setup[1].argv == std::vector<std::string>{"./seed", "--env=test"});
  CHECK(setup[0].log == run / "logs" / "setup-1.log");
  CHECK(setup[1].log == run / "logs" / "setup-2.log");
  CHECK(setup[0].cwd == dir.path());
  CHECK(setup[0].kill_grace == milliseconds(2500));
  CHECK_FALSE(setup[0].timeout.has_value());

  CHECK_FALSE(env_of(setup[0], "SHARDRUN_SHARD").has_value());
  CHECK_FALSE(env_of(setup[0], "SHARDRUN_TMPDIR").has_value());
  CHECK_FALSE(env_of(setup[0], "TEST_ENV_NUMBER").has_value());
  CHECK_FALSE(env_of(setup[0], "DB").has_value());  // shard env is not applied
  CHECK(env_of(setup[0], "SHARDRUN_SHARDS") == "3");
  CHECK(env_of(setup[0], "SHARDRUN_RUN_ID") == "run-7");
  CHECK(env_of(setup[0], "SHARDRUN_RUN_DIR") == run.string());
  CHECK(env_of(setup[0], "APP_ENV") == "test");
  CHECK(env_of(setup[0], "LAYER") == "suite");

  std::vector<ProcessSpec> teardown = jobs.global_teardown();
  REQUIRE(teardown.size() == 1);
  CHECK(teardown[0].log == run / "logs" / "teardown-1.log");
  CHECK(teardown[0].argv == std::vector<std::string>{"/bin/sh", "-c", "cleanup"});
}

TEST_CASE("a nested run does not pass the outer run's shard variables to global setup") {
  // shardrun started from inside another shardrun unit inherits SHARDRUN_SHARD,
  // SHARDRUN_TMPDIR, TEST_ENV_NUMBER and SHARDRUN_JUNIT. Global commands have
  // no shard, so they must not see the outer run's values.
  TempDir dir;
  Suite suite = make_suite(dir.path());
  RunContext context = make_context(dir.path() / "run");
  context.base_env.emplace_back("SHARDRUN_SHARD", "7");
  context.base_env.emplace_back("SHARDRUN_TMPDIR", "/outer/tmp/shard-7");
  context.base_env.emplace_back("TEST_ENV_NUMBER", "8");
  JobBuilder jobs(suite, context);
  ProcessSpec setup = jobs.global_setup().at(0);
  CHECK_FALSE(env_of(setup, "SHARDRUN_SHARD").has_value());
  CHECK_FALSE(env_of(setup, "SHARDRUN_TMPDIR").has_value());
  CHECK_FALSE(env_of(setup, "TEST_ENV_NUMBER").has_value());
}

TEST_CASE("a nested run does not pass the outer unit's SHARDRUN_JUNIT to shard setup") {
  // A shard setup command that writes to $SHARDRUN_JUNIT would overwrite the
  // outer unit's report.
  TempDir dir;
  Suite suite = make_suite(dir.path());
  RunContext context = make_context(dir.path() / "run");
  context.base_env.emplace_back("SHARDRUN_JUNIT", "/outer/junit/001-x.xml");
  JobBuilder jobs(suite, context);
  CHECK_FALSE(env_of(jobs.shard_setup(0).at(0), "SHARDRUN_JUNIT").has_value());
  CHECK_FALSE(env_of(jobs.global_setup().at(0), "SHARDRUN_JUNIT").has_value());
}

TEST_CASE("the base environment's own values are overridden, never duplicated") {
  TempDir dir;
  Suite suite = make_suite(dir.path());
  RunContext context = make_context(dir.path() / "run");
  context.base_env.emplace_back("SHARDRUN_SHARD", "7");
  context.base_env.emplace_back("TEST_ENV_NUMBER", "8");
  context.base_env.emplace_back("SHARDRUN_JUNIT", "/outer.xml");
  JobBuilder jobs(suite, context);
  ProcessSpec spec = jobs.unit(1, make_unit(0, 0));
  CHECK(env_of(spec, "SHARDRUN_SHARD") == "1");  // env_of also checks: exactly once
  CHECK(env_of(spec, "TEST_ENV_NUMBER") == "2");
  CHECK(env_of(spec, "SHARDRUN_JUNIT") == (dir.path() / "run" / "junit" / "000-api.xml").string());
}

TEST_CASE("shard setup creates the shard's {tmp} folder, and so does the first resource") {
  TempDir dir;
  Suite suite = make_suite(dir.path());
  fs::path run = dir.path() / "run";
  JobBuilder jobs(suite, make_context(run));
  (void)jobs.shard_setup(1);
  CHECK(fs::is_directory(run / "tmp" / "shard-1"));

  // A file where the run folder should be: the first resource says so.
  suite.shard.resources.push_back(ResourceSpec{});
  suite.shard.resources.back().name = "P";
  std::ofstream(dir.path() / "blocked") << "x";
  JobBuilder blocked(suite, make_context(dir.path() / "blocked"));
  ResourceStart start = blocked.resources().acquire_resource(0, 0);
  REQUIRE(start.error.has_value());
  CHECK(start.error->find((dir.path() / "blocked" / "tmp" / "shard-0").string()) !=
        std::string::npos);
}

TEST_CASE("set_env, get_env, to_environ and current_environment") {
  EnvList env = {{"A", "1"}, {"B", "2"}};
  set_env(env, "A", "x");
  set_env(env, "C", "3");
  CHECK(env == EnvList{{"A", "x"}, {"B", "2"}, {"C", "3"}});
  CHECK(get_env(env, "B") == "2");
  CHECK_FALSE(get_env(env, "D").has_value());
  CHECK(get_env(EnvList{{"E", ""}}, "E") == "");  // set but empty is not unset
  CHECK(to_environ(env) == std::vector<std::string>{"A=x", "B=2", "C=3"});

  ::setenv("SHARDRUN_JOB_BUILDER_TEST", "a=b=c", 1);
  EnvList current = current_environment();
  CHECK(get_env(current, "SHARDRUN_JOB_BUILDER_TEST") == "a=b=c");  // split at the first '='
  ::unsetenv("SHARDRUN_JOB_BUILDER_TEST");
  CHECK_FALSE(get_env(current_environment(), "SHARDRUN_JOB_BUILDER_TEST").has_value());
}
