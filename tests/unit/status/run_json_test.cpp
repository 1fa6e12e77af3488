// run.json: written atomically, read back with nlohmann-json the way another
// tool would.
#include <unistd.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include "../temp_dir.hpp"

#include "shardrun/error.hpp"
#include "shardrun/status.hpp"

using namespace shardrun;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using shardrun::testing::TempDir;

json read_json(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return json::parse(in);
}

RunSummary sample_summary() {
  RunSummary s;
  s.suite = "checkout";
  s.run_id = "20240101-120000-42";
  s.run_dir = "/runs/20240101-120000-42";
  s.report = "shardrun-junit.xml";
  s.shards = 2;
  s.elapsed = 7.25;
  s.tests = 12;
  s.failures = 2;
  s.errors = 1;
  s.skipped = 3;
  s.exit_code = 1;
  s.problems = {"shard 1: setup failed"};

  UnitRecord passed;
  passed.id = 0;
  passed.label = "api#1";
  passed.entry = "api";
  passed.shard = 0;
  passed.tests = {"t::a", "t::b"};
  passed.command = "pytest {tests}";
  passed.log = "/runs/x/logs/000-api.log";
  passed.junit = "/runs/x/junit/000-api.xml";
  passed.start = 0.5;
  passed.end = 4.5;
  passed.result = "passed";
  passed.testcases = 2;
  passed.retried = 2;

  UnitRecord crashed;
  crashed.id = 1;
  crashed.label = "web";
  crashed.entry = "web";
  crashed.shard = 1;
  crashed.attempt = 1;
  crashed.role = "retry";
  crashed.command = "./web.sh";
  crashed.start = 1;
  crashed.end = 3;
  crashed.status.kind = ExitStatus::Kind::kSignaled;
  crashed.status.signal = 11;
  crashed.result = "error";
  crashed.testcases = 1;
  crashed.failures = 1;
  crashed.note = "killed by signal 11 (SIGSEGV)";

  UnitRecord never;
  never.id = 2;
  never.label = "smoke";
  never.entry = "smoke";
  never.shard = -1;
  never.result = "not-run";
  never.note = "interrupted before it started";

  s.units = {passed, crashed, never};
  return s;
}

}  // namespace

TEST_CASE("run.json round-trips the run's figures") {
  TempDir dir;
  fs::path file = dir.path() / "run.json";
  write_run_json(file, sample_summary());
  json j = read_json(file);

  CHECK(j["format"] == 1);
  CHECK(j["suite"] == "checkout");
  CHECK(j["run_id"] == "20240101-120000-42");
  CHECK(j["run_dir"] == "/runs/20240101-120000-42");
  CHECK(j["report"] == "shardrun-junit.xml");
  CHECK(j["shards"] == 2);
  CHECK(j["elapsed"].get<double>() == Approx(7.25));
  CHECK(j["exit_code"] == 1);
  CHECK(j["totals"] ==
        json({{"tests", 12}, {"failures", 2}, {"errors", 1}, {"skipped", 3}, {"flaky", 0}}));
  CHECK(j["flaky"] == json::array());
  CHECK(j["problems"] == json::array({"shard 1: setup failed"}));

  // Units 0.5-4.5 and 1-3 on two shards: sum 6, longest 4, makespan 4.
  CHECK(j["balance"]["sum"].get<double>() == Approx(6));
  CHECK(j["balance"]["longest"].get<double>() == Approx(4));
  CHECK(j["balance"]["makespan"].get<double>() == Approx(4));
  CHECK(j["balance"]["lower_bound"].get<double>() == Approx(4));
  CHECK(j["balance"]["ratio"].get<double>() == Approx(1.0));
}

TEST_CASE("run.json lists every unit with its shard, command, times and result") {
  TempDir dir;
  fs::path file = dir.path() / "run.json";
  write_run_json(file, sample_summary());
  json units = read_json(file)["units"];
  REQUIRE(units.is_array());
  REQUIRE(units.size() == 3);

  const json& a = units[0];
  CHECK(a["id"] == 0);
  CHECK(a["label"] == "api#1");
  CHECK(a["entry"] == "api");
  CHECK(a["shard"] == 0);
  CHECK(a["attempt"] == 0);
  CHECK(a["tests"] == json::array({"t::a", "t::b"}));
  CHECK(a["command"] == "pytest {tests}");
  CHECK(a["log"] == "/runs/x/logs/000-api.log");
  CHECK(a["junit"] == "/runs/x/junit/000-api.xml");
  CHECK(a["start"].get<double>() == Approx(0.5));
  CHECK(a["end"].get<double>() == Approx(4.5));
  CHECK(a["result"] == "passed");
  CHECK(a["testcases"] == 2);
  CHECK(a["failures"] == 0);
  CHECK(a["skipped"] == 0);
  CHECK(a["note"] == "");
  CHECK(a["role"] == "planned");
  CHECK(a["retried"] == 2);
  CHECK(a["status"]["exit_code"] == 0);
  CHECK(a["status"]["timed_out"] == false);
  CHECK(a["status"]["interrupted"] == false);
  CHECK(a["status"]["description"].is_string());

  const json& b = units[1];
  CHECK(b["attempt"] == 1);
  CHECK(b["role"] == "retry");
  CHECK(b["retried"] == 0);
  CHECK(b["result"] == "error");
  CHECK(b["failures"] == 1);
  CHECK(b["note"] == "killed by signal 11 (SIGSEGV)");
  CHECK(b["status"]["signal"] == 11);
  CHECK(b["status"]["signal_name"] == "SIGSEGV");
  CHECK_FALSE(b["status"].contains("exit_code"));

  // A unit that never ran has no exit status at all.
  const json& c = units[2];
  CHECK(c["shard"] == -1);
  CHECK(c["result"] == "not-run");
  CHECK(c["note"] == "interrupted before it started");
  CHECK_FALSE(c.contains("status"));
}

TEST_CASE("run.json lists flaky tests and counts them in the totals") {
  TempDir dir;
  RunSummary s = sample_summary();
  s.flaky = {FlakyTest{"api", "t::b", 2}, FlakyTest{"web", "demo.web", 1}};
  write_run_json(dir.path() / "run.json", s);
  json j = read_json(dir.path() / "run.json");
  CHECK(j["totals"]["flaky"] == 2);
  CHECK(j["flaky"] ==
        json::array({json({{"entry", "api"}, {"test", "t::b"}, {"failed_attempts", 2}}),
                     json({{"entry", "web"}, {"test", "demo.web"}, {"failed_attempts", 1}})}));
}

TEST_CASE("run.json records a spawn failure and a timeout") {
  TempDir dir;
  RunSummary s;
  s.shards = 1;
  UnitRecord spawn;
  spawn.shard = 0;
  spawn.status.kind = ExitStatus::Kind::kSpawnFailed;
  spawn.status.error = "No such file or directory";
  UnitRecord slow;
  slow.shard = 0;
  slow.status.kind = ExitStatus::Kind::kSignaled;
  slow.status.signal = 15;
  slow.status.timed_out = true;
  s.units = {spawn, slow};
  write_run_json(dir.path() / "run.json", s);
  json units = read_json(dir.path() / "run.json")["units"];
  CHECK(units[0]["status"]["spawn_error"] == "No such file or directory");
  CHECK(units[1]["status"]["timed_out"] == true);
  CHECK(units[1]["status"]["signal_name"] == "SIGTERM");
}

TEST_CASE("run.json survives invalid UTF-8 in a command") {
  TempDir dir;
  RunSummary s = sample_summary();
  s.units[0].command = "echo \xff\xfe bad";
  s.units[0].note = "tr\xc3";  // a truncated two-byte sequence
  fs::path file = dir.path() / "run.json";
  REQUIRE_NOTHROW(write_run_json(file, s));
  json j = read_json(file);  // parses: the file is valid UTF-8 JSON
  std::string command = j["units"][0]["command"];
  CHECK(command.find("echo ") == 0);
  CHECK(command.find("\xef\xbf\xbd") != std::string::npos);  // U+FFFD replacement
  CHECK(command.find(" bad") != std::string::npos);
  CHECK(j["units"][1]["note"] == "killed by signal 11 (SIGSEGV)");
}

TEST_CASE("run.json is written atomically: no temporary file is left behind") {
  TempDir dir;
  fs::path file = dir.path() / "run.json";
  std::ofstream(file) << "old contents, not json";
  write_run_json(file, sample_summary());
  CHECK(dir.entries() == std::set<std::string>{"run.json"});
  CHECK(read_json(file)["suite"] == "checkout");  // replaced, not appended to
}

TEST_CASE("run.json in a folder that does not exist is an Error, not a crash") {
  TempDir dir;
  fs::path file = dir.path() / "missing" / "run.json";
  CHECK_THROWS_AS(write_run_json(file, sample_summary()), Error);
  CHECK_FALSE(fs::exists(file));
}

TEST_CASE("run.json has per-shard spans: resources, setup, units and teardown, by start") {
  TempDir dir;
  fs::path file = dir.path() / "run.json";
  RunSummary s = sample_summary();
  ShardSpan db;
  db.kind = "resource";
  db.name = "postgres 'db'";
  db.start = 0.0;
  db.end = 0.25;
  db.outcome = "ready";
  db.released = 5.0;
  ShardSpan setup;
  setup.kind = "setup";
  setup.start = 0.25;
  setup.end = 0.5;
  setup.outcome = "ok";
  setup.commands = 2;
  ShardSpan teardown;
  teardown.kind = "teardown";
  teardown.start = 4.5;
  teardown.end = 4.75;
  teardown.outcome = "interrupted";
  teardown.error = "interrupted";
  ShardSpan app;  // shard 1: its service came up, then died
  app.kind = "resource";
  app.name = "service 'app'";
  app.start = 0.0;
  app.end = 0.75;
  app.outcome = "died";
  app.died = 2.0;
  app.error = "service 'app' of shard 1 exited (exit status 1)";
  s.shard_spans = {{teardown, db, setup}, {app}};  // spans sort by start
  write_run_json(file, s);
  json j = read_json(file);

  REQUIRE(j["shard_spans"].size() == 2);
  json shard0 = j["shard_spans"][0];
  CHECK(shard0["shard"] == 0);
  REQUIRE(shard0["spans"].size() == 4);
  CHECK(shard0["spans"][0] == json({{"kind", "resource"},
                                    {"name", "postgres 'db'"},
                                    {"start", 0.0},
                                    {"end", 0.25},
                                    {"outcome", "ready"},
                                    {"died", nullptr},
                                    {"released", 5.0}}));
  CHECK(
      shard0["spans"][1] ==
      json({{"kind", "setup"}, {"start", 0.25}, {"end", 0.5}, {"outcome", "ok"}, {"commands", 2}}));
  // The units of shard 0 (one, 0.5 to 4.5) as one span; the units array has each.
  CHECK(shard0["spans"][2] ==
        json({{"kind", "units"}, {"start", 0.5}, {"end", 4.5}, {"units", 1}, {"busy", 4.0}}));
  CHECK(shard0["spans"][3]["kind"] == "teardown");
  CHECK(shard0["spans"][3]["outcome"] == "interrupted");
  CHECK(shard0["spans"][3]["error"] == "interrupted");

  json shard1 = j["shard_spans"][1]["spans"];
  REQUIRE(shard1.size() == 2);
  CHECK(shard1[0]["outcome"] == "died");
  CHECK(shard1[0]["died"] == 2.0);
  CHECK(shard1[0]["released"] == nullptr);
  CHECK(shard1[0]["error"] == "service 'app' of shard 1 exited (exit status 1)");
  CHECK(shard1[1]["kind"] == "units");
  CHECK(shard1[1]["start"] == 1.0);
}

TEST_CASE("run.json: a span that never ended has a null end and outcome pending") {
  TempDir dir;
  fs::path file = dir.path() / "run.json";
  RunSummary s = sample_summary();
  s.units.clear();
  ShardSpan pending;
  pending.kind = "resource";
  pending.name = "service 'app'";
  pending.start = 1.5;
  s.shard_spans = {{pending}};
  write_run_json(file, s);
  json spans = read_json(file)["shard_spans"];
  REQUIRE(spans.size() == 2);  // both shards of the run, the second without spans
  CHECK(spans[0]["spans"][0]["end"] == nullptr);
  CHECK(spans[0]["spans"][0]["outcome"] == "pending");
  CHECK(spans[1] == json({{"shard", 1}, {"spans", json::array()}}));
}
