// The pure helpers of the status module: durations, elision, the progress
// line, log tails and the balance figures.
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include "../temp_dir.hpp"

#include "shardrun/status.hpp"

using namespace shardrun;
namespace fs = std::filesystem;

namespace {

using shardrun::testing::TempDir;

UnitRecord ran(int shard, double start, double end) {
  UnitRecord u;
  u.shard = shard;
  u.start = start;
  u.end = end;
  u.result = "passed";
  return u;
}

}  // namespace

TEST_CASE("format_seconds: tenths under a minute, then m/s, then h/m") {
  CHECK(format_seconds(0) == "0.0s");
  CHECK(format_seconds(0.3) == "0.3s");
  CHECK(format_seconds(12) == "12.0s");
  CHECK(format_seconds(59.94) == "59.9s");
  CHECK(format_seconds(60) == "1m00s");
  CHECK(format_seconds(125) == "2m05s");
  CHECK(format_seconds(3599.4) == "59m59s");
  CHECK(format_seconds(3599.6) == "1h00m");  // rounds into the next unit
  CHECK(format_seconds(3720) == "1h02m");
  CHECK(format_seconds(100 * 3600 + 59 * 60) == "100h59m");
}

TEST_CASE("format_seconds: negative and NaN durations show as zero") {
  CHECK(format_seconds(-5) == "0.0s");
  CHECK(format_seconds(std::numeric_limits<double>::quiet_NaN()) == "0.0s");
}

TEST_CASE("format_seconds: a value that rounds up to 60 s is shown as minutes") {
  // 59.96 passes the "< 60" test but {:.1f} rounds it to "60.0s"; the
  // minute form is what every other value from 60 s on gets.
  CHECK(format_seconds(59.96) == "1m00s");
}

TEST_CASE("elide_middle keeps both ends and fits the width exactly") {
  const std::string text = "abcdefghijklmnopqrstuvwxyz";
  CHECK(elide_middle(text, 26) == text);
  CHECK(elide_middle(text, 100) == text);
  CHECK(elide_middle(text, 7) == "ab...yz");
  CHECK(elide_middle(text, 8) == "abc...yz");  // the odd column goes to the left
  CHECK(elide_middle(text, 5) == "a...z");
  // Too narrow for "...": a plain cut.
  CHECK(elide_middle(text, 4) == "abcd");
  CHECK(elide_middle(text, 0).empty());
  for (std::size_t width = 0; width <= text.size(); ++width) {
    INFO("width " << width);
    CHECK(elide_middle(text, width).size() == width);
  }
  CHECK(elide_middle("", 3).empty());
}

TEST_CASE("format_progress: counts, elapsed clock and the estimate when known") {
  CHECK(format_progress(12, 40, 3, 1, 12, 30) ==
        "[12/40] 3 running, 1 failed, 0:12 elapsed, ~0:30 left");
  // A negative remaining time means "no estimate yet".
  CHECK(format_progress(0, 5, 0, 0, 0, -1) == "[0/5] 0 running, 0 failed, 0:00 elapsed");
  CHECK(format_progress(7, 7, 0, 2, 3725.9, 0) ==
        "[7/7] 0 running, 2 failed, 1:02:05 elapsed, ~0:00 left");
  CHECK(format_progress(1, 2, 1, 0, 61, 599) ==
        "[1/2] 1 running, 0 failed, 1:01 elapsed, ~9:59 left");
  // A clock that went backwards never shows a negative time.
  CHECK(format_progress(1, 2, 1, 0, -3, 5) ==
        "[1/2] 1 running, 0 failed, 0:00 elapsed, ~0:05 left");
}

TEST_CASE("read_tail returns the last lines without the final newline") {
  TempDir dir;
  fs::path file = dir.write("log", "one\ntwo\nthree\nfour\n");
  CHECK(read_tail(file, 2) == "three\nfour");
  CHECK(read_tail(file, 1) == "four");
  CHECK(read_tail(file, 4) == "one\ntwo\nthree\nfour");
  CHECK(read_tail(file, 100) == "one\ntwo\nthree\nfour");
  CHECK(read_tail(file, 0).empty());
}

TEST_CASE("read_tail: a file without a final newline, empty lines, empty and missing files") {
  TempDir dir;
  CHECK(read_tail(dir.write("no-newline", "a\nb\nc"), 2) == "b\nc");
  CHECK(read_tail(dir.write("single", "only line"), 3) == "only line");
  // Only the one final newline is dropped; blank lines are lines.
  CHECK(read_tail(dir.write("blank-end", "a\n\n\n"), 2) == "\n");
  CHECK(read_tail(dir.write("blank-start", "\nb\n"), 2) == "\nb");
  CHECK(read_tail(dir.write("crlf", "x\r\ny\r\n"), 1) == "y\r");
  CHECK(read_tail(dir.write("empty", ""), 5).empty());
  CHECK(read_tail(dir.write("just-newline", "\n"), 5).empty());
  CHECK(read_tail(dir.path() / "missing.log", 5).empty());
  CHECK(read_tail(dir.path(), 5).empty());  // a folder reads as nothing
}

TEST_CASE("read_tail reads at most max_bytes from the end") {
  TempDir dir;
  std::string big(100000, 'x');
  fs::path file = dir.write("big", big + "\nlast line\n");
  // Only the last 12 bytes are read: "x\nlast line\n" -> the cut line's end and the last line.
  CHECK(read_tail(file, 5, 12) == "x\nlast line");
  CHECK(read_tail(file, 1, 12) == "last line");
  std::string whole = read_tail(file, 10);  // default limit: 64 KiB
  CHECK(whole.size() == 64 * 1024 - 1);
  CHECK(whole.substr(whole.size() - 10) == "\nlast line");
  CHECK(read_tail(file, 3, 0).empty());
}

TEST_CASE("compute_balance: makespan, sum, longest, lower bound and ratio") {
  std::vector<UnitRecord> units = {ran(0, 1, 5), ran(1, 2, 4), ran(0, 5, 7)};
  Balance b = compute_balance(units, 2);
  CHECK(b.sum == Approx(8));
  CHECK(b.longest == Approx(4));
  CHECK(b.makespan == Approx(6));     // last end 7 - first start 1
  CHECK(b.lower_bound == Approx(4));  // max(8 / 2, 4)
  CHECK(b.ratio == Approx(1.5));
}

TEST_CASE("compute_balance: the longest unit bounds a run with many shards") {
  std::vector<UnitRecord> units = {ran(0, 0, 7), ran(1, 0, 6), ran(2, 0, 5)};
  Balance b = compute_balance(units, 3);
  CHECK(b.lower_bound == Approx(7));  // max(18 / 3, 7)
  CHECK(b.makespan == Approx(7));
  CHECK(b.ratio == Approx(1.0));
  // One shard: the sum is the bound.
  Balance serial = compute_balance({ran(0, 0, 6), ran(0, 6, 11), ran(0, 11, 18)}, 1);
  CHECK(serial.lower_bound == Approx(18));
  CHECK(serial.ratio == Approx(1.0));
}

TEST_CASE("compute_balance ignores units that never ran") {
  UnitRecord never;
  never.shard = -1;
  never.start = 0;
  never.end = 1000;
  never.result = "not-run";
  std::vector<UnitRecord> units = {never, ran(0, 10, 12), ran(1, 10, 11)};
  Balance b = compute_balance(units, 2);
  CHECK(b.sum == Approx(3));
  CHECK(b.longest == Approx(2));
  CHECK(b.makespan == Approx(2));
  CHECK(b.lower_bound == Approx(2));
  CHECK(b.ratio == Approx(1.0));
}

TEST_CASE("compute_balance: nothing ran gives zeros; instant units a ratio of 1") {
  UnitRecord never;
  never.shard = -1;
  Balance none = compute_balance({never}, 4);
  CHECK(none.makespan == 0);
  CHECK(none.sum == 0);
  CHECK(none.lower_bound == 0);
  CHECK(none.ratio == 0);
  CHECK(compute_balance({}, 4).ratio == 0);
  CHECK(compute_balance({ran(0, 1, 2)}, 0).ratio == 0);  // no shards: no figures

  Balance instant = compute_balance({ran(0, 3, 3), ran(1, 3, 3)}, 2);
  CHECK(instant.lower_bound == 0);
  CHECK(instant.ratio == 1.0);
  // A unit whose end precedes its start counts as zero long.
  Balance backwards = compute_balance({ran(0, 5, 4), ran(1, 0, 2)}, 2);
  CHECK(backwards.sum == Approx(2));
  CHECK(backwards.longest == Approx(2));
}
