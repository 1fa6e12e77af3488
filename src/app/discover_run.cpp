#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "app_internal.hpp"
#include "discovery_interrupted.hpp"
#include "shardrun/discovery.hpp"
#include "shardrun/error.hpp"
#include "shardrun/status.hpp"

namespace shardrun::app {

namespace fs = std::filesystem;

namespace {

// The cache key of an entry's discovery: its command, cwd and suite env, and
// the paths and contents of the files its discover_inputs match. Not the
// whole environment: CI sets per-job variables that would defeat the cache.
std::optional<std::string> input_key(const Suite& suite, const Entry& entry) {
  if (entry.discover_inputs.empty()) return std::nullopt;
  std::vector<std::string> files;
  std::error_code ec;
  fs::recursive_directory_iterator it(entry.cwd, fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (it->is_directory(ec)) {
      if (name == ".git" || name == ".shardrun" || name == "__pycache__" || name == "node_modules")
        it.disable_recursion_pending();
      continue;
    }
    std::string rel = it->path().lexically_relative(entry.cwd).generic_string();
    for (const std::string& pattern : entry.discover_inputs)
      if (glob_match(pattern, rel)) {
        files.push_back(rel);
        break;
      }
  }
  if (ec) return std::nullopt;  // cannot tell what changed: no cache
  std::sort(files.begin(), files.end());
  std::uint64_t h = fnv1a(entry.discover->display());
  h = fnv1a(entry.cwd.string() + '\0', h);
  for (const auto& [name, value] : suite.env) h = fnv1a(name + '=' + value + '\0', h);
  std::vector<char> buffer(1 << 16);
  for (const std::string& file : files) {
    h = fnv1a(file + '\0', h);
    std::ifstream in(entry.cwd / file, std::ios::binary);
    while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount() > 0)
      h = fnv1a(std::string_view(buffer.data(), static_cast<std::size_t>(in.gcount())), h);
  }
  return fmt::format("{:016x}-{}", h, files.size());
}

fs::path cache_file(const fs::path& cache_dir, const Entry& entry) {
  return cache_dir / (entry.name + ".json");
}

std::optional<std::vector<std::string>> cached_ids(const fs::path& file, const std::string& key) {
  std::ifstream in(file);
  if (!in) return std::nullopt;
  try {
    nlohmann::json j = nlohmann::json::parse(in);
    if (j.at("key").get<std::string>() != key) return std::nullopt;
    return j.at("ids").get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;  // a damaged cache is a miss
  }
}

void store_ids(const fs::path& file, const std::string& key, const std::vector<std::string>& ids) {
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  fs::path tmp = file;
  tmp += fmt::format(".tmp.{}", ::getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << nlohmann::json{{"key", key}, {"ids", ids}}.dump(
        0, ' ', false, nlohmann::json::error_handler_t::replace);
    if (!out.flush()) return;  // the cache is an optimisation: never fail the run for it
  }
  fs::rename(tmp, file, ec);
  if (ec) fs::remove(tmp, ec);
}

}  // namespace

std::vector<PlanEntry> discover_entries(const Suite& suite, const JobBuilder& jobs,
                                        CommandRunner& runner, const InterruptSource& interrupts,
                                        const std::string& shown_file, const fs::path& cache_dir,
                                        Timings* timings) {
  std::vector<PlanEntry> entries(suite.tests.size());
  std::map<std::uint64_t, std::size_t> running;  // child -> entry
  std::vector<std::optional<std::string>> keys(suite.tests.size());
  for (std::size_t i = 0; i < suite.tests.size(); ++i) {
    entries[i].entry = i;
    entries[i].name = suite.tests[i].name;
    entries[i].discovered = suite.tests[i].discover.has_value();
    if (!entries[i].discovered) continue;
    keys[i] = input_key(suite, suite.tests[i]);
    if (keys[i]) {
      if (auto ids = cached_ids(cache_file(cache_dir, suite.tests[i]), *keys[i])) {
        entries[i].ids = std::move(*ids);
        continue;
      }
    }
    running[runner.start(jobs.discover(i))] = i;
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
    if (timings && !timings->startup(entry.name))
      timings->record_unit(entry.name,
                           std::chrono::duration<double>(done->ended - done->started).count(), 0);
    if (keys[i] && !entries[i].ids.empty())
      store_ids(cache_file(cache_dir, entry), *keys[i], entries[i].ids);
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
  return entries;
}

}  // namespace shardrun::app
