#pragma once
// What the user sees (DESIGN §6): a live line on a smart terminal, one line
// per finished unit otherwise, failing units' log tails, the final per-shard
// summary and balance; and run.json for other tools. No scheduling decisions.

#include <cstdio>
#include <deque>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "shardrun/line_printer.hpp"
#include "shardrun/process.hpp"
#include "shardrun/time_left.hpp"
#include "shardrun/unit.hpp"

namespace shardrun {

/// Everything known about one unit once it has ended (or never ran).
struct UnitRecord {
  std::size_t id = 0;
  std::string label;
  std::string entry;
  int shard = -1;   ///< -1: never ran
  int attempt = 0;  ///< 0: first run; n: the n-th retry of its failed tests
  /// Why the unit exists: "planned", "retry" (failed tests run again) or
  /// "isolation" (part of a crashed batch, re-run to find the culprit).
  std::string role = "planned";
  std::vector<std::string> tests;
  std::string command;
  std::string log;
  std::string junit;
  double predicted = 0;  ///< what the plan predicted for it, seconds
  double start = 0;      ///< seconds since the run started
  double end = 0;
  ExitStatus status;
  /// "passed", "failed", "error", "timeout", "interrupted", "not-run"
  std::string result;
  int testcases = 0;
  int failures = 0;  ///< failed + errored testcases
  /// Classname and name of each failed or errored testcase it wrote to the
  /// report (not those held for a retry): what --last-failed runs again.
  std::vector<std::pair<std::string, std::string>> failed_cases;
  int skipped = 0;
  int retried = 0;   ///< failed tests of this unit that were queued to run again
  std::string note;  ///< why, for anything but passed
  /// The runner found no test in it (results::Finished::found_no_tests).
  bool found_no_tests = false;
  /// The shared queue's node that ran it (`shardrun report`); empty otherwise.
  std::string node;
};

/// A test that failed and then passed on a retry (DESIGN §8 rule 9).
struct FlakyTest {
  std::string entry;
  std::string test;         ///< its test id, or "classname.name" for an entry without discover
  int failed_attempts = 0;  ///< attempts that failed before the one that passed
};

/// A failed or errored test as the report has it, for the CI summary and
/// annotations (ci_output.hpp).
struct FailedTest {
  std::string entry;
  std::string test;      ///< "classname.name", or the name when there is no classname
  bool errored = false;  ///< <error> rather than <failure>
  std::string message;
  std::string file;  ///< relative to the workspace where it could be found there; "" if unknown
  long line = 0;     ///< 0: unknown
};

/// A phase of a shard's life outside its units (run.json "shard_spans").
struct ShardSpan {
  std::string kind;  ///< "resource", "setup" or "teardown"
  std::string name;  ///< a resource's: "service 'app'"
  double start = 0;  ///< seconds since the run started, like UnitRecord::start
  /// A resource: when it was ready (or failed, or was given up); setup and
  /// teardown: when their last command ended. < 0: it never ended.
  double end = -1;
  /// "ready" (a resource) or "ok"; "failed", "interrupted"; "died" (a
  /// service that was ready and exited on its own); "pending" (never ended).
  std::string outcome = "pending";
  std::string error;
  std::size_t commands = 0;        ///< setup, teardown: how many commands
  std::optional<double> died;      ///< a resource: when its service exited
  std::optional<double> released;  ///< a resource: when it was released
  std::string release_error;
};

struct RunSummary {
  bool report_written = true;  ///< false: the merged report could not be written
  std::string suite;
  std::string run_id;
  std::filesystem::path run_dir;
  std::filesystem::path report;
  std::filesystem::path timeline;  ///< the run's timeline.html; empty: none written
  int shards = 0;
  double elapsed = 0;
  std::uint64_t tests = 0, failures = 0, errors = 0, skipped = 0;
  std::vector<ShardReport> shard_reports;
  std::vector<UnitRecord> units;
  /// Per shard (by index), its resources, setup and teardown in the order begun.
  std::vector<std::vector<ShardSpan>> shard_spans;
  std::vector<std::string> problems;  ///< infrastructure failures
  std::vector<FlakyTest> flaky;       ///< passed on a retry; reported passed
  /// The first failed or errored tests of the report (failures + errors
  /// counts them all), and how many of them all had a file and a line.
  std::vector<FailedTest> failed_tests;
  std::uint64_t located_failures = 0;
  int exit_code = 0;
};

/// Balance of a run: makespan against max(sum / shards, longest unit).
struct Balance {
  double makespan = 0;
  double sum = 0;
  double longest = 0;
  double lower_bound = 0;
  double ratio = 0;  ///< makespan / lower bound (1.0 is perfect); 0 when nothing ran
};
Balance compute_balance(const std::vector<UnitRecord>& units, int shards);

/// "0.3s", "12.0s", "2m05s", "1h02m".
std::string format_seconds(double seconds);
/// Shortens `text` to `width` columns by cutting its middle ("ab...yz").
std::string elide_middle(const std::string& text, std::size_t width);
/// "[12/40] 3 running, 1 failed, 0:12 elapsed, ~0:30 left".
std::string format_progress(std::size_t done, std::size_t total, std::size_t running,
                            std::size_t failed, double elapsed, double remaining);
/// The last `lines` lines of a file (at most `max_bytes` read from its end).
std::string read_tail(const std::filesystem::path& file, std::size_t lines,
                      std::size_t max_bytes = 64 * 1024);

/// Writes run.json (DESIGN §6) atomically.
void write_run_json(const std::filesystem::path& path, const RunSummary& summary);

/// What a run shows, fed by events (after ninja's StatusPrinter): the live
/// line or one line per finished unit, failing units' log tails, the
/// summary; and the run's one channel for warnings and notes. Everything is
/// written through LinePrinters: the status to `out`, warnings to `err`.
class StatusPrinter {
 public:
  struct Options {
    bool smart = false;  ///< live status line (TTY and TERM != dumb)
    bool color = false;
    std::size_t tail_lines = 30;         ///< log lines shown for a failing unit
    std::size_t tail_bytes = 64 * 1024;  ///< and at most this many bytes of them
    std::FILE* out = stdout;
    std::FILE* err = stderr;  ///< warnings and notes
  };
  /// Options from the environment: isatty(1), TERM, NO_COLOR, CLICOLOR_FORCE, FORCE_COLOR.
  static Options detect();

  explicit StatusPrinter(Options options);
  void set_total(std::size_t units) { total_ = units; }
  /// The planned units' predicted seconds and the shards that run them: what
  /// the time left is estimated from (time_left.hpp).
  void set_plan(const std::deque<Unit>& units, int shards);
  void unit_started(const UnitRecord& unit);
  void unit_finished(const UnitRecord& unit);
  /// The clock moved: `elapsed` seconds since the run started. `remaining`:
  /// an estimate of the time left made elsewhere, shown until the next tick;
  /// without one, the printer's own from the plan's predictions, brought up
  /// to date as units start and finish.
  void tick(double elapsed, std::optional<double> remaining = std::nullopt);
  /// A line of the status that must stay (a problem, a note on the run).
  void message(const std::string& text);
  /// The one channel for warnings: "shardrun: warning: <text>" on `err`,
  /// from the start of a run to its end; the live line steps aside for it.
  void warning(const std::string& text);
  /// A note on the same channel: "shardrun: <text>".
  void note(const std::string& text);
  void summary(const RunSummary& summary);

 private:
  void print_line(const std::string& line);
  void print_aside(const std::string& line);
  void redraw();
  /// The printer's own estimate, when the last tick asked for it.
  void update_time_left();
  std::string paint(const std::string& text, const char* code) const;

  Options options_;
  LinePrinter line_;
  LinePrinter err_;
  TimeLeft time_left_;
  std::size_t total_ = 0, done_ = 0, running_ = 0, failed_ = 0;
  double elapsed_ = 0, remaining_ = -1;
  bool own_estimate_ = false;
};

}  // namespace shardrun
