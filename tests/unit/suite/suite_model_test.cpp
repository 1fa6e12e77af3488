// A complete valid suite parses into the expected model, field by field.

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "shardrun/error.hpp"
#include "shardrun/suite.hpp"

namespace fs = std::filesystem;
using namespace shardrun;
using namespace std::chrono_literals;

namespace {

// A fresh folder under the system temp dir, removed at scope end.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "shardrun-suite-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name, std::ios::binary) << text;
    return path / name;
  }
};

const char* kFullSuite = R"(version: 1
name: checkout
workers: 4
env:
  APP_ENV: test
  RETRIES: 3
  VERBOSE: true
setup:
  - ./scripts/migrate.sh --run-dir {run_dir}
  - ["./bin/seed", "--shards", "{shards}"]
teardown:
  - ./scripts/cleanup.sh
shard:
  env:
    DB_SCHEMA: "app_test_{shard}"
  resources:
    - type: port
      name: WEB_PORT
    - { type: service, name: app, command: "./app --port {env.WEB_PORT}", ready: {tcp: "localhost:{env.WEB_PORT}"}, timeout: 30 }
  setup: ["./shard-up.sh {shard}"]
  teardown:
    - [./shard-down.sh, "{tmp}"]
tests:
  - name: api
    command: python3 -m pytest -q {tests} --junitxml={junit}
    discover: python3 -m pytest --collect-only -q tests/api
    timeout: 10m
    retries: 1
    env: { API_MODE: strict, OUT: "{junit}" }
    cwd: sub/dir/..
  - name: smoke
    command: ["./smoke.sh", "--fast"]
)";

}  // namespace

TEST_CASE("a full suite parses into every field of the model", "[suite]") {
  TempDir dir;
  fs::create_directories(dir.path / "sub" / "dir");
  const fs::path file = dir.write("full.yaml", kFullSuite);

  const Suite suite = load_suite(file);

  CHECK(suite.file == file.lexically_normal());
  CHECK(suite.dir == dir.path.lexically_normal());
  CHECK(suite.name == "checkout");
  REQUIRE(suite.workers.has_value());
  CHECK(*suite.workers == 4);
  CHECK_FALSE(suite.workers_auto);
  CHECK(suite.env == EnvList{{"APP_ENV", "test"}, {"RETRIES", "3"}, {"VERBOSE", "true"}});

  REQUIRE(suite.setup.size() == 2);
  CHECK(suite.setup[0].shell);
  CHECK(suite.setup[0].script == "./scripts/migrate.sh --run-dir {run_dir}");
  CHECK(suite.setup[0].where.line == 9);
  CHECK(suite.setup[0].where.column == 5);
  CHECK_FALSE(suite.setup[1].shell);
  CHECK(suite.setup[1].argv == std::vector<std::string>{"./bin/seed", "--shards", "{shards}"});
  CHECK(suite.setup[1].where.line == 10);
  REQUIRE(suite.teardown.size() == 1);
  CHECK(suite.teardown[0].script == "./scripts/cleanup.sh");

  CHECK(suite.shard.env == EnvList{{"DB_SCHEMA", "app_test_{shard}"}});
  REQUIRE(suite.shard.resources.size() == 2);
  CHECK(suite.shard.resources[0].type == ResourceSpec::Type::kPort);
  CHECK(suite.shard.resources[0].name == "WEB_PORT");
  CHECK(suite.shard.resources[0].where.line == 17);
  CHECK(suite.shard.resources[0].where.column == 7);
  const ResourceSpec& app = suite.shard.resources[1];
  CHECK(app.type == ResourceSpec::Type::kService);
  CHECK(app.name == "app");
  REQUIRE(app.command.has_value());
  CHECK(app.command->script == "./app --port {env.WEB_PORT}");
  CHECK(app.ready.kind == ReadyProbe::Kind::kTcp);
  CHECK(app.ready.target == "localhost:{env.WEB_PORT}");
  CHECK(app.timeout == std::chrono::seconds(30));
  CHECK(app.cwd == suite.dir);
  CHECK(suite.shard.resources[1].where.line == 19);
  REQUIRE(suite.shard.setup.size() == 1);
  CHECK(suite.shard.setup[0].script == "./shard-up.sh {shard}");
  REQUIRE(suite.shard.teardown.size() == 1);
  CHECK(suite.shard.teardown[0].argv == std::vector<std::string>{"./shard-down.sh", "{tmp}"});

  REQUIRE(suite.tests.size() == 2);
  const Entry& api = suite.tests[0];
  CHECK(api.name == "api");
  CHECK(api.where.line == 24);
  CHECK(api.command.shell);
  CHECK(api.command.script == "python3 -m pytest -q {tests} --junitxml={junit}");
  CHECK(api.command.where.line == 25);
  CHECK(api.command.where.column == 14);
  REQUIRE(api.discover.has_value());
  CHECK(api.discover->script == "python3 -m pytest --collect-only -q tests/api");
  CHECK(api.timeout == std::optional<std::chrono::milliseconds>(10min));
  CHECK(api.retries == 1);
  CHECK(api.env == EnvList{{"API_MODE", "strict"}, {"OUT", "{junit}"}});
  CHECK(api.cwd == dir.path / "sub");

  const Entry& smoke = suite.tests[1];
  CHECK(smoke.name == "smoke");
  CHECK_FALSE(smoke.command.shell);
  CHECK(smoke.command.argv == std::vector<std::string>{"./smoke.sh", "--fast"});
  CHECK_FALSE(smoke.discover.has_value());
  CHECK_FALSE(smoke.timeout.has_value());
  CHECK(smoke.retries == 0);
  CHECK(smoke.env.empty());
  CHECK(smoke.cwd == dir.path);
}

TEST_CASE("defaults: name from the file, no workers, empty lists", "[suite]") {
  TempDir dir;
  const fs::path file =
      dir.write("nightly.suite.yaml", "version: 1\ntests:\n  - name: a\n    command: 'true'\n");
  const Suite suite = load_suite(file);
  CHECK(suite.name == "nightly.suite");
  CHECK_FALSE(suite.workers.has_value());
  CHECK_FALSE(suite.workers_auto);
  CHECK(suite.env.empty());
  CHECK(suite.setup.empty());
  CHECK(suite.teardown.empty());
  CHECK(suite.shard.resources.empty());
  REQUIRE(suite.tests.size() == 1);
  CHECK(suite.tests[0].cwd == dir.path);
}

TEST_CASE("workers: auto, quoted numbers and durations in every form", "[suite]") {
  const std::string text =
      "version: \"1\"\nworkers: auto\ntests:\n"
      "  - {name: a, command: x, timeout: 90}\n"
      "  - {name: b, command: x, timeout: 1h2m3s}\n"
      "  - {name: c, command: x, timeout: 1.5}\n"
      "  - {name: d, command: x, timeout: 250ms, retries: 0}\n";
  const Suite suite = parse_suite(text, "inline.yaml");
  CHECK(suite.workers_auto);
  CHECK_FALSE(suite.workers.has_value());
  REQUIRE(suite.tests.size() == 4);
  CHECK(suite.tests[0].timeout == std::optional<std::chrono::milliseconds>(90s));
  CHECK(suite.tests[1].timeout == std::optional<std::chrono::milliseconds>(1h + 2min + 3s));
  CHECK(suite.tests[2].timeout == std::optional<std::chrono::milliseconds>(1500ms));
  CHECK(suite.tests[3].timeout == std::optional<std::chrono::milliseconds>(250ms));
}

TEST_CASE("a relative suite path resolves against the current folder", "[suite]") {
  const Suite suite =
      parse_suite("version: 1\ntests: [{name: a, command: x}]\n", "some/dir/../s.yaml");
  CHECK(suite.file == (fs::current_path() / "some/s.yaml"));
  CHECK(suite.dir == (fs::current_path() / "some"));
  CHECK(suite.tests[0].cwd == suite.dir);
}

TEST_CASE("an absolute cwd is kept, normalised", "[suite]") {
  TempDir dir;
  fs::create_directories(dir.path / "x");
  const std::string text = "version: 1\ntests:\n  - {name: a, command: x, cwd: '" +
                           (dir.path / "x" / ".").string() + "'}\n";
  const Suite suite = parse_suite(text, "/elsewhere/s.yaml");
  CHECK(suite.tests[0].cwd == dir.path / "x");
}

TEST_CASE("test names may hold spaces, unicode and punctuation", "[suite]") {
  const Suite suite = parse_suite(
      "version: 1\ntests:\n  - {name: 'api: slow (v2) ✓', command: x}\n  - {name: 42, command: "
      "y}\n",
      "s.yaml");
  CHECK(suite.tests[0].name == "api: slow (v2) ✓");
  CHECK(suite.tests[1].name == "42");
}

TEST_CASE("shell text with braces passes validation untouched", "[suite][placeholders]") {
  const Suite suite = parse_suite(
      "version: 1\n"
      "setup: ['echo ${HOME} {a,b}', \"awk '{print $1}' f\", 'curl -d {\"json\": 1}']\n"
      "tests: [{name: a, command: 'find . -exec rm {} \\;'}]\n",
      "s.yaml");
  REQUIRE(suite.setup.size() == 3);
  CHECK(suite.setup[0].script == "echo ${HOME} {a,b}");
  CHECK(suite.setup[1].script == "awk '{print $1}' f");
  CHECK(suite.setup[2].script == "curl -d {\"json\": 1}");
  CHECK(suite.tests[0].command.script == "find . -exec rm {} \\;");
}

TEST_CASE("CommandSpec::mentions and display", "[suite]") {
  CommandSpec shell{true, "pytest --junitxml={junit} {{junit}}", {}, {}};
  CHECK(shell.mentions("junit"));
  CHECK_FALSE(shell.mentions("tests"));
  CHECK(shell.display() == "pytest --junitxml={junit} {{junit}}");

  CommandSpec escaped{true, "echo {{junit}} ${junit}", {}, {}};
  CHECK_FALSE(escaped.mentions("junit"));

  CommandSpec argv{false, "", {"run", "--out={junit}", "{tests}", "{env.HOME}"}, {}};
  CHECK(argv.mentions("junit"));
  CHECK(argv.mentions("tests"));
  CHECK(argv.mentions("env.HOME"));
  CHECK_FALSE(argv.mentions("shard"));
  CHECK(argv.display() == "run --out={junit} {tests} {env.HOME}");
}

TEST_CASE("CRLF line endings and tabs after colons are read like LF", "[suite]") {
  const Suite suite = parse_suite(
      "version: 1\r\nname:\tcrlf\r\nsetup:\r\n  - |\r\n    a\r\n    b\r\n"
      "tests:\r\n  - name: a\r\n    command: run {shard}\r\n",
      "s.yaml");
  CHECK(suite.name == "crlf");
  REQUIRE(suite.setup.size() == 1);
  CHECK(suite.setup[0].script == "a\nb\n");
  CHECK(suite.tests[0].command.script == "run {shard}");
  CHECK(suite.tests[0].command.where.line == 9);
}
