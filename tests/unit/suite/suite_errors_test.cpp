// Every kind of suite error, with its exact message, line and column.

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "shardrun/error.hpp"
#include "shardrun/suite.hpp"

namespace fs = std::filesystem;
using namespace shardrun;

namespace {

// what() of the SuiteError that parsing `text` as "s.yaml" throws.
std::string error_of(const std::string& text, const fs::path& file = "s.yaml") {
  try {
    parse_suite(text, file);
  } catch (const SuiteError& e) {
    CHECK(e.code() == ExitCode::kUsage);
    return e.what();
  } catch (const std::exception& e) {
    return std::string("not a SuiteError: ") + e.what();
  }
  return "no error";
}

// A minimal valid suite with `extra` inserted in its single test entry
// (lines 3+ of the file, indented as entry keys).
std::string with_entry(const std::string& extra) {
  return "version: 1\ntests:\n  - name: a\n    command: run\n" + extra;
}

}  // namespace

TEST_CASE("unknown keys name the context and suggest the closest key", "[suite][errors]") {
  CHECK(error_of(with_entry("    comand: x\n")) ==
        "s.yaml:5:5: error: unknown key 'comand' in test entry (did you mean 'command'?)");
  CHECK(error_of("version: 1\ntset: []\n") ==
        "s.yaml:2:1: error: unknown key 'tset' in the suite (did you mean 'tests'?)");
  CHECK(error_of(with_entry("    Timeout: 1s\n")) ==
        "s.yaml:5:5: error: unknown key 'Timeout' in test entry (did you mean 'timeout'?)");
  CHECK(error_of("version: 1\nshard:\n  xyzzy: 1\ntests: [{name: a, command: b}]\n") ==
        "s.yaml:3:3: error: unknown key 'xyzzy' in 'shard' (allowed: env, resources, setup, "
        "teardown)");
  // A huge unknown key is cut short in the message.
  CHECK(error_of("version: 1\n? " + std::string(1000000, 'k') + "\n: 1\n") ==
        "s.yaml:2:3: error: unknown key '" + std::string(60, 'k') +
            "...' in the suite (allowed: version, name, workers, env, setup, teardown, shard, "
            "tests)");
  CHECK(error_of(with_entry("    <<: {retries: 1}\n")) ==
        "s.yaml:5:5: error: unknown key '<<' in test entry (YAML merge keys are not supported; "
        "repeat the keys)");
}

TEST_CASE("required keys", "[suite][errors]") {
  CHECK(error_of("name: x\ntests: [{name: a, command: b}]\n") ==
        "s.yaml:1:1: error: missing required key 'version' (add 'version: 1')");
  CHECK(error_of("version: 1\nname: x\n") ==
        "s.yaml:1:1: error: missing required key 'tests' (the list of test commands)");
  CHECK(error_of("version: 1\ntests:\n  - command: x\n") ==
        "s.yaml:3:5: error: a test entry needs a 'name'");
  CHECK(error_of("version: 1\ntests:\n  - name: api\n    retries: 1\n") ==
        "s.yaml:3:5: error: test 'api' needs a 'command'");
  CHECK(error_of("version: 1\ntests:\n  - name: a\n    command: x\nshard:\n  resources:\n"
                 "    - name: P\n") ==
        "s.yaml:7:7: error: a resource needs a 'type' (port, postgres or service)");
}

TEST_CASE("wrong types for each typed key", "[suite][errors]") {
  CHECK(error_of("version: 2\ntests: [{name: a, command: b}]\n") ==
        "s.yaml:1:10: error: 'version' must be 1, not '2'");
  CHECK(error_of("version: [1]\ntests: [{name: a, command: b}]\n") ==
        "s.yaml:1:10: error: 'version' must be 1, not a list");
  CHECK(error_of("version: 1\ntests: []\n") ==
        "s.yaml:2:8: error: 'tests' must be a non-empty list");
  CHECK(error_of("version: 1\ntests: {a: 1}\n") ==
        "s.yaml:2:8: error: 'tests' must be a non-empty list, not a map");
  CHECK(error_of("version: 1\ntests:\n") ==
        "s.yaml:2:1: error: 'tests' has no value; it must be a non-empty list");
  CHECK(error_of("version: 1\ntests: [run]\n") ==
        "s.yaml:2:9: error: each item of 'tests' must be a map with 'name' and 'command', not "
        "'run'");
  for (const char* workers : {"0", "-1", "abc", "1.5", "Auto", "9999999999"}) {
    INFO(workers);
    CHECK(error_of(std::string("version: 1\nworkers: ") + workers +
                   "\ntests: [{name: a, command: b}]\n") ==
          std::string("s.yaml:2:10: error: 'workers' must be a positive whole number or \"auto\", "
                      "not '") +
              workers + "'");
  }
  CHECK(error_of(with_entry("    timeout: abc\n")) ==
        "s.yaml:5:14: error: 'timeout' must be a duration like 30s, 10m, 1h30m, or a number of "
        "seconds, not 'abc'");
  CHECK(error_of(with_entry("    timeout: [1]\n")) ==
        "s.yaml:5:14: error: 'timeout' must be a duration like 30s, 10m, 1h30m, or a number of "
        "seconds, not a list");
  CHECK(error_of(with_entry("    timeout: 0s\n")) ==
        "s.yaml:5:14: error: 'timeout' must be more than 0");
  CHECK(error_of(with_entry("    retries: -1\n")) ==
        "s.yaml:5:14: error: 'retries' must be a whole number, 0 or more, not '-1'");
  CHECK(error_of(with_entry("    retries:\n")) ==
        "s.yaml:5:5: error: 'retries' has no value; it must be a whole number, 0 or more");
  CHECK(error_of(with_entry("    name: b\n")) ==
        "s.yaml:5:5: error: duplicate key 'name' (first defined at line 3)");
  CHECK(error_of("version: 1\nname: [a]\ntests: [{name: a, command: b}]\n") ==
        "s.yaml:2:7: error: 'name' must be text, not a list");
  CHECK(error_of("version: 1\nname: ''\ntests: [{name: a, command: b}]\n") ==
        "s.yaml:2:7: error: 'name' must not be empty");
  CHECK(error_of("version: 1\nshard: [a]\ntests: [{name: a, command: b}]\n") ==
        "s.yaml:2:8: error: 'shard' must be a map with 'env', 'resources', 'setup', 'teardown', "
        "not a list");
}

TEST_CASE("env maps", "[suite][errors]") {
  CHECK(error_of("version: 1\nenv: [A]\ntests: [{name: a, command: b}]\n") ==
        "s.yaml:2:6: error: 'env' must be a map of NAME: value, not a list");
  CHECK(error_of("version: 1\nenv:\n  A: [1, 2]\ntests: [{name: a, command: b}]\n") ==
        "s.yaml:3:6: error: 'A' must be text, a number or a boolean, not a list");
  CHECK(error_of("version: 1\nenv:\n  A:\ntests: [{name: a, command: b}]\n") ==
        "s.yaml:3:3: error: 'A' in 'env' has no value (write A: \"\" for an empty one)");
  CHECK(error_of("version: 1\nenv:\n  API MODE: x\ntests: [{name: a, command: b}]\n") ==
        "s.yaml:3:3: error: 'API MODE' is not a valid variable name (letters, digits and '_', not "
        "starting with a digit)");
  CHECK(error_of("version: 1\nenv:\n  A: 1\n  B: 2\n  A: 3\ntests: [{name: a, command: b}]\n") ==
        "s.yaml:5:3: error: duplicate key 'A' (first defined at line 3)");
}

TEST_CASE("commands", "[suite][errors]") {
  CHECK(error_of("version: 1\ntests:\n  - name: a\n    command: ''\n") ==
        "s.yaml:4:14: error: 'command' must not be empty");
  CHECK(error_of("version: 1\ntests:\n  - name: a\n    command: '  '\n") ==
        "s.yaml:4:14: error: 'command' must not be empty");
  CHECK(error_of("version: 1\ntests:\n  - name: a\n    command:\n") ==
        "s.yaml:4:5: error: 'command' has no value; it must be a string or a list of words");
  CHECK(error_of("version: 1\ntests:\n  - name: a\n    command: []\n") ==
        "s.yaml:4:14: error: 'command' must not be an empty list");
  CHECK(error_of("version: 1\ntests:\n  - name: a\n    command: {x: 1}\n") ==
        "s.yaml:4:14: error: 'command' must be a string or a list of words, not a map");
  CHECK(error_of("version: 1\ntests:\n  - name: a\n    command: [run, [x]]\n") ==
        "s.yaml:4:20: error: each word of 'command' must be text, not a list");
  CHECK(error_of("version: 1\ntests:\n  - name: a\n    command: ['', x]\n") ==
        "s.yaml:4:15: error: the program (first word) of 'command' must not be empty");
  CHECK(error_of("version: 1\nsetup: ./x.sh\ntests: [{name: a, command: b}]\n") ==
        "s.yaml:2:8: error: 'setup' must be a list of commands, not './x.sh'");
  CHECK(error_of("version: 1\nteardown: ['ok', '']\ntests: [{name: a, command: b}]\n") ==
        "s.yaml:2:18: error: an item of 'teardown' must not be empty");
}

TEST_CASE("test names: unique, non-empty, no '/' or control characters", "[suite][errors]") {
  CHECK(error_of("version: 1\ntests:\n  - name: api\n    command: x\n"
                 "  - name: web\n    command: y\n  - name: api\n    command: z\n") ==
        "s.yaml:7:11: error: duplicate test name 'api' (first defined at line 3)");
  CHECK(error_of("version: 1\ntests:\n  - name: a/b\n    command: x\n") ==
        "s.yaml:3:11: error: test name 'a/b' must not contain '/' (it is used in file names)");
  CHECK(error_of("version: 1\ntests:\n  - name: ''\n    command: x\n") ==
        "s.yaml:3:11: error: test name '' must not be empty");
  CHECK(error_of("version: 1\ntests:\n  - name: \"a\\tb\"\n    command: x\n") ==
        "s.yaml:3:11: error: test name 'a\\tb' must not contain control characters");
  CHECK(error_of("version: 1\ntests:\n  - name: ..\n    command: x\n") ==
        "s.yaml:3:11: error: test name '..' must not be '.' or '..'");
}

TEST_CASE("resources", "[suite][errors]") {
  const std::string head = "version: 1\ntests: [{name: a, command: b}]\nshard:\n  resources:\n";
  CHECK(error_of(head + "    - type: prot\n") ==
        "s.yaml:5:13: error: unknown resource type 'prot' (did you mean 'port'?)");
  CHECK(error_of(head + "    - type: redis\n") ==
        "s.yaml:5:13: error: unknown resource type 'redis' (known: port, postgres, service)");
  CHECK(error_of(head + "    - port\n") ==
        "s.yaml:5:7: error: each resource must be a map with a 'type', not 'port'");
  CHECK(error_of(head + "    - {type: service, command: [a, b]}\n") ==
        "s.yaml:5:7: error: a 'service' resource needs a 'name' (it names its log)");
  CHECK(error_of(head + "    - {type: service, name: app}\n") ==
        "s.yaml:5:7: error: service 'app' needs a 'command'");
  CHECK(error_of(head + "    - {type: service, name: 'a/b', command: x}\n") ==
        "s.yaml:5:29: error: service name 'a/b' may hold only letters, digits, '_', '.' and '-' "
        "(it names a file)");
  CHECK(error_of(head + "    - {type: service, name: a, command: x, ready: {tcp: x, log: y}}\n") ==
        "s.yaml:5:51: error: 'ready' needs exactly one of 'tcp', 'http' or 'log'");
  CHECK(error_of(head + "    - {type: service, name: a, command: x, ready: {tpc: x}}\n") ==
        "s.yaml:5:52: error: unknown key 'tpc' in 'ready' (did you mean 'tcp'?)");
  CHECK(error_of(head + "    - {type: service, name: a, command: x, ready: {tcp: nocolon}}\n") ==
        "s.yaml:5:57: error: 'tcp' must be HOST:PORT, e.g. 127.0.0.1:{env.APP_PORT}");
  CHECK(error_of(head + "    - {type: port}\n") ==
        "s.yaml:5:7: error: a 'port' resource needs a 'name': the variable that receives the "
        "port");
  CHECK(error_of(head + "    - {type: port, name: 'my-port'}\n") ==
        "s.yaml:5:26: error: 'name' must be a variable name (letters, digits, '_'), not "
        "'my-port'");
  CHECK(error_of(head + "    - {type: port, name: P, mode: schema}\n") ==
        "s.yaml:5:29: error: unknown key 'mode' in a 'port' resource (allowed: type, name)");
  CHECK(error_of(head + "    - {type: postgres, mode: scheme}\n") ==
        "s.yaml:5:30: error: 'mode' must be 'schema' or 'database', not 'scheme'");
  CHECK(error_of(head + "    - {type: postgres, template: t}\n") ==
        "s.yaml:5:24: error: 'template' needs 'mode: database'");
  CHECK(error_of(head + "    - {type: port, name: P, type: port}\n") ==
        "s.yaml:5:29: error: duplicate key 'type' (first defined at line 5)");
  CHECK(error_of("version: 1\ntests: [{name: a, command: b}]\nshard:\n  resources: port\n") ==
        "s.yaml:4:14: error: 'resources' must be a list of resources, not 'port'");
  CHECK(error_of(head + "    - {type: postgres, url: 'http://x/{shrad}'}\n") ==
        "s.yaml:5:39: error: unknown placeholder '{shrad}' (known: {shard}, {shards}, {tests}, "
        "{tests_file}, {junit}, {run_dir}, {tmp}, {env.NAME})");
}

TEST_CASE("cwd must be an existing folder", "[suite][errors]") {
  const fs::path dir = fs::temp_directory_path() / ("shardrun-cwd-" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "file.txt") << "x";
  const fs::path suite = dir / "s.yaml";
  CHECK(error_of(with_entry("    cwd: missing/dir\n"), suite) ==
        suite.string() +
            ":5:10: error: 'cwd' folder does not exist: " + (dir / "missing/dir").string());
  CHECK(error_of(with_entry("    cwd: ./file.txt\n"), suite) ==
        suite.string() + ":5:10: error: 'cwd' is not a folder: " + (dir / "file.txt").string());
  CHECK(error_of(with_entry("    cwd: ''\n"), suite) ==
        suite.string() + ":5:10: error: 'cwd' must not be empty (use '.' for the suite's folder)");
  fs::remove_all(dir);
}

TEST_CASE("unknown placeholders point at the placeholder", "[suite][errors][placeholders]") {
  const std::string known =
      " (known: {shard}, {shards}, {tests}, {tests_file}, {junit}, {run_dir}, {tmp}, {env.NAME})";
  // Plain scalar: the column of the '{'.
  CHECK(error_of(with_entry("    env:\n      OUT: x-{foo}-y\n")) ==
        "s.yaml:6:14: error: unknown placeholder '{foo}'" + known);
  // Quoted scalar without escapes: still exact.
  CHECK(error_of("version: 1\ntests:\n  - name: a\n    command: \"run {shrad} x\"\n") ==
        "s.yaml:4:19: error: unknown placeholder '{shrad}'" + known);
  // A word of an argv list.
  CHECK(error_of("version: 1\ntests:\n  - name: a\n    command: [run, '--x={shard_id}']\n") ==
        "s.yaml:4:25: error: unknown placeholder '{shard_id}'" + known);
  // A block scalar: its start (the column cannot be proven).
  CHECK(error_of("version: 1\ntests:\n  - name: a\n    command: |\n      a\n      b {nope}\n") ==
        "s.yaml:4:14: error: unknown placeholder '{nope}'" + known);
  // A quoted scalar with an escape before the placeholder: its start.
  CHECK(error_of("version: 1\ntests:\n  - name: a\n    command: \"a\\tb {nope}\"\n") ==
        "s.yaml:4:14: error: unknown placeholder '{nope}'" + known);
  CHECK(error_of("version: 1\ntests:\n  - name: a\n    command: pytest --junitxml={junit\n") ==
        "s.yaml:4:32: error: unterminated placeholder '{junit' (add '}', or write '{{' for a "
        "literal brace)");
}

TEST_CASE("placeholders only where they have a value", "[suite][errors][placeholders]") {
  CHECK(error_of("version: 1\nsetup: ['init {shard}']\ntests: [{name: a, command: b}]\n") ==
        "s.yaml:2:15: error: placeholder '{shard}' cannot be used in the global 'setup' (allowed "
        "there: {shards}, {run_dir}, {env.NAME})");
  CHECK(error_of("version: 1\nteardown: [[rm, '{tmp}']]\ntests: [{name: a, command: b}]\n") ==
        "s.yaml:2:18: error: placeholder '{tmp}' cannot be used in the global 'teardown' (allowed "
        "there: {shards}, {run_dir}, {env.NAME})");
  CHECK(error_of("version: 1\nenv: {J: '{junit}'}\ntests: [{name: a, command: b}]\n") ==
        "s.yaml:2:11: error: placeholder '{junit}' cannot be used in the suite's 'env' (allowed "
        "there: {shard}, {shards}, {run_dir}, {tmp}, {env.NAME})");
  CHECK(error_of("version: 1\nshard: {setup: ['x {tests}']}\ntests: [{name: a, command: b}]\n") ==
        "s.yaml:2:20: error: placeholder '{tests}' cannot be used in 'shard.setup' (allowed "
        "there: {shard}, {shards}, {run_dir}, {tmp}, {env.NAME})");
  CHECK(error_of(with_entry("    env: {T: '{tests}'}\n")) ==
        "s.yaml:5:15: error: placeholder '{tests}' cannot be used in a test's 'env' (allowed "
        "there: {shard}, {shards}, {junit}, {run_dir}, {tmp}, {env.NAME})");
  CHECK(error_of("version: 1\ntests:\n  - name: a\n    command: run {tests}\n"
                 "    discover: list {junit}\n") ==
        "s.yaml:5:20: error: placeholder '{junit}' cannot be used in 'discover' (allowed there: "
        "{shards}, {run_dir}, {env.NAME})");
  // A test's env may use {junit}; its command everything.
  CHECK_NOTHROW(parse_suite(with_entry("    env: {J: '{junit}-{shard}-{tmp}'}\n"), "s.yaml"));
}

TEST_CASE("{tests} and discover go together", "[suite][errors][placeholders]") {
  // {tests_file} stands for {tests}, with the same rule.
  CHECK_NOTHROW(
      parse_suite("version: 1\ntests:\n  - name: a\n    command: run @{tests_file}\n"
                  "    discover: list\n",
                  "s.yaml"));
  CHECK(error_of("version: 1\ntests:\n  - name: a\n    command: pytest @{tests_file}\n") ==
        "s.yaml:4:22: error: '{tests_file}' needs a 'discover' command or 'files' (the test ids "
        "come from one of them)");
  CHECK(error_of("version: 1\ntests:\n  - name: a\n    command: pytest {tests}\n") ==
        "s.yaml:4:21: error: '{tests}' needs a 'discover' command or 'files' (the test ids come "
        "from one of them)");
  CHECK(error_of("version: 1\ntests:\n  - name: a\n    command: [pytest, '{tests}']\n") ==
        "s.yaml:4:24: error: '{tests}' needs a 'discover' command or 'files' (the test ids come "
        "from one of them)");
  CHECK(error_of("version: 1\ntests:\n  - name: a\n    command: pytest\n"
                 "    discover: pytest --collect-only -q\n") ==
        "s.yaml:4:14: error: 'command' must contain '{tests}' or '{tests_file}' when the entry has "
        "'discover' (the "
        "test ids go there)");
  CHECK(error_of("version: 1\ntests:\n  - name: a\n    command: run {{tests}}\n"
                 "    discover: list\n") ==
        "s.yaml:4:14: error: 'command' must contain '{tests}' or '{tests_file}' when the entry has "
        "'discover' (the "
        "test ids go there)");
}

TEST_CASE("files that cannot be read or parsed", "[suite][errors]") {
  try {
    load_suite("no/such/suite.yaml");
    FAIL("no error");
  } catch (const SuiteError& e) {
    CHECK(std::string(e.what()) ==
          "no/such/suite.yaml: error: cannot read suite file: No such file or directory");
    CHECK(e.line() == 0);
    CHECK(e.file() == "no/such/suite.yaml");
  }
  CHECK_THROWS_WITH(
      load_suite(fs::temp_directory_path()),
      fs::temp_directory_path().string() + ": error: cannot read suite file: it is a directory");
  // Not YAML: libfyaml's message, at its line and column.
  CHECK(error_of("version: 1\ntests: [{name: a, command: b}\n") ==
        "s.yaml:3:1: error: invalid YAML: flow sequence without a closing bracket");
  CHECK(error_of("version: 1\n  bad: indent\n") ==
        "s.yaml:1:10: error: invalid YAML: invalid multiline plain key");
  CHECK(error_of("version: 1\ntests: [{name: a, command: *nope}]\n") ==
        "s.yaml:2:28: error: the referenced anchor is not defined");
  CHECK(error_of("") ==
        "s.yaml:1:1: error: the suite file is empty; it needs 'version: 1' and 'tests'");
  CHECK(error_of("# only a comment\n") ==
        "s.yaml:1:1: error: the suite file is empty; it needs 'version: 1' and 'tests'");
  CHECK(error_of("- version: 1\n") ==
        "s.yaml:1:1: error: the suite must be a map with keys such as 'version' and 'tests', not "
        "a list");
  CHECK(error_of("version: 1\ntests: [{name: a, command: b}]\n---\nversion: 1\n") ==
        "s.yaml:3:1: error: the suite file holds more than one YAML document ('---'); keep one");
  CHECK(error_of("version: 1\ntests: [{name: a, command: b}]\n...\nname: x\n") ==
        "s.yaml:4:1: error: the suite file holds more than one YAML document ('---'); keep one");
  // A leading '---' and a closing '...' are fine.
  CHECK_NOTHROW(
      parse_suite("%YAML 1.2\n---\nversion: 1\ntests: [{name: a, command: b}]\n...\n", "s.yaml"));
  // yaml-cpp read a lone ',' as an empty document; it is not YAML.
  CHECK(error_of(",\n") == "s.yaml:1:1: error: invalid YAML: did not find expected node content");
  CHECK(error_of("# hello\n  ,a: 1\n") ==
        "s.yaml:2:3: error: invalid YAML: did not find expected node content");
  CHECK(error_of("# hello\n  ~\n") ==
        "s.yaml:2:3: error: the suite must be a map with keys such as 'version' and 'tests'");
  CHECK(error_of("version: 1\n[a]: 1\n") ==
        "s.yaml:2:1: error: a key must be a plain name, not a list");
}
