// Placeholder scanning and expansion (DESIGN §3 "Placeholders").
//
// The syntax rule, chosen so that ordinary shell, awk and JSON text passes
// through untouched:
//
//   * `{NAME}` is a placeholder when NAME is [a-z_][a-z0-9_]* or
//     `env.` followed by [A-Za-z_][A-Za-z0-9_]*, and the `{` is not
//     directly preceded by `$`. So `${HOME}` and `${shard}` stay shell
//     parameter expansions, and `{a,b}`, `{print $1}`, `{"json": 1}`,
//     `{}` and `{Foo}` are plain text.
//   * `{{` is a literal `{` and `}}` a literal `}`, everywhere (as in
//     Python's str.format and fmt). Consequence: text that really contains
//     two braces in a row, such as nested JSON `{"a": {"b": 1}}` or a Go
//     template `{{.State.Status}}`, must double them (`}}}}`, `{{{{`).
//   * Every other `{` or `}` is literal.
//   * A `{` followed by a placeholder-shaped name that runs to the very end
//     of the text (`--junitxml={junit`) is "unterminated": reported with an
//     empty name by find_placeholders and an error everywhere else, since it
//     is almost certainly a typo.

#include "shardrun/placeholders.hpp"

#include <array>

#include "shardrun/error.hpp"
#include "suite_internal.hpp"

namespace shardrun {

namespace {

bool is_lower_start(char c) {
  return (c >= 'a' && c <= 'z') || c == '_';
}
bool is_lower_char(char c) {
  return is_lower_start(c) || (c >= '0' && c <= '9');
}
bool is_ident_start(char c) {
  return is_lower_start(c) || (c >= 'A' && c <= 'Z');
}
bool is_ident_char(char c) {
  return is_ident_start(c) || (c >= '0' && c <= '9');
}

// Length of the placeholder-shaped name starting at text[pos], 0 if none.
size_t name_length(std::string_view text, size_t pos) {
  const size_t n = text.size();
  if (text.substr(pos).starts_with("env.") && pos + 4 < n && is_ident_start(text[pos + 4])) {
    size_t i = pos + 5;
    while (i < n && is_ident_char(text[i])) ++i;
    return i - pos;
  }
  if (pos >= n || !is_lower_start(text[pos])) return 0;
  size_t i = pos + 1;
  while (i < n && is_lower_char(text[i])) ++i;
  return i - pos;
}

enum class Piece { kLiteral, kPlaceholder, kUnterminated };

// Walks `text`, calling emit(kind, piece, offset) for each literal run
// (with `{{`/`}}` already reduced to one brace), placeholder (piece = its
// name) and unterminated placeholder (piece = the text from its `{`).
template <class Emit>
void scan(std::string_view text, Emit&& emit) {
  const size_t n = text.size();
  size_t literal_start = 0;
  size_t i = 0;
  auto flush = [&](size_t end) {
    if (end > literal_start) {
      emit(Piece::kLiteral, text.substr(literal_start, end - literal_start), literal_start);
    }
  };
  while (i < n) {
    const char c = text[i];
    if ((c == '{' || c == '}') && i + 1 < n && text[i + 1] == c) {
      flush(i + 1);  // keep one of the two braces
      i += 2;
      literal_start = i;
      continue;
    }
    if (c == '{' && (i == 0 || text[i - 1] != '$')) {
      const size_t len = name_length(text, i + 1);
      const size_t end = i + 1 + len;
      if (len > 0 && end < n && text[end] == '}') {
        flush(i);
        emit(Piece::kPlaceholder, text.substr(i + 1, len), i);
        i = end + 1;
        literal_start = i;
        continue;
      }
      if (len > 0 && end == n) {
        flush(i);
        emit(Piece::kUnterminated, text.substr(i), i);
        i = n;
        literal_start = n;
        continue;
      }
    }
    ++i;
  }
  flush(n);
}

const std::vector<std::string>& require_tests(const PlaceholderValues& values) {
  if (values.tests == nullptr) {
    throw Error(
        "'{tests}' is not available here: only the command of an entry with 'discover' "
        "receives test ids");
  }
  return *values.tests;
}

void append_tests(std::string& out, const PlaceholderValues& values, bool quote) {
  bool first = true;
  for (const std::string& id : require_tests(values)) {
    if (!first) out += ' ';
    first = false;
    out += quote ? shell_quote(id) : id;
  }
}

// Appends the value of the placeholder `name` (already known to be
// placeholder-shaped) to `out`.
void append_value(std::string& out, std::string_view name, const PlaceholderValues& values,
                  bool quote_tests) {
  if (name == "shard") {
    out += std::to_string(values.shard);
  } else if (name == "shards") {
    out += std::to_string(values.shards);
  } else if (name == "tests") {
    append_tests(out, values, quote_tests);
  } else if (name == "tests_file") {
    if (values.tests_file.empty()) {
      throw Error(
          "'{tests_file}' is not available here: only the command of an entry with 'discover' "
          "or 'files' receives test ids");
    }
    out += values.tests_file;
  } else if (name == "junit") {
    if (values.junit.empty()) {
      throw Error(
          "'{junit}' is not available here: only a test's command and env receive a JUnit path");
    }
    out += values.junit;
  } else if (name == "run_dir") {
    out += values.run_dir;
  } else if (name == "tmp") {
    out += values.tmp;
  } else if (name.starts_with("env.")) {
    if (values.env) {
      if (auto value = values.env(name.substr(4))) out += *value;
    }
  } else {
    throw Error(suite_detail::unknown_placeholder_message(name));
  }
}

}  // namespace

namespace suite_detail {

std::string unknown_placeholder_message(std::string_view name) {
  return "unknown placeholder '{" + std::string(name) +
         "}' (known: {shard}, {shards}, {tests}, {tests_file}, {junit}, {run_dir}, {tmp}, "
         "{env.NAME})";
}

std::string unterminated_placeholder_message(std::string_view text) {
  return "unterminated placeholder '" + std::string(text) +
         "' (add '}', or write '{{' for a literal brace)";
}

}  // namespace suite_detail

bool is_known_placeholder(std::string_view name) {
  static constexpr std::array<std::string_view, 7> kFixed = {
      "shard", "shards", "tests", "tests_file", "junit", "run_dir", "tmp"};
  for (std::string_view known : kFixed) {
    if (name == known) return true;
  }
  if (!name.starts_with("env.")) return false;
  const std::string_view var = name.substr(4);
  if (var.empty() || !is_ident_start(var.front())) return false;
  for (char c : var) {
    if (!is_ident_char(c)) return false;
  }
  return true;
}

std::vector<PlaceholderRef> find_placeholders(std::string_view text) {
  std::vector<PlaceholderRef> refs;
  scan(text, [&](Piece kind, std::string_view piece, size_t offset) {
    if (kind == Piece::kPlaceholder) refs.push_back({std::string(piece), offset});
    if (kind == Piece::kUnterminated) refs.push_back({std::string(), offset});
  });
  return refs;
}

std::string expand_placeholders(std::string_view text, const PlaceholderValues& values,
                                bool shell_quote_tests) {
  std::string out;
  out.reserve(text.size());
  scan(text, [&](Piece kind, std::string_view piece, size_t) {
    switch (kind) {
      case Piece::kLiteral:
        out += piece;
        break;
      case Piece::kPlaceholder:
        append_value(out, piece, values, shell_quote_tests);
        break;
      case Piece::kUnterminated:
        throw Error(suite_detail::unterminated_placeholder_message(piece));
    }
  });
  return out;
}

std::vector<std::string> expand_argv(const std::vector<std::string>& argv,
                                     const PlaceholderValues& values) {
  std::vector<std::string> out;
  out.reserve(argv.size());
  for (const std::string& arg : argv) {
    if (arg == "{tests}") {
      const auto& ids = require_tests(values);
      out.insert(out.end(), ids.begin(), ids.end());
    } else {
      out.push_back(expand_placeholders(arg, values, false));
    }
  }
  return out;
}

std::string shell_quote(std::string_view text) {
  if (text.empty()) return "''";
  auto safe = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           std::string_view("_@%+=:,./-").find(c) != std::string_view::npos;
  };
  bool all_safe = true;
  for (char c : text) all_safe = all_safe && safe(c);
  if (all_safe) return std::string(text);
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";  // close, escaped quote, reopen
    } else {
      out += c;
    }
  }
  out += '\'';
  return out;
}

}  // namespace shardrun
