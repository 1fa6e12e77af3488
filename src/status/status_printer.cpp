// What a run shows, after ninja's StatusPrinter: on a smart terminal one live
// line, and permanent lines only for what went wrong; anything else (CI logs)
// one line per finished unit. How lines reach the terminal is the
// LinePrinter's business (line_printer.cpp).
#include <fmt/format.h>
#include <unistd.h>

#include "shardrun/status.hpp"

namespace shardrun {

namespace {
const char* kRed = "31";
const char* kGreen = "32";
const char* kYellow = "33";
const char* kBold = "1";

const char* result_color(const std::string& result) {
  if (result == "passed") return kGreen;
  if (result == "not-run" || result == "interrupted" || result == "split") return kYellow;
  return kRed;
}
}  // namespace

StatusPrinter::Options StatusPrinter::detect() {
  Options o;
  LinePrinter::Traits terminal = LinePrinter::detect(STDOUT_FILENO);
  o.smart = terminal.smart;
  o.color = terminal.color;
  return o;
}

// Warnings get a printer of their own: plain lines, never a live one, so
// they read the same whether stderr is the terminal or a log.
StatusPrinter::StatusPrinter(Options options)
    : options_(options), line_(options.out, options.smart), err_(options.err, false) {}

std::string StatusPrinter::paint(const std::string& text, const char* code) const {
  if (!options_.color) return text;
  return fmt::format("\x1b[{}m{}\x1b[0m", code, text);
}

void StatusPrinter::print_line(const std::string& line) {
  line_.print_line(line);
  redraw();
}

void StatusPrinter::print_aside(const std::string& line) {
  // stdout and stderr are often the same terminal: the live line is cleared
  // so that the warning has a line of its own, and drawn again under it.
  const bool shown = line_.clear_live();
  err_.print_line(line);
  if (shown) redraw();
}

void StatusPrinter::redraw() {
  if (!line_.smart()) return;  // a log has no live line
  line_.print_live(format_progress(done_, total_, running_, failed_, elapsed_, remaining_));
}

void StatusPrinter::set_plan(const std::deque<Unit>& units, int shards) {
  time_left_.set_shards(shards);
  for (const Unit& u : units) time_left_.planned(u.id, u.predicted_seconds);
}

void StatusPrinter::unit_started(const UnitRecord& unit) {
  ++running_;
  time_left_.started(unit.id, unit.predicted, unit.start);
  update_time_left();
  redraw();
}

void StatusPrinter::unit_finished(const UnitRecord& unit) {
  if (running_ > 0 && unit.shard >= 0) --running_;
  ++done_;
  // A unit split because its command line was too long runs again as two:
  // neither passed nor failed.
  const bool split = unit.result == "split";
  time_left_.finished(unit.id, unit.end - unit.start, unit.shard >= 0 && !split);
  update_time_left();
  bool failed = unit.result != "passed" && !split;
  if (failed && unit.result != "not-run") ++failed_;
  std::string verdict = unit.result == "passed"    ? "PASS"
                        : unit.result == "not-run" ? "SKIP"
                        : split                    ? "SPLIT"
                                                   : "FAIL";
  std::string where = unit.shard >= 0 ? fmt::format("shard {}, {}", unit.shard,
                                                    format_seconds(unit.end - unit.start))
                                      : "not run";
  std::string counts = unit.testcases > 0 ? fmt::format(", {} test{}", unit.testcases,
                                                        unit.testcases == 1 ? "" : "s")
                                          : "";
  std::string line =
      fmt::format("[{}/{}] {} {} ({}{})", done_, total_, paint(verdict, result_color(unit.result)),
                  unit.label, where, counts);
  if ((failed || split) && !unit.note.empty()) line += ": " + unit.note;
  // In smart mode passing units only move the live line; in dumb mode every
  // unit gets its line.
  if (!line_.smart() || failed || split) print_line(line);
  if (failed && unit.shard >= 0 && options_.tail_lines > 0) {
    std::string tail = read_tail(unit.log, options_.tail_lines, options_.tail_bytes);
    print_line(paint(fmt::format("FAILED: {} (log {})", unit.label, unit.log), kBold));
    if (!tail.empty()) print_line(tail);
  }
  redraw();
}

void StatusPrinter::tick(double elapsed, std::optional<double> remaining) {
  elapsed_ = elapsed;
  own_estimate_ = !remaining;
  remaining_ = remaining ? *remaining : time_left_.remaining(elapsed);
  redraw();
}

void StatusPrinter::update_time_left() {
  // Without this the last unit's end would leave "~0:09 left" on the line
  // until the next tick.
  if (own_estimate_) remaining_ = time_left_.remaining(elapsed_);
}

void StatusPrinter::message(const std::string& text) {
  print_line(text);
}

void StatusPrinter::warning(const std::string& text) {
  print_aside("shardrun: warning: " + text);
}

void StatusPrinter::note(const std::string& text) {
  print_aside("shardrun: " + text);
}

void StatusPrinter::summary(const RunSummary& s) {
  line_.end_live();  // the summary is plain lines
  std::vector<int> units(s.shards, 0), tests(s.shards, 0), failures(s.shards, 0);
  for (const UnitRecord& u : s.units) {
    if (u.shard < 0 || u.shard >= s.shards) continue;
    units[u.shard] += 1;
    tests[u.shard] += u.testcases;
    failures[u.shard] += u.failures;
  }
  print_line("");
  print_line(fmt::format("{:>5}  {:>5}  {:>6}  {:>6}  {:>8}  {}", "shard", "units", "tests",
                         "failed", "busy", ""));
  for (int i = 0; i < s.shards; ++i) {
    double busy =
        i < static_cast<int>(s.shard_reports.size()) ? s.shard_reports[i].busy_seconds : 0;
    bool problem = i < static_cast<int>(s.shard_reports.size()) && s.shard_reports[i].problem;
    print_line(fmt::format("{:>5}  {:>5}  {:>6}  {:>6}  {:>8}  {}", i, units[i], tests[i],
                           failures[i], format_seconds(busy), problem ? "(shard problem)" : ""));
  }
  Balance b = compute_balance(s.units, s.shards);
  if (b.lower_bound > 0)
    print_line(fmt::format(
        "balance: makespan {} vs lower bound {} = max(sum {} / {} shards, longest {}): {:.2f}",
        format_seconds(b.makespan), format_seconds(b.lower_bound), format_seconds(b.sum), s.shards,
        format_seconds(b.longest), b.ratio));
  for (const std::string& p : s.problems) print_line(paint("problem: " + p, kRed));
  if (!s.flaky.empty()) {
    print_line(paint(fmt::format("flaky: {} test{} passed on a retry:", s.flaky.size(),
                                 s.flaky.size() == 1 ? "" : "s"),
                     kYellow));
    // A long list would bury the totals; run.json has all of them.
    constexpr std::size_t kShown = 20;
    for (std::size_t i = 0; i < s.flaky.size() && i < kShown; ++i) {
      const FlakyTest& f = s.flaky[i];
      print_line(fmt::format("  {}: {} (failed {} time{} first)", f.entry, f.test,
                             f.failed_attempts, f.failed_attempts == 1 ? "" : "s"));
    }
    if (s.flaky.size() > kShown)
      print_line(fmt::format("  ... and {} more (see run.json)", s.flaky.size() - kShown));
  }
  bool ok = s.failures == 0 && s.errors == 0 && s.exit_code == 0;
  std::string flaky = s.flaky.empty() ? "" : fmt::format(", {} flaky", s.flaky.size());
  print_line(fmt::format("{}: {} tests, {} failed, {} errors, {} skipped{} in {} ({} shards)",
                         paint(ok ? "PASSED" : "FAILED", ok ? kGreen : kRed), s.tests, s.failures,
                         s.errors, s.skipped, flaky, format_seconds(s.elapsed), s.shards));
  print_line(fmt::format("report: {}  run: {}", s.report.string(), s.run_dir.string()));
  if (!s.timeline.empty()) print_line(fmt::format("timeline: {}", s.timeline.string()));
}

}  // namespace shardrun
