#pragma once
// The HTML timeline of one or more runs (DESIGN §6): one self-contained page
// made from run.json, no network, no external script or font. One row per
// shard with a bar per unit and the shard's resource, setup and teardown
// spans; the critical path marked; totals and balance above.

#include <filesystem>
#include <string>
#include <vector>

namespace shardrun {

/// What decided a run's makespan: the shard that ended last and its units,
/// which ran back to back on it (a dynamic queue leaves no gap on that shard).
struct CriticalPath {
  int shard = -1;                  ///< -1: nothing ran
  std::vector<std::size_t> units;  ///< unit ids on it, in start order
  double end = 0;                  ///< when its last unit ended
};

/// The critical path of a run, from its run.json text.
CriticalPath critical_path(const std::string& run_json);

/// The page for the runs (their run.json texts, shown top to bottom on one
/// time scale). Throws Error when a text is not a run.json.
std::string render_timeline(const std::vector<std::string>& run_jsons);

/// Reads `<dir>/run.json` of each run directory (or a run.json file given
/// itself) and writes the page to `out` atomically. Throws Error.
void write_timeline(const std::filesystem::path& out,
                    const std::vector<std::filesystem::path>& runs);

}  // namespace shardrun
