// A cheap pass over the raw text before yaml-cpp sees it. yaml-cpp 0.7
// recurses once per nesting level while parsing (its own guard stops only
// at 2000 levels, deep enough to overflow a small thread stack), so deeply
// nested input is refused here with a normal SuiteError instead.
//
// The scan is a simplified YAML tokenizer. It counts block levels by the
// indentation of "key:" and "- " lines (plus compact "- - x" forms) and
// flow levels by `[` and `{`, skipping quoted scalars, comments and block
// scalars (`|`, `>`). Where it cannot be exact it errs towards counting
// fewer levels: a false alarm would reject a valid suite, while an
// undercount is still caught by yaml-cpp's guard.
//
// It also refuses a second YAML document ("---" after content, or content
// after "..."): yaml-cpp's Load would silently ignore it, and its LoadAll
// loops forever on some malformed input (yaml-cpp PR #1319).
//
// And it refuses bytes that are not UTF-8 anywhere in the file: YAML text is
// Unicode, yaml-cpp passes such bytes into commands, and libfyaml (the next
// step, yaml_syntax.cpp) checks them only inside scalars; libfyaml before
// 0.9.1 even loops forever on one in a directive ("%\xE1", upstream commit
// 7f7be36), so this check must come first.

#include <string>
#include <vector>

#include "shardrun/error.hpp"
#include "suite_internal.hpp"

namespace shardrun::suite_detail {

namespace {

bool blank(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

class DepthScanner {
 public:
  DepthScanner(std::string_view text, const std::string& file) : text_(text), file_(file) {}

  void run() {
    size_t start = 0;
    while (start <= text_.size()) {
      size_t end = text_.find('\n', start);
      if (end == std::string_view::npos) end = text_.size();
      scan_line(text_.substr(start, end - start));
      ++line_;
      start = end + 1;
    }
  }

 private:
  void scan_line(std::string_view line) {
    if (block_scalar_parent_ >= 0) {
      const size_t indent = line.find_first_not_of(' ');
      const bool empty = indent == std::string_view::npos ||
                         line.find_first_not_of(" \t\r") == std::string_view::npos;
      if (empty || static_cast<int>(indent) > block_scalar_parent_) return;
      block_scalar_parent_ = -1;
    }
    size_t i = 0;
    at_blank_ = true;
    if (quote_ != 0) {
      i = scan_quoted(line, 0);
      if (quote_ != 0) return;
    } else if (is_document_marker(line)) {
      // yaml-cpp would silently read only the first of several documents.
      if (line[0] == '-' && (seen_content_ || ended_)) fail_documents();
      if (line[0] == '.') ended_ = true;
      // A new document (or the end of one) resets every level.
      block_.clear();
      pending_ = -1;
      flow_ = 0;
      token_start_ = true;
      line_indent_ = 0;
      i = 3;
      note_content(line, i);
    } else if (!line.empty() && line[0] == '%' && flow_ == 0) {
      return;  // a directive such as %YAML 1.2
    } else {
      note_content(line, 0);
      if (flow_ == 0) {
        i = start_block_line(line);
        if (i == line.size()) return;
      }
    }
    scan_rest(line, i);
  }

  // Records that the document has content from line[from] on, if it has.
  void note_content(std::string_view line, size_t from) {
    const size_t first = line.find_first_not_of(" \t\r", from);
    if (first == std::string_view::npos || line[first] == '#') return;
    if (ended_) fail_documents();  // content after "..." starts a new document
    seen_content_ = true;
  }

  [[noreturn]] void fail_documents() const {
    throw SuiteError(file_, line_, 1,
                     "the suite file holds more than one YAML document ('---'); keep one");
  }

  static bool is_document_marker(std::string_view line) {
    return (line.starts_with("---") || line.starts_with("...")) &&
           (line.size() == 3 || blank(line[3]));
  }

  // Handles the indentation and leading "- " / "? " / ": " indicators of a
  // line in block context; returns where its content starts (size() when
  // there is none). A column becomes a level only once it is known to hold
  // a collection: an indicator sits there, or a "key:" follows on the line.
  size_t start_block_line(std::string_view line) {
    size_t i = 0;
    while (i < line.size() && line[i] == ' ') ++i;
    const size_t content = line.find_first_not_of(" \t\r");
    if (content == std::string_view::npos || line[content] == '#') return line.size();
    line_indent_ = static_cast<int>(i);
    while (!block_.empty() && block_.back() > line_indent_) block_.pop_back();
    pending_ = line_indent_;
    // Compact nesting: "- - x" holds a sequence at each indicator.
    while (i < line.size() && (line[i] == '-' || line[i] == '?' || line[i] == ':') &&
           (i + 1 == line.size() || blank(line[i + 1]))) {
      open_pending();
      ++i;
      while (i < line.size() && blank(line[i])) ++i;
      if (i == line.size() || line[i] == '#') return line.size();
      pending_ = static_cast<int>(i);
    }
    token_start_ = true;
    return i;
  }

  // Counts the block collection at column pending_, unless already open.
  void open_pending() {
    if (pending_ < 0) return;
    if (block_.empty() || block_.back() < pending_) {
      block_.push_back(pending_);
      check_depth(static_cast<size_t>(pending_));
    }
    pending_ = -1;
  }

  void check_depth(size_t at) const {
    if (static_cast<int>(block_.size()) + flow_ > kMaxNesting) {
      throw SuiteError(file_, line_, static_cast<int>(at) + 1,
                       "the suite nests lists and maps more than " + std::to_string(kMaxNesting) +
                           " levels deep");
    }
  }

  // Scans from text position i of a line, in flow or block context.
  void scan_rest(std::string_view line, size_t i) {
    while (i < line.size()) {
      const char c = line[i];
      if (quote_ != 0) {
        i = scan_quoted(line, i);
        continue;
      }
      if (blank(c)) {
        at_blank_ = true;
        ++i;
        continue;
      }
      if (c == '#' && at_blank_) return;  // a comment runs to the end of the line
      at_blank_ = false;
      if (flow_ > 0) {
        scan_flow_char(line, i);
      } else if (token_start_) {
        if (c == '[' || c == '{') {
          flow_ = 1;
          check_depth(i);
        } else if (c == '"' || c == '\'') {
          quote_ = c;
          token_start_ = false;
        } else if (c == '|' || c == '>') {
          block_scalar_parent_ = line_indent_;  // its text follows, more indented
          return;
        } else if (c == '&' || c == '!' || c == '*') {
          // An anchor, tag or alias: skip the word; the node follows it.
          while (i + 1 < line.size() && !blank(line[i + 1])) ++i;
          token_start_ = c != '*';
        } else {
          token_start_ = false;  // a plain scalar: brackets in it are text
        }
      } else if (c == ':' && (i + 1 == line.size() || blank(line[i + 1]))) {
        open_pending();  // "key: value": a block map
        token_start_ = true;
      }
      ++i;
    }
  }

  void scan_flow_char(std::string_view line, size_t i) {
    const char c = line[i];
    if (c == '[' || c == '{') {
      ++flow_;
      token_start_ = true;
      check_depth(i);
    } else if (c == ']' || c == '}') {
      --flow_;
      token_start_ = false;
    } else if (c == ',' || c == ':' || c == '?') {
      token_start_ = true;
    } else if ((c == '"' || c == '\'') && token_start_) {
      quote_ = c;
      token_start_ = false;
    } else {
      token_start_ = false;
    }
  }

  // Inside a quoted scalar from line[i]; returns the index after its
  // closing quote, or line.size() when it goes on past this line.
  size_t scan_quoted(std::string_view line, size_t i) {
    while (i < line.size()) {
      const char c = line[i];
      if (quote_ == '"' && c == '\\') {
        i += 2;
        continue;
      }
      if (c == quote_) {
        if (quote_ == '\'' && i + 1 < line.size() && line[i + 1] == '\'') {
          i += 2;  // '' is an escaped single quote
          continue;
        }
        quote_ = 0;
        at_blank_ = false;
        return i + 1;
      }
      ++i;
    }
    return line.size();
  }

  std::string_view text_;
  const std::string& file_;
  int line_ = 1;
  std::vector<int> block_;  // indentation columns of the open block nodes
  int flow_ = 0;            // open [ and { brackets
  char quote_ = 0;          // the quote of a scalar still open, or 0
  bool token_start_ = true;
  bool at_blank_ = true;
  int line_indent_ = 0;
  int pending_ = -1;              // column of a possible block collection on this line
  bool seen_content_ = false;     // the first document has content
  bool ended_ = false;            // "..." closed the first document
  int block_scalar_parent_ = -1;  // >= 0 while skipping a block scalar's text
};

bool is_continuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

// Offset of the first byte that is not part of well-formed UTF-8 (RFC 3629:
// no overlong forms, no surrogates, nothing above U+10FFFF), or npos.
// libfyaml checks only scalars; this covers comments, tags and keys too.
size_t first_invalid_utf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    if (lead < 0x80) {
      ++i;
      continue;
    }
    size_t size = 0;
    unsigned char low = 0x80;  // the range of the second byte
    unsigned char high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      size = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      size = 3;
      if (lead == 0xE0) low = 0xA0;   // overlong
      if (lead == 0xED) high = 0x9F;  // surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      size = 4;
      if (lead == 0xF0) low = 0x90;   // overlong
      if (lead == 0xF4) high = 0x8F;  // above U+10FFFF
    } else {
      return i;
    }
    if (text.size() - i < size) return i;
    const auto second = static_cast<unsigned char>(text[i + 1]);
    if (second < low || second > high) return i;
    for (size_t k = 2; k < size; ++k) {
      if (!is_continuation(text[i + k])) return i;
    }
    i += size;
  }
  return std::string_view::npos;
}

std::string hex_byte(char c) {
  constexpr std::string_view kDigits = "0123456789ABCDEF";
  const auto byte = static_cast<unsigned char>(c);
  return std::string("0x") + kDigits[byte >> 4] + kDigits[byte & 0x0F];
}

}  // namespace

SourceLocation locate(std::string_view text, size_t offset) {
  SourceLocation at{1, 1};
  size_t line_start = 0;
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++at.line;
      line_start = i + 1;
    }
  }
  for (size_t i = line_start; i < offset; ++i) {
    if (!is_continuation(text[i])) ++at.column;
  }
  return at;
}

std::optional<SourceLocation> first_content(std::string_view text) {
  int line = 1;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view row = text.substr(start, end - start);
    size_t from = 0;
    if ((row.starts_with("---") || row.starts_with("...")) && (row.size() == 3 || blank(row[3]))) {
      from = 3;
    }
    const size_t first = row.find_first_not_of(" \t\r", from);
    if (first != std::string_view::npos && row[first] != '#' && row[0] != '%') {
      return SourceLocation{line, static_cast<int>(first) + 1};
    }
    ++line;
    start = end + 1;
  }
  return std::nullopt;
}

std::string too_large_message(std::uintmax_t bytes) {
  return "suite file is too large (" + std::to_string(bytes) + " bytes; the limit is " +
         std::to_string(kMaxFileBytes / (1024 * 1024)) + " MiB)";
}

void prescan(std::string_view text, const std::string& file) {
  if (text.size() > kMaxFileBytes) {
    throw SuiteError(file, 0, 0, too_large_message(text.size()));
  }
  const size_t nul = text.find('\0');
  if (nul != std::string_view::npos) {
    const SourceLocation at = locate(text, nul);
    throw SuiteError(file, at.line, at.column,
                     "the suite file contains a NUL byte (is it a binary file?)");
  }
  const size_t bad = first_invalid_utf8(text);
  if (bad != std::string_view::npos) {
    const SourceLocation at = locate(text, bad);
    throw SuiteError(
        file, at.line, at.column,
        "the suite file is not valid UTF-8 (byte " + hex_byte(text[bad]) + "); save it as UTF-8");
  }
  DepthScanner(text, file).run();
}

}  // namespace shardrun::suite_detail
