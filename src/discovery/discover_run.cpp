#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <map>
#include <set>

#include "discovery_cache.hpp"
#include "shardrun/discovery.hpp"
#include "shardrun/discovery_interrupted.hpp"
#include "shardrun/error.hpp"
#include "shardrun/frameworks.hpp"
#include "shardrun/status.hpp"

namespace shardrun {

namespace fs = std::filesystem;

namespace {

// The leading folders of a pattern that hold no wildcard: where to walk.
fs::path fixed_prefix(const std::string& pattern) {
  fs::path prefix;
  std::string_view rest = pattern;
  while (true) {
    std::size_t slash = rest.find('/');
    if (slash == std::string_view::npos) break;
    std::string_view part = rest.substr(0, slash);
    if (part.find_first_of("*?[") != std::string_view::npos) break;
    prefix /= std::string(part);
    rest.remove_prefix(slash + 1);
  }
  return prefix;
}

}  // namespace

std::vector<std::string> list_files(const Entry& entry) {
  std::set<std::string> found;
  for (const std::string& pattern : entry.files) {
    std::error_code ec;
    fs::path base = entry.cwd / fixed_prefix(pattern);
    if (!fs::is_directory(base, ec)) continue;
    fs::recursive_directory_iterator it(base, fs::directory_options::skip_permission_denied, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (it->is_directory(ec)) {
        if (name == "__pycache__" || name == ".git" || name == "node_modules")
          it.disable_recursion_pending();
        continue;
      }
      if (!it->is_regular_file(ec)) continue;
      std::string rel = it->path().lexically_relative(entry.cwd).generic_string();
      if (glob_match(pattern, rel)) found.insert(std::move(rel));
    }
  }
  return {found.begin(), found.end()};
}

namespace {
// The size of each id as a file under `cwd`; empty unless all are files.
std::vector<double> file_sizes(const fs::path& cwd, const std::vector<std::string>& ids) {
  std::vector<double> sizes;
  sizes.reserve(ids.size());
  for (const std::string& id : ids) {
    std::error_code ec;
    auto size = fs::file_size(cwd / id, ec);
    if (ec) return {};  // not all files: no prior
    sizes.push_back(static_cast<double>(size));
  }
  return sizes;
}
}  // namespace

std::vector<PlanEntry> discover_entries(const Suite& suite, const JobBuilder& jobs,
                                        CommandRunner& runner, const InterruptSource& interrupts,
                                        const std::string& shown_file, const fs::path& cache_dir,
                                        const std::vector<fs::path>& own_paths) {
  std::vector<PlanEntry> entries(suite.tests.size());
  std::map<std::uint64_t, std::size_t> running;  // child -> entry
  DiscoveryCache cache(cache_dir);
  std::vector<std::optional<Manifest>> manifests(suite.tests.size());
  for (std::size_t i = 0; i < suite.tests.size(); ++i) {
    const Entry& entry = suite.tests[i];
    entries[i].entry = i;
    entries[i].name = entry.name;
    entries[i].discovered = entry.has_ids();
    entries[i].group_pattern = entry.group;
    if (!entry.files.empty()) entries[i].ids = list_files(entry);
    if (!entry.discover) continue;
    manifests[i] = DiscoveryCache::stamp(suite, entry, own_paths);
    if (manifests[i]) {
      if (auto ids = cache.lookup(entry, *manifests[i])) {
        entries[i].ids = std::move(*ids);
        manifests[i].reset();
        continue;
      }
    }
    running[runner.start(jobs.discover(i))] = i;
  }
  // While discovery runs: hash what it may read, for the next run's lookup.
  for (std::size_t i = 0; i < manifests.size(); ++i)
    if (manifests[i] && interrupts.count() == 0)
      DiscoveryCache::hash_contents(suite.tests[i], *manifests[i]);
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
    entries[i].ids = frameworks::framework_for(entry).parse_discover_output(output);
    if (manifests[i]) cache.store(entry, *manifests[i], entries[i].ids);
    if (entries[i].ids.empty() && !failure)
      failure =
          SuiteError(shown_file, entry.discover->where.line, entry.discover->where.column,
                     fmt::format("discover command of '{}' printed no test ids; its output:\n{}",
                                 entry.name, read_tail(spec.log, 40)));
  }
  if (interrupts.count() > 0) {
    // Entries without ids (stopped, failed, or never started) become plain
    // entries: one unit each, reported as not run.
    for (PlanEntry& e : entries)
      if (e.ids.empty()) e.discovered = false;
    throw DiscoveryInterrupted(interrupts.last_signal() > 0 ? interrupts.last_signal() : SIGINT,
                               std::move(entries));
  }
  if (failure) throw *failure;
  // Ids that are files (`files`, or a discover command printing files) get
  // their sizes as the planner's prior for the ones it has no history of.
  for (std::size_t i = 0; i < entries.size(); ++i)
    if (frameworks::framework_for(suite.tests[i]).ids_may_be_files(entries[i].ids))
      entries[i].id_weights = file_sizes(suite.tests[i].cwd, entries[i].ids);
  return entries;
}

}  // namespace shardrun
