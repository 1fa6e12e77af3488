#pragma once
// CI-native output (status module): the Markdown summary of a run that GitHub
// Actions shows on the run's page (appended to $GITHUB_STEP_SUMMARY, or to
// --summary-md PATH anywhere), and GitHub's `::error` workflow commands for
// failed tests whose JUnit says where they failed. Rendering is pure; the one
// I/O is appending to a file. Where the values come from (the environment,
// the report) is the app's business.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "shardrun/status.hpp"

namespace shardrun {

struct MarkdownOptions {
  std::size_t failed_tests = 30;    ///< listed, then "... and N more"
  std::size_t flaky_tests = 20;     ///< listed, then "... and N more"
  std::size_t message_chars = 300;  ///< of each message, then "…"
  std::size_t slowest_units = 5;
  /// Paths under this folder (the workspace) are shown relative to it.
  std::filesystem::path base;
};

/// `text` for a Markdown table cell: `&`, `<`, `>` as entities, Markdown's
/// emphasis, link and code characters and `\` backslash-escaped, `|` as
/// `\|`, line breaks as `<br>`, other control characters as spaces; cut to
/// `max_chars` code points, then "…".
std::string markdown_text(std::string_view text, std::size_t max_chars = SIZE_MAX);

/// `text` as a code span for a table cell: fenced with one backtick more
/// than its longest run of them, `|` as `\|`, line breaks as spaces.
std::string markdown_code(std::string_view text);

/// The summary of a run: headline, totals, failed tests with their messages
/// (at most options.failed_tests), flaky tests, problems, a row per shard
/// and the slowest units. Ends with a blank line, so that summaries
/// appended one after another stay apart.
std::string summary_markdown(const RunSummary& summary, const MarkdownOptions& options = {});

/// A workflow command's message: `%`, `\r`, `\n` as `%25`, `%0D`, `%0A`.
std::string escape_command_data(std::string_view text);
/// A workflow command's property value: as data, and `:`, `,` as `%3A`, `%2C`.
std::string escape_command_property(std::string_view text);

/// One `::error file=F,line=N,title=TEST::MESSAGE` line for each failed test
/// with a file and a line, at most `max`; then, when more failed tests had
/// both, one plain line that counts them.
std::vector<std::string> github_annotations(const RunSummary& summary, std::size_t max = 50);

/// Appends `text` to `file` (created 0644 if missing), never truncating it.
/// Throws Error when it cannot.
void append_text(const std::filesystem::path& file, std::string_view text);

}  // namespace shardrun
