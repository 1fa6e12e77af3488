// `shardrun timeline RUN_DIR... [-o FILE]`: the page of earlier runs.
#include <fmt/format.h>

#include <filesystem>

#include "shardrun/app.hpp"
#include "shardrun/error.hpp"
#include "shardrun/timeline.hpp"

namespace shardrun {

namespace fs = std::filesystem;

int run_timeline(const Options& options) {
  for (const fs::path& run : options.timeline_runs) {
    std::error_code ec;
    fs::path file = fs::is_directory(run, ec) ? run / "run.json" : run;
    if (!fs::is_regular_file(file, ec))
      throw UsageError(
          fmt::format("timeline: {}: no run.json there (give run directories)", run.string()));
  }
  // One run: beside its run.json, as a run writes it; several: here.
  fs::path out = options.timeline_output.value_or(
      options.timeline_runs.size() == 1 && fs::is_directory(options.timeline_runs.front())
          ? options.timeline_runs.front() / "timeline.html"
          : fs::path("timeline.html"));
  write_timeline(out, options.timeline_runs);
  fmt::print("timeline: {}\n", out.string());
  return 0;
}

}  // namespace shardrun
