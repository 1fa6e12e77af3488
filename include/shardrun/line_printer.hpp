#pragma once
// The only code that knows the terminal (after ninja's LinePrinter): whether
// it is "smart" (a live line rewritten in place) or a log (plain lines), how
// wide it is, and whether a live line is on it now. Writes to one FILE*.
// What the lines say is the StatusPrinter's business.

#include <cstdio>
#include <string>

namespace shardrun {

class LinePrinter {
 public:
  /// What the environment says about a stream's terminal.
  struct Traits {
    bool smart = false;  ///< a terminal (isatty) and TERM is set and not "dumb"
    /// Colours: a smart terminal, or CLICOLOR_FORCE / FORCE_COLOR set (and not
    /// "0"); never with NO_COLOR set.
    bool color = false;
  };
  /// The traits of the terminal on `fd` (STDOUT_FILENO), from isatty, TERM,
  /// NO_COLOR, CLICOLOR_FORCE and FORCE_COLOR.
  static Traits detect(int fd);

  /// `width`: the columns of the live line; 0: the terminal's (asked at each
  /// redraw, so a resized window is followed), 80 when `out` is no terminal.
  LinePrinter(std::FILE* out, bool smart, std::size_t width = 0);

  bool smart() const { return smart_; }
  std::FILE* stream() const { return out_; }

  /// Smart: `text` becomes the live line, drawn over the one shown (`\r`,
  /// `ESC[K`), its middle elided to one column less than the width. Dumb: a
  /// log has no live line; nothing is written.
  void print_live(const std::string& text);
  /// A line that stays. Smart: the live line is cleared first; drawing it
  /// again below is the caller's choice (it knows what the line says now).
  void print_line(const std::string& text);
  /// Clears the live line, if one is shown, so that another writer (a
  /// warning on stderr, the same terminal) starts on an empty line; flushes.
  /// Returns whether a live line was shown.
  bool clear_live();
  /// Clears the live line for good: plain lines from here on (the summary).
  void end_live();

 private:
  std::size_t width() const;

  std::FILE* out_;
  bool smart_;
  std::size_t width_;
  bool live_shown_ = false;
};

}  // namespace shardrun
