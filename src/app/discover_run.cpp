#include <fmt/format.h>

#include <map>

#include "app_internal.hpp"
#include "shardrun/discovery.hpp"
#include "shardrun/error.hpp"
#include "shardrun/status.hpp"

namespace shardrun::app {

std::vector<PlanEntry> discover_entries(const Suite& suite, const JobBuilder& jobs,
                                        CommandRunner& runner, const InterruptSource& interrupts,
                                        const std::string& shown_file) {
  std::vector<PlanEntry> entries(suite.tests.size());
  std::map<std::uint64_t, std::size_t> running;  // child -> entry
  for (std::size_t i = 0; i < suite.tests.size(); ++i) {
    entries[i].entry = i;
    entries[i].name = suite.tests[i].name;
    entries[i].discovered = suite.tests[i].discover.has_value();
    if (entries[i].discovered) running[runner.start(jobs.discover(i))] = i;
  }
  std::optional<SuiteError> failure;
  int seen = interrupts.count();
  while (!running.empty()) {
    std::optional<Completion> done = runner.wait(Millis(100));
    if (interrupts.count() > seen) {
      seen = interrupts.count();
      runner.stop_all(true);
    }
    if (!done) continue;
    std::size_t i = running.at(done->id);
    running.erase(done->id);
    const Entry& entry = suite.tests[i];
    ProcessSpec spec = jobs.discover(i);
    std::string output = read_tail(spec.log, 1u << 30, 64u << 20);
    if (!done->status.success() && !failure) {
      failure =
          SuiteError(shown_file, entry.discover->where.line, entry.discover->where.column,
                     fmt::format("discover command of '{}' failed ({}); its output:\n{}",
                                 entry.name, done->status.describe(), read_tail(spec.log, 40)));
      continue;
    }
    entries[i].ids = parse_test_ids(output);
    if (entries[i].ids.empty() && !failure)
      failure =
          SuiteError(shown_file, entry.discover->where.line, entry.discover->where.column,
                     fmt::format("discover command of '{}' printed no test ids; its output:\n{}",
                                 entry.name, read_tail(spec.log, 40)));
  }
  if (interrupts.count() > 0)
    throw Error("interrupted during discovery",
                interrupts.last_signal() == 15 ? ExitCode::kTerminated : ExitCode::kInterrupted);
  if (failure) throw *failure;
  return entries;
}

}  // namespace shardrun::app
