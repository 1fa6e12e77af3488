#pragma once
// argv -> Options (CLI11 only here). No YAML, no processes.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "shardrun/process.hpp"

namespace shardrun {

struct Options {
  enum class Command { kRun, kMerge };
  Command command = Command::kRun;

  // run
  std::filesystem::path suite;
  std::optional<std::string> workers;  ///< "auto" or a positive number, as given
  std::filesystem::path junit = "shardrun-junit.xml";
  std::optional<std::filesystem::path> runs_dir;  ///< default: .shardrun/runs beside the suite
  Millis kill_grace{10000};
  int max_failures = 0;
  int keep_runs = 20;
  std::size_t tail_lines = 30;

  // merge
  std::filesystem::path merge_output;
  std::vector<std::filesystem::path> merge_inputs;
};

/// The result of parsing: options to act on, or text to print and exit 0
/// with (--help, --version).
struct CommandLine {
  Options options;
  std::optional<std::string> print_and_exit;
};

/// Throws UsageError (exit 2) for a bad command line.
CommandLine parse_command_line(int argc, const char* const* argv);

/// Workers from --workers, else the suite's `workers`, else the CPU count.
/// Throws UsageError for a bad value.
int resolve_workers(const std::optional<std::string>& flag, std::optional<int> suite_workers,
                    bool suite_auto, int cpus);

}  // namespace shardrun
