// StatusPrinter writing into an in-memory FILE*: the dumb (CI log) mode line
// by line, colours, the smart mode's live line, and detect()'s rules.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "mem_out.hpp"
#include "shardrun/status.hpp"

using namespace shardrun;
namespace fs = std::filesystem;

namespace {

using shardrun::testing::MemOut;

/// Sets (or unsets) an environment variable for the life of the object.
class EnvGuard {
 public:
  EnvGuard(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
  ~EnvGuard() {
    if (old_)
      ::setenv(name_.c_str(), old_->c_str(), 1);
    else
      ::unsetenv(name_.c_str());
  }
  EnvGuard(const EnvGuard&) = delete;
  EnvGuard& operator=(const EnvGuard&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

StatusPrinter::Options dumb(MemOut& out, bool color = false) {
  StatusPrinter::Options o;
  o.smart = false;
  o.color = color;
  o.out = out.file();
  return o;
}

UnitRecord unit(const std::string& label, int shard, double seconds, const std::string& result,
                int testcases = 0) {
  UnitRecord u;
  u.label = label;
  u.entry = label;
  u.shard = shard;
  u.start = 1;
  u.end = 1 + seconds;
  u.result = result;
  u.testcases = testcases;
  return u;
}

fs::path write_log(const std::string& name, const std::string& text) {
  fs::path file = fs::temp_directory_path() /
                  ("shardrun-status-printer-" + std::to_string(::getpid()) + "-" + name);
  std::ofstream(file, std::ios::binary) << text;
  return file;
}

RunSummary two_shard_summary() {
  RunSummary s;
  s.suite = "demo";
  s.run_dir = "/runs/r1";
  s.report = "out.xml";
  s.shards = 2;
  s.elapsed = 7;
  s.tests = 5;
  UnitRecord a = unit("a", 0, 4, "passed", 3);  // 1..5
  UnitRecord b = unit("b", 1, 2, "passed", 2);  // 1..3
  UnitRecord c = unit("c", 0, 2, "passed", 0);
  c.start = 5;
  c.end = 7;
  s.units = {a, b, c};
  ShardReport r0, r1;
  r0.busy_seconds = 6;
  r1.busy_seconds = 2;
  s.shard_reports = {r0, r1};
  return s;
}

}  // namespace

TEST_CASE("dumb mode: one plain line per finished unit") {
  MemOut out;
  StatusPrinter p(dumb(out));
  p.set_total(3);
  p.unit_started(unit("api", 0, 1, "passed"));
  p.unit_started(unit("web", 1, 1, "passed"));
  CHECK(out.text().empty());  // starting prints nothing without a live line
  p.unit_finished(unit("api", 0, 1.0, "passed", 2));
  p.unit_finished(unit("web", 1, 12.0, "passed", 0));
  p.tick(3, 4);  // no live line to redraw
  CHECK(out.text() ==
        "[1/3] PASS api (shard 0, 1.0s, 2 tests)\n"
        "[2/3] PASS web (shard 1, 12.0s)\n");
}

TEST_CASE("dumb mode: a failing unit's line carries its note, then FAILED: and its log tail") {
  fs::path log = write_log("fail.log", "line 1\nline 2\nline 3\nline 4\n");
  MemOut out;
  StatusPrinter::Options o = dumb(out);
  o.tail_lines = 2;
  StatusPrinter p(o);
  p.set_total(2);
  UnitRecord u = unit("web", 1, 2.5, "failed", 4);
  u.note = "exit status 1";
  u.log = log.string();
  p.unit_finished(u);
  CHECK(out.text() ==
        "[1/2] FAIL web (shard 1, 2.5s, 4 tests): exit status 1\n"
        "FAILED: web (log " +
            log.string() +
            ")\n"
            "line 3\nline 4\n");
  fs::remove(log);
}

TEST_CASE("dumb mode: timeouts and errors are FAIL, units that never ran are SKIP") {
  MemOut out;
  StatusPrinter::Options o = dumb(out);
  o.tail_lines = 0;  // no log tails here
  StatusPrinter p(o);
  p.set_total(3);
  UnitRecord slow = unit("slow", 0, 90, "timeout");
  slow.note = "timed out after 1m30s";
  p.unit_finished(slow);
  p.unit_finished(unit("crash", 1, 0.2, "error"));
  UnitRecord never = unit("later", -1, 0, "not-run");
  never.note = "interrupted before it started";
  p.unit_finished(never);
  CHECK(out.text() ==
        "[1/3] FAIL slow (shard 0, 1m30s): timed out after 1m30s\n"
        "[2/3] FAIL crash (shard 1, 0.2s)\n"
        "[3/3] SKIP later (not run): interrupted before it started\n");
}

TEST_CASE("dumb mode: a unit that never ran gets no FAILED: log section") {
  MemOut out;
  StatusPrinter p(dumb(out));
  p.set_total(1);
  p.unit_finished(unit("later", -1, 0, "not-run"));
  CHECK(out.text().find("FAILED:") == std::string::npos);
}

TEST_CASE("summary: per-shard table, balance, verdict and paths") {
  MemOut out;
  StatusPrinter p(dumb(out));
  p.summary(two_shard_summary());
  std::string text = out.text();
  CHECK(text.find("shard  units   tests  failed      busy") != std::string::npos);
  CHECK(text.find("    0      2       3       0      6.0s") != std::string::npos);
  CHECK(text.find("    1      1       2       0      2.0s") != std::string::npos);
  // Units 1-5 and 5-7 on shard 0, 1-3 on shard 1: sum 8, longest 4, makespan 6.
  CHECK(text.find("balance: makespan 6.0s vs lower bound 4.0s = max(sum 8.0s / 2 shards, "
                  "longest 4.0s): 1.50\n") != std::string::npos);
  CHECK(text.find("PASSED: 5 tests, 0 failed, 0 errors, 0 skipped in 7.0s (2 shards)\n") !=
        std::string::npos);
  CHECK(text.find("report: out.xml  run: /runs/r1\n") != std::string::npos);
  CHECK(text.find("FAILED") == std::string::npos);
  CHECK(text.find('\x1b') == std::string::npos);
  CHECK(text.find('\r') == std::string::npos);
}

TEST_CASE("summary: flaky tests are listed, counted, and do not make the run FAILED") {
  MemOut out;
  StatusPrinter p(dumb(out));
  RunSummary s = two_shard_summary();
  s.flaky = {FlakyTest{"api", "test_a.py::test_x", 1}, FlakyTest{"smoke", "demo.smoke", 2}};
  p.summary(s);
  std::string text = out.text();
  CHECK(text.find("flaky: 2 tests passed on a retry:\n"
                  "  api: test_a.py::test_x (failed 1 time first)\n"
                  "  smoke: demo.smoke (failed 2 times first)\n") != std::string::npos);
  CHECK(text.find("PASSED: 5 tests, 0 failed, 0 errors, 0 skipped, 2 flaky in 7.0s (2 shards)\n") !=
        std::string::npos);
}

TEST_CASE("summary: a long flaky list is cut, with the count of the rest") {
  MemOut out;
  StatusPrinter p(dumb(out));
  RunSummary s = two_shard_summary();
  for (int i = 0; i < 23; ++i) s.flaky.push_back(FlakyTest{"api", "t" + std::to_string(i), 1});
  s.exit_code = 1;  // --fail-on-flaky
  p.summary(s);
  std::string text = out.text();
  CHECK(text.find("flaky: 23 tests passed on a retry:\n") != std::string::npos);
  CHECK(text.find("  api: t19 (failed 1 time first)\n") != std::string::npos);
  CHECK(text.find("  api: t20 ") == std::string::npos);
  CHECK(text.find("  ... and 3 more (see run.json)\n") != std::string::npos);
  CHECK(text.find("FAILED: 5 tests") != std::string::npos);
}

TEST_CASE("dumb mode: the printed log tail is bounded in bytes too") {
  fs::path log = write_log("long-line.log", "start\n" + std::string(5000, 'x') + "\n");
  MemOut out;
  StatusPrinter::Options o = dumb(out);
  o.tail_lines = 10;
  o.tail_bytes = 100;
  StatusPrinter p(o);
  p.set_total(1);
  UnitRecord u = unit("web", 0, 1, "failed");
  u.log = log.string();
  p.unit_finished(u);
  std::string text = out.text();
  CHECK(text.find("start") == std::string::npos);
  CHECK(text.find(std::string(99, 'x') + "\n") != std::string::npos);
  CHECK(text.find(std::string(101, 'x')) == std::string::npos);
  fs::remove(log);
}

TEST_CASE("summary: failures, infrastructure problems and shard problems say FAILED") {
  SECTION("failed tests") {
    MemOut out;
    StatusPrinter p(dumb(out));
    RunSummary s = two_shard_summary();
    s.failures = 1;
    s.exit_code = 1;
    p.summary(s);
    CHECK(out.text().find("FAILED: 5 tests, 1 failed, 0 errors") != std::string::npos);
  }
  SECTION("errors only") {
    MemOut out;
    StatusPrinter p(dumb(out));
    RunSummary s = two_shard_summary();
    s.errors = 2;
    p.summary(s);
    CHECK(out.text().find("FAILED: 5 tests, 0 failed, 2 errors") != std::string::npos);
  }
  SECTION("an infrastructure problem with every test passing") {
    MemOut out;
    StatusPrinter p(dumb(out));
    RunSummary s = two_shard_summary();
    s.exit_code = 3;
    s.problems = {"global teardown: exit status 1"};
    s.shard_reports[1].problem = true;
    p.summary(s);
    std::string text = out.text();
    CHECK(text.find("problem: global teardown: exit status 1\n") != std::string::npos);
    CHECK(text.find("    1      1       2       0      2.0s  (shard problem)") !=
          std::string::npos);
    CHECK(text.find("FAILED: 5 tests") != std::string::npos);
    CHECK(text.find("PASSED") == std::string::npos);
  }
}

TEST_CASE("summary: no balance line when nothing ran") {
  MemOut out;
  StatusPrinter p(dumb(out));
  RunSummary s;
  s.shards = 2;
  s.units = {unit("x", -1, 0, "not-run")};
  p.summary(s);
  std::string text = out.text();
  CHECK(text.find("balance:") == std::string::npos);
  CHECK(text.find("PASSED: 0 tests") != std::string::npos);
}

TEST_CASE("colour: verdicts and the summary are painted with ANSI codes") {
  fs::path log = write_log("color.log", "boom\n");
  MemOut out;
  StatusPrinter p(dumb(out, /*color=*/true));
  p.set_total(2);
  p.unit_finished(unit("ok", 0, 1, "passed"));
  UnitRecord bad = unit("bad", 1, 1, "failed");
  bad.log = log.string();
  p.unit_finished(bad);
  RunSummary s = two_shard_summary();
  s.problems = {"oops"};
  p.summary(s);
  std::string text = out.text();
  CHECK(text.find("[1/2] \x1b[32mPASS\x1b[0m ok (shard 0, 1.0s)\n") != std::string::npos);
  CHECK(text.find("[2/2] \x1b[31mFAIL\x1b[0m bad (shard 1, 1.0s)\n") != std::string::npos);
  CHECK(text.find("\x1b[1mFAILED: bad (log " + log.string() + ")\x1b[0m\nboom\n") !=
        std::string::npos);
  CHECK(text.find("\x1b[31mproblem: oops\x1b[0m") != std::string::npos);
  CHECK(text.find("\x1b[32mPASSED\x1b[0m: 5 tests") != std::string::npos);
  // Colour alone does not make the output "smart".
  CHECK(text.find('\r') == std::string::npos);
  fs::remove(log);
}

TEST_CASE("smart mode: a live status line redrawn in place") {
  MemOut out;
  StatusPrinter::Options o;
  o.smart = true;
  o.color = false;
  o.out = out.file();
  StatusPrinter p(o);
  p.set_total(2);
  p.unit_started(unit("a", 0, 1, "passed"));
  CHECK(out.text() == "\r\x1b[K[0/2] 1 running, 0 failed, 0:00 elapsed");
  p.tick(5, 20);
  CHECK(out.text().substr(out.text().rfind('\r')) ==
        "\r\x1b[K[0/2] 1 running, 0 failed, 0:05 elapsed, ~0:20 left");

  // A passing unit only moves the live line: no permanent PASS line.
  p.unit_finished(unit("a", 0, 1, "passed"));
  std::string text = out.text();
  CHECK(text.find("PASS") == std::string::npos);
  CHECK(text.find('\n') == std::string::npos);
  CHECK(text.substr(text.rfind('\r')) ==
        "\r\x1b[K[1/2] 0 running, 0 failed, 0:05 elapsed, ~0:20 left");

  // A message clears the live line, stays, and the live line comes back under it.
  p.message("shardrun: warning: hello");
  text = out.text();
  CHECK(text.find("\r\x1b[Kshardrun: warning: hello\n\r\x1b[K[1/2]") != std::string::npos);

  // The summary clears the live line and is plain from then on.
  std::size_t before = out.text().size();
  p.summary(two_shard_summary());
  std::string tail = out.text().substr(before);
  CHECK(tail.rfind("\r\x1b[K", 0) == 0);
  CHECK(tail.find('\r', 1) == std::string::npos);
  CHECK(tail.find("PASSED: 5 tests") != std::string::npos);
  CHECK(tail.back() == '\n');
}

TEST_CASE("smart mode: a failing unit gets a permanent line above the live line") {
  MemOut out;
  StatusPrinter::Options o;
  o.smart = true;
  o.color = false;
  o.tail_lines = 0;
  o.out = out.file();
  StatusPrinter p(o);
  p.set_total(3);
  p.unit_started(unit("bad", 2, 1, "failed"));
  UnitRecord bad = unit("bad", 2, 1, "failed");
  bad.note = "exit status 2";
  p.unit_finished(bad);
  std::string text = out.text();
  CHECK(text.find("\r\x1b[K[1/3] FAIL bad (shard 2, 1.0s): exit status 2\n") != std::string::npos);
  CHECK(text.substr(text.rfind('\r')) == "\r\x1b[K[1/3] 0 running, 1 failed, 0:00 elapsed");
}

TEST_CASE("smart mode: the live line is elided to the terminal width") {
  MemOut out;  // not a terminal: the width falls back to 80 columns
  StatusPrinter::Options o;
  o.smart = true;
  o.out = out.file();
  StatusPrinter p(o);
  p.set_total(123456789012345);
  p.tick(1e9, 1e9);
  std::string text = out.text();
  std::string line = text.substr(text.rfind("\x1b[K") + 3);
  CHECK(line.size() == 79);
  CHECK(line.find("...") != std::string::npos);
  CHECK(line.rfind("[0/123456789012345]", 0) == 0);
}

TEST_CASE("detect: TERM=dumb or no terminal is never smart; NO_COLOR beats FORCE_COLOR") {
  SECTION("TERM=dumb") {
    EnvGuard term("TERM", "dumb");
    EnvGuard no("NO_COLOR", nullptr);
    EnvGuard force("FORCE_COLOR", nullptr);
    EnvGuard cli("CLICOLOR_FORCE", nullptr);
    StatusPrinter::Options o = StatusPrinter::detect();
    CHECK_FALSE(o.smart);
    CHECK_FALSE(o.color);
    CHECK(o.out == stdout);
  }
  SECTION("FORCE_COLOR=1 colours even a dumb terminal") {
    EnvGuard term("TERM", "dumb");
    EnvGuard no("NO_COLOR", nullptr);
    EnvGuard force("FORCE_COLOR", "1");
    CHECK(StatusPrinter::detect().color);
  }
  SECTION("CLICOLOR_FORCE=1 too, but CLICOLOR_FORCE=0 does not") {
    EnvGuard term("TERM", "dumb");
    EnvGuard no("NO_COLOR", nullptr);
    EnvGuard force("FORCE_COLOR", nullptr);
    {
      EnvGuard cli("CLICOLOR_FORCE", "1");
      CHECK(StatusPrinter::detect().color);
    }
    {
      EnvGuard cli("CLICOLOR_FORCE", "0");
      CHECK_FALSE(StatusPrinter::detect().color);
    }
  }
  SECTION("NO_COLOR wins over FORCE_COLOR") {
    EnvGuard term("TERM", "xterm");
    EnvGuard no("NO_COLOR", "1");
    EnvGuard force("FORCE_COLOR", "1");
    CHECK_FALSE(StatusPrinter::detect().color);
  }
  SECTION("without a terminal on stdout nothing is smart, whatever TERM says") {
    if (::isatty(STDOUT_FILENO)) {
      SUCCEED("stdout is a terminal here; covered by tests/integration/test_terminal.py");
    } else {
      EnvGuard term("TERM", "xterm-256color");
      EnvGuard no("NO_COLOR", nullptr);
      EnvGuard force("FORCE_COLOR", nullptr);
      EnvGuard cli("CLICOLOR_FORCE", nullptr);
      StatusPrinter::Options o = StatusPrinter::detect();
      CHECK_FALSE(o.smart);
      CHECK_FALSE(o.color);
    }
  }
}

TEST_CASE("the summary names the run's timeline page last, when one was written") {
  MemOut out;
  StatusPrinter p(dumb(out));
  RunSummary s = two_shard_summary();
  s.timeline = "/runs/r1/timeline.html";
  p.summary(s);
  std::string text = out.text();
  CHECK(text.size() >= 33);
  CHECK(text.substr(text.size() - 33) == "timeline: /runs/r1/timeline.html\n");

  MemOut none;
  StatusPrinter q(dumb(none));
  q.summary(two_shard_summary());
  CHECK(none.text().find("timeline:") == std::string::npos);
}
