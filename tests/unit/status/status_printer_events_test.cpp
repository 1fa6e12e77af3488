// StatusPrinter's warning channel and its own time-left estimate: warnings
// and notes go to `err` as plain lines, the live line on `out` stepping
// aside for them; tick() without an estimate uses the plan's predictions.
#include <catch2/catch.hpp>
#include <deque>
#include <string>

#include "mem_out.hpp"
#include "shardrun/status.hpp"

using namespace shardrun;
using shardrun::testing::MemOut;

namespace {

StatusPrinter::Options options(MemOut& out, MemOut& err, bool smart) {
  StatusPrinter::Options o;
  o.smart = smart;
  o.color = false;
  o.tail_lines = 0;
  o.out = out.file();
  o.err = err.file();
  return o;
}

UnitRecord record(std::size_t id, double start, double end, double predicted) {
  UnitRecord u;
  u.id = id;
  u.label = "u" + std::to_string(id);
  u.shard = 0;
  u.start = start;
  u.end = end;
  u.predicted = predicted;
  u.result = "passed";
  return u;
}

std::deque<Unit> plan(std::initializer_list<double> predicted) {
  std::deque<Unit> units;
  for (double p : predicted) {
    Unit u;
    u.id = units.size();
    u.predicted_seconds = p;
    units.push_back(u);
  }
  return units;
}

std::string live_line(const std::string& text) {
  return text.substr(text.rfind('\r'));
}

}  // namespace

TEST_CASE("warnings and notes are plain lines on err, in a log as on a terminal") {
  for (bool smart : {false, true}) {
    MemOut out, err;
    StatusPrinter p(options(out, err, smart));
    p.warning("timings file ignored");
    p.note("--last-failed: nothing failed in run r1; running everything");
    CHECK(err.text() ==
          "shardrun: warning: timings file ignored\n"
          "shardrun: --last-failed: nothing failed in run r1; running everything\n");
    CHECK(out.text().empty());  // no live line was shown: none is drawn for them
  }
}

TEST_CASE("smart: the live line steps aside for a warning and comes back under it") {
  MemOut out, err;
  StatusPrinter p(options(out, err, true));
  p.set_total(2);
  p.unit_started(record(0, 0, 0, 0));
  const std::string live = "[0/2] 1 running, 0 failed, 0:00 elapsed";
  CHECK(out.text() == "\r\x1b[K" + live);
  p.warning("report: 1 file could not be read");
  CHECK(err.text() == "shardrun: warning: report: 1 file could not be read\n");
  CHECK(out.text() == "\r\x1b[K" + live + "\r\x1b[K" + "\r\x1b[K" + live);
}

TEST_CASE("after the summary a warning leaves stdout alone") {
  MemOut out, err;
  StatusPrinter p(options(out, err, true));
  p.set_total(1);
  p.unit_started(record(0, 0, 0, 0));
  RunSummary s;
  s.shards = 1;
  p.summary(s);
  std::size_t before = out.text().size();
  p.warning("summary not written: disk full");
  CHECK(out.text().size() == before);
  CHECK(err.text() == "shardrun: warning: summary not written: disk full\n");
}

TEST_CASE("tick: without an estimate, the time left comes from the plan's predictions") {
  MemOut out, err;
  StatusPrinter p(options(out, err, true));
  p.set_total(3);
  p.set_plan(plan({60, 20, 20}), 2);
  p.tick(0);
  CHECK(live_line(out.text()) == "\r\x1b[K[0/3] 0 running, 0 failed, 0:00 elapsed, ~1:00 left");

  p.unit_started(record(0, 0, 0, 60));
  p.unit_started(record(1, 0, 0, 20));
  p.tick(10);  // 50 s left of unit 0, at least
  CHECK(live_line(out.text()) == "\r\x1b[K[0/3] 2 running, 0 failed, 0:10 elapsed, ~0:50 left");

  // Unit 1 took twice its prediction: so will the rest.
  p.unit_finished(record(1, 0, 40, 20));
  p.unit_started(record(2, 40, 40, 20));
  p.tick(40);  // unit 0: 120 - 40; unit 2: 40
  CHECK(live_line(out.text()) == "\r\x1b[K[1/3] 2 running, 0 failed, 0:40 elapsed, ~1:20 left");
}

TEST_CASE("the printer's own estimate follows units as they start and finish") {
  MemOut out, err;
  StatusPrinter p(options(out, err, true));
  p.set_total(1);
  p.set_plan(plan({9}), 1);
  p.tick(0);
  p.unit_started(record(0, 0, 0, 9));
  CHECK(live_line(out.text()) == "\r\x1b[K[0/1] 1 running, 0 failed, 0:00 elapsed, ~0:09 left");
  p.unit_finished(record(0, 0, 0.5, 9));  // before the next tick
  CHECK(live_line(out.text()) == "\r\x1b[K[1/1] 0 running, 0 failed, 0:00 elapsed, ~0:00 left");
}

TEST_CASE("tick: an estimate given wins over the printer's own") {
  MemOut out, err;
  StatusPrinter p(options(out, err, true));
  p.set_total(1);
  p.set_plan(plan({600}), 1);
  p.tick(5, 20);
  CHECK(live_line(out.text()) == "\r\x1b[K[0/1] 0 running, 0 failed, 0:05 elapsed, ~0:20 left");
  p.unit_started(record(0, 5, 5, 600));  // until the next tick, the given one stays
  CHECK(live_line(out.text()) == "\r\x1b[K[0/1] 1 running, 0 failed, 0:05 elapsed, ~0:20 left");
  p.tick(6);
  CHECK(live_line(out.text()) == "\r\x1b[K[0/1] 1 running, 0 failed, 0:06 elapsed, ~9:59 left");
}

TEST_CASE("tick: in a log the time left is not printed at all") {
  MemOut out, err;
  StatusPrinter p(options(out, err, false));
  p.set_total(1);
  p.set_plan(plan({30}), 1);
  p.tick(3);
  CHECK(out.text().empty());
  CHECK(err.text().empty());
}
