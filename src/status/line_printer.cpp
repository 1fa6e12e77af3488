// The terminal, after ninja's line_printer.cc: smart only when the stream is
// a terminal and TERM is not "dumb"; then the live line is redrawn in place
// (`\r`, `ESC[K`) and elided to the window's width. Anything else (a CI log)
// gets plain lines only, so that logs stay readable.
#include "shardrun/line_printer.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "shardrun/status.hpp"

namespace shardrun {

namespace {

constexpr const char* kClearLine = "\r\x1b[K";
constexpr std::size_t kFallbackWidth = 80;

bool env_set(const char* name) {
  const char* v = std::getenv(name);
  return v && *v && std::strcmp(v, "0") != 0;
}

}  // namespace

LinePrinter::Traits LinePrinter::detect(int fd) {
  Traits t;
  const char* term = std::getenv("TERM");
  t.smart = isatty(fd) == 1 && term && std::strcmp(term, "dumb") != 0;
  t.color = t.smart;
  if (env_set("CLICOLOR_FORCE") || env_set("FORCE_COLOR")) t.color = true;
  if (const char* no = std::getenv("NO_COLOR"); no && *no) t.color = false;
  return t;
}

LinePrinter::LinePrinter(std::FILE* out, bool smart, std::size_t width)
    : out_(out), smart_(smart), width_(width) {}

std::size_t LinePrinter::width() const {
  if (width_ > 0) return width_;
  struct winsize ws {};
  if (ioctl(fileno(out_), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return kFallbackWidth;
}

void LinePrinter::print_live(const std::string& text) {
  if (!smart_) return;
  // One column short of the width: a line that fills the last column makes
  // some terminals wrap, and the next `\r` would redraw one row too low.
  const std::size_t columns = width();
  std::string line = elide_middle(text, columns > 1 ? columns - 1 : columns);
  std::fputs(kClearLine, out_);
  std::fputs(line.c_str(), out_);
  live_shown_ = true;
  std::fflush(out_);
}

void LinePrinter::print_line(const std::string& text) {
  if (smart_ && live_shown_) std::fputs(kClearLine, out_);
  live_shown_ = false;
  std::fputs(text.c_str(), out_);
  std::fputc('\n', out_);
  std::fflush(out_);
}

bool LinePrinter::clear_live() {
  const bool shown = smart_ && live_shown_;
  if (shown) std::fputs(kClearLine, out_);
  live_shown_ = false;
  // Whatever was written to this stream comes before what the other writer
  // writes next, in a log that takes both (2>&1).
  std::fflush(out_);
  return shown;
}

void LinePrinter::end_live() {
  clear_live();
  smart_ = false;
}

}  // namespace shardrun
