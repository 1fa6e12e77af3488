// LinePrinter into an in-memory FILE*: a log gets plain lines and no live
// line; a smart terminal gets the live line redrawn in place, elided to the
// width, and cleared before any line that stays.
#include "shardrun/line_printer.hpp"

#include <catch2/catch.hpp>
#include <string>

#include "mem_out.hpp"

using namespace shardrun;
using shardrun::testing::MemOut;

TEST_CASE("dumb: lines that stay are plain lines, and there is no live line") {
  MemOut out;
  LinePrinter p(out.file(), /*smart=*/false);
  CHECK_FALSE(p.smart());
  p.print_live("[0/2] 1 running");
  CHECK(out.text().empty());
  p.print_line("first");
  p.print_live("[1/2] 0 running");
  p.print_line("second");
  CHECK_FALSE(p.clear_live());
  CHECK(out.text() == "first\nsecond\n");
}

TEST_CASE("smart: the live line is redrawn in place") {
  MemOut out;
  LinePrinter p(out.file(), /*smart=*/true, 40);
  p.print_live("[0/2] 1 running");
  CHECK(out.text() == "\r\x1b[K[0/2] 1 running");
  p.print_live("[1/2] 0 running");
  CHECK(out.text() == "\r\x1b[K[0/2] 1 running\r\x1b[K[1/2] 0 running");
  CHECK(out.text().find('\n') == std::string::npos);
}

TEST_CASE("smart: a line that stays clears the live line first and is not redrawn over") {
  MemOut out;
  LinePrinter p(out.file(), /*smart=*/true, 40);
  p.print_line("before any live line");  // nothing to clear
  p.print_live("live");
  p.print_line("stays");
  p.print_line("stays too");  // the live line is gone: nothing to clear
  CHECK(out.text() == "before any live line\n\r\x1b[Klive\r\x1b[Kstays\nstays too\n");
}

TEST_CASE("smart: the live line is elided in the middle to one column less than the width") {
  MemOut out;
  LinePrinter p(out.file(), /*smart=*/true, 20);
  const std::string text = "[12/40] 3 running, 1 failed, 0:12 elapsed";
  p.print_live(text);
  std::string line = out.text().substr(4);  // after "\r\x1b[K"
  CHECK(line == "[12/40] ... elapsed");     // 19 columns, both ends kept
  // Lines that stay are never cut.
  p.print_line(text);
  CHECK(out.text().substr(out.text().size() - text.size() - 1) == text + "\n");
}

TEST_CASE("smart: without a terminal behind the stream the width is 80 columns") {
  MemOut out;
  LinePrinter p(out.file(), /*smart=*/true);
  p.print_live(std::string(200, 'x'));
  CHECK(out.text().size() == 4 + 79);  // "\r\x1b[K" and 79 columns
}

TEST_CASE("smart: clear_live makes room for another writer, once") {
  MemOut out;
  LinePrinter p(out.file(), /*smart=*/true, 40);
  CHECK_FALSE(p.clear_live());
  CHECK(out.text().empty());
  p.print_live("live");
  CHECK(p.clear_live());
  CHECK(out.text() == "\r\x1b[Klive\r\x1b[K");
  CHECK_FALSE(p.clear_live());
  CHECK(out.text() == "\r\x1b[Klive\r\x1b[K");
}

TEST_CASE("end_live: the live line is cleared for good and plain lines follow") {
  MemOut out;
  LinePrinter p(out.file(), /*smart=*/true, 40);
  p.print_live("live");
  p.end_live();
  CHECK_FALSE(p.smart());
  p.print_live("ignored");
  p.print_line("summary");
  CHECK(out.text() == "\r\x1b[Klive\r\x1b[Ksummary\n");
}
