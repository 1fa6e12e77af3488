#pragma once
// Placeholder expansion (DESIGN §3 "Placeholders"). Pure functions.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace shardrun {

/// The values placeholders stand for in one shard (and, for {tests} and
/// {junit}, in one unit). A null `tests` or empty `junit` means "not
/// available here": using them is an error.
struct PlaceholderValues {
  int shard = 0;
  int shards = 1;
  std::string run_dir;
  std::string tmp;
  std::string junit;
  const std::vector<std::string>* tests = nullptr;
  /// {tests_file}: a file holding the unit's test ids, one per line, for
  /// runners that read ids from a file (no command-line limit); empty: not
  /// available here.
  std::string tests_file;
  /// Looks NAME up for {env.NAME}; nullopt when unset (expands to "").
  std::function<std::optional<std::string>(std::string_view)> env;
};

/// Names a suite may use: shard, shards, tests, tests_file, junit, run_dir,
/// tmp, env.NAME.
bool is_known_placeholder(std::string_view name);

/// A placeholder found in a text: its name and byte offset of the '{'.
struct PlaceholderRef {
  std::string name;
  size_t offset = 0;
};

/// Lists the placeholders of a text ("{{" and "}}" are literal braces and
/// are skipped). An unterminated "{" is reported with an empty name.
std::vector<PlaceholderRef> find_placeholders(std::string_view text);

/// Expands every placeholder. With `shell_quote_tests`, {tests} becomes
/// shell-quoted words (for `/bin/sh -c` scripts); otherwise ids joined by
/// spaces. Throws Error for an unknown or unavailable placeholder.
std::string expand_placeholders(std::string_view text, const PlaceholderValues& values,
                                bool shell_quote_tests);

/// Expands an argv: an element that is exactly "{tests}" becomes one
/// element per test id (none when there are none); other elements expand
/// as in expand_placeholders without quoting.
std::vector<std::string> expand_argv(const std::vector<std::string>& argv,
                                     const PlaceholderValues& values);

/// POSIX shell quoting: returns a word the shell reads back as `text`.
std::string shell_quote(std::string_view text);

}  // namespace shardrun
