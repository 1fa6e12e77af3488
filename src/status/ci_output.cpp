// CI-native output: the Markdown summary GitHub renders on a run's page, and
// GitHub's ::error workflow commands. GitHub renders the summary as GitHub
// Flavored Markdown with HTML allowed, so everything that comes from a test
// (names, messages) is escaped: a `|` would end a table cell, a `<` start a
// tag, a backtick a code span, a newline the table.
#include "shardrun/ci_output.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "shardrun/error.hpp"
#include "shardrun/unique_fd.hpp"

namespace shardrun {

namespace fs = std::filesystem;

namespace {

bool continuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

// `text` cut to `max_chars` code points; `cut` says whether anything was left out.
std::string_view first_chars(std::string_view text, std::size_t max_chars, bool& cut) {
  std::size_t chars = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (continuation(text[i])) continue;
    if (chars++ == max_chars) {
      cut = true;
      return text.substr(0, i);
    }
  }
  cut = false;
  return text;
}

std::string plural(std::uint64_t n, const char* word) {
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

// A path as people in CI see it: relative to the workspace when inside it.
std::string shown_path(const fs::path& path, const fs::path& base) {
  if (path.empty() || base.empty() || path.is_relative()) return path.string();
  const fs::path rel = path.lexically_normal().lexically_relative(base.lexically_normal());
  if (rel.empty() || *rel.begin() == "..") return path.string();
  return rel.string();
}

std::string headline(const RunSummary& s) {
  const std::uint64_t failed = s.failures + s.errors;
  std::string what;
  if (s.exit_code >= 128) {
    what = fmt::format("⚠️ interrupted (exit {})", s.exit_code);
  } else if (s.exit_code == 3) {
    what = "❌ infrastructure failure (exit 3)";
  } else if (failed > 0) {
    what = fmt::format("❌ {} of {} failed", failed, plural(s.tests, "test"));
  } else if (s.exit_code != 0) {
    what = fmt::format("❌ {} passed only on a retry (exit {})", plural(s.flaky.size(), "test"),
                       s.exit_code);
  } else {
    what = fmt::format("✅ {} passed", plural(s.tests, "test"));
  }
  return fmt::format("## shardrun: {} — {}\n\n", markdown_text(s.suite), what);
}

std::string totals_table(const RunSummary& s, const fs::path& base) {
  const std::uint64_t counted = s.failures + s.errors + s.skipped;
  const std::uint64_t passed = s.tests > counted ? s.tests - counted : 0;
  std::string out =
      "| tests | passed | failed | errors | skipped | flaky | shards | time |\n"
      "|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  out += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} |\n\n", s.tests, passed, s.failures,
                     s.errors, s.skipped, s.flaky.size(), s.shards, format_seconds(s.elapsed));
  out += fmt::format("Report {} · run {} · exit {}\n\n", markdown_code(shown_path(s.report, base)),
                     markdown_code(shown_path(s.run_dir, base)), s.exit_code);
  return out;
}

std::string failed_section(const RunSummary& s, const MarkdownOptions& o) {
  const std::uint64_t failed = s.failures + s.errors;
  if (failed == 0) return {};
  std::string out = fmt::format("### Failed tests\n\n| test | entry | message |\n|---|---|---|\n");
  std::size_t listed = 0;
  for (const FailedTest& t : s.failed_tests) {
    if (listed == o.failed_tests) break;
    ++listed;
    std::string message = markdown_text(t.message, o.message_chars);
    if (t.errored) message = "**error:** " + message;
    out +=
        fmt::format("| {} | {} | {} |\n", markdown_code(t.test), markdown_text(t.entry), message);
  }
  if (failed > listed)
    out += fmt::format("\n… and {} more failed test{} (see the JUnit report)\n", failed - listed,
                       failed - listed == 1 ? "" : "s");
  return out + "\n";
}

std::string flaky_section(const RunSummary& s, const MarkdownOptions& o) {
  if (s.flaky.empty()) return {};
  std::string out =
      "### Flaky tests (passed on a retry)\n\n| test | entry | failed attempts |\n"
      "|---|---|---:|\n";
  const std::size_t listed = std::min(s.flaky.size(), o.flaky_tests);
  for (std::size_t i = 0; i < listed; ++i) {
    const FlakyTest& f = s.flaky[i];
    out += fmt::format("| {} | {} | {} |\n", markdown_code(f.test), markdown_text(f.entry),
                       f.failed_attempts);
  }
  if (s.flaky.size() > listed)
    out += fmt::format("\n… and {} more (see run.json)\n", s.flaky.size() - listed);
  return out + "\n";
}

std::string problems_section(const RunSummary& s, const MarkdownOptions& o) {
  if (s.problems.empty()) return {};
  std::string out = "### Problems\n\n";
  for (const std::string& p : s.problems)
    out += fmt::format("- {}\n", markdown_text(p, o.message_chars));
  return out + "\n";
}

std::string shards_section(const RunSummary& s) {
  if (s.shards <= 0 || s.units.empty()) return {};
  const auto n = static_cast<std::size_t>(s.shards);
  std::vector<int> units(n, 0), tests(n, 0), failed(n, 0);
  for (const UnitRecord& u : s.units) {
    if (u.shard < 0 || u.shard >= s.shards) continue;
    const auto i = static_cast<std::size_t>(u.shard);
    units[i] += 1;
    tests[i] += u.testcases;
    failed[i] += u.failures;
  }
  std::string out =
      "### Shards\n\n| shard | units | tests | failed | busy | |\n"
      "|---:|---:|---:|---:|---:|---|\n";
  for (std::size_t i = 0; i < n; ++i) {
    const bool known = i < s.shard_reports.size();
    const double busy = known ? s.shard_reports[i].busy_seconds : 0;
    const bool problem = known && s.shard_reports[i].problem;
    out += fmt::format("| {} | {} | {} | {} | {} | {} |\n", i, units[i], tests[i], failed[i],
                       format_seconds(busy), problem ? "shard problem" : "");
  }
  const Balance b = compute_balance(s.units, s.shards);
  if (b.lower_bound > 0)
    out += fmt::format("\nBalance: makespan {} against a lower bound of {} ({:.2f})\n",
                       format_seconds(b.makespan), format_seconds(b.lower_bound), b.ratio);
  return out + "\n";
}

std::string slowest_section(const RunSummary& s, const MarkdownOptions& o) {
  std::vector<const UnitRecord*> ran;
  for (const UnitRecord& u : s.units)
    if (u.shard >= 0) ran.push_back(&u);
  if (ran.empty() || o.slowest_units == 0) return {};
  const std::size_t shown = std::min(ran.size(), o.slowest_units);
  std::partial_sort(ran.begin(), ran.begin() + static_cast<std::ptrdiff_t>(shown), ran.end(),
                    [](const UnitRecord* a, const UnitRecord* b) {
                      return a->end - a->start > b->end - b->start;
                    });
  std::string out =
      "### Slowest units\n\n| unit | entry | shard | time | tests | result |\n"
      "|---|---|---:|---:|---:|---|\n";
  for (std::size_t i = 0; i < shown; ++i) {
    const UnitRecord& u = *ran[i];
    out += fmt::format("| {} | {} | {} | {} | {} | {} |\n", markdown_code(u.label),
                       markdown_text(u.entry), u.shard, format_seconds(u.end - u.start),
                       u.testcases, markdown_text(u.result));
  }
  return out + "\n";
}

}  // namespace

std::string markdown_text(std::string_view text, std::size_t max_chars) {
  bool cut = false;
  const std::string_view kept = first_chars(text, max_chars, cut);
  std::string out;
  out.reserve(kept.size() + 16);
  for (std::size_t i = 0; i < kept.size(); ++i) {
    const char c = kept[i];
    switch (c) {
      case '\r':
        if (i + 1 < kept.size() && kept[i + 1] == '\n') break;  // \r\n: one break
        [[fallthrough]];
      case '\n':
        out += "<br>";
        break;
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '|':
      case '\\':
      case '`':
      case '*':
      case '_':
      case '[':
      case ']':
      case '~':
        out += '\\';
        out += c;
        break;
      default:
        out += static_cast<unsigned char>(c) < 0x20 ? ' ' : c;
    }
  }
  if (cut) out += "…";
  return out;
}

std::string markdown_code(std::string_view text) {
  std::size_t longest = 0, run = 0;
  std::string body;
  for (char c : text) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
    if (c == '|') {
      body += "\\|";
    } else {
      body += c == '\n' || c == '\r' || c == '\t' ? ' ' : c;
    }
  }
  if (body.empty()) return {};
  const std::string fence(longest + 1, '`');
  // A span that starts or ends with a backtick needs a space to keep it apart.
  const bool pad = body.front() == '`' || body.back() == '`';
  return pad ? fence + " " + body + " " + fence : fence + body + fence;
}

std::string summary_markdown(const RunSummary& summary, const MarkdownOptions& options) {
  return headline(summary) + totals_table(summary, options.base) +
         failed_section(summary, options) + flaky_section(summary, options) +
         problems_section(summary, options) + shards_section(summary) +
         slowest_section(summary, options);
}

std::string escape_command_data(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '%') {
      out += "%25";
    } else if (c == '\r') {
      out += "%0D";
    } else if (c == '\n') {
      out += "%0A";
    } else {
      out += c;
    }
  }
  return out;
}

std::string escape_command_property(std::string_view text) {
  std::string out;
  for (char c : escape_command_data(text)) {
    if (c == ':') {
      out += "%3A";
    } else if (c == ',') {
      out += "%2C";
    } else {
      out += c;
    }
  }
  return out;
}

std::vector<std::string> github_annotations(const RunSummary& summary, std::size_t max) {
  std::vector<std::string> lines;
  for (const FailedTest& t : summary.failed_tests) {
    if (t.file.empty() || t.line <= 0) continue;
    if (lines.size() == max) break;
    const std::string message = t.message.empty() ? (t.errored ? "error" : "failed") : t.message;
    lines.push_back(fmt::format("::error file={},line={},title={}::{}",
                                escape_command_property(t.file), t.line,
                                escape_command_property(t.test), escape_command_data(message)));
  }
  const std::uint64_t shown = lines.size();
  if (summary.located_failures > shown)
    lines.push_back(fmt::format("shardrun: {} more failed test{} not annotated (at most {} are)",
                                summary.located_failures - shown,
                                summary.located_failures - shown == 1 ? "" : "s", max));
  return lines;
}

void append_text(const fs::path& file, std::string_view text) {
  UniqueFd fd(::open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644));
  if (fd.get() < 0)
    throw Error(fmt::format("cannot open {}: {}", file.string(), std::strerror(errno)));
  while (!text.empty()) {
    const ssize_t n = ::write(fd.get(), text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      throw Error(fmt::format("cannot write {}: {}", file.string(), std::strerror(errno)));
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  if (int err = fd.close(); err != 0)
    throw Error(fmt::format("cannot write {}: {}", file.string(), std::strerror(err)));
}

}  // namespace shardrun
