// Choosing what runs: `shardrun SUITE ENTRY...`, `--last-failed` and `--list`.
#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "shardrun/error.hpp"
#include "shardrun/frameworks.hpp"
#include "shardrun/selection.hpp"

namespace shardrun {

namespace fs = std::filesystem;

bool is_run_id(const std::string& name) {
  static const std::regex run_id(R"(\d{8}-\d{6}-\d+)");
  return std::regex_match(name, run_id);
}

std::optional<LastFailed> read_last_failed(const fs::path& runs_dir) {
  // Run ids start with a sortable time stamp ("20261202-184500-123"); the
  // newest one with a readable run.json is the last run.
  std::vector<std::pair<std::string, fs::path>> runs;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(runs_dir, ec)) {
    std::string name = e.path().filename().string();
    if (is_run_id(name) && fs::exists(e.path() / "run.json", ec))
      runs.emplace_back(name.substr(0, 15), e.path());
  }
  std::sort(runs.begin(), runs.end(), [&](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first > b.first;
    return fs::last_write_time(a.second / "run.json", ec) >
           fs::last_write_time(b.second / "run.json", ec);
  });
  for (const auto& [stamp, dir] : runs) {
    try {
      std::ifstream in(dir / "run.json");
      nlohmann::json j = nlohmann::json::parse(in);
      LastFailed last;
      last.run_id = dir.filename().string();
      for (const nlohmann::json& u : j.at("units")) {
        std::vector<junit::CaseSummary>& cases = last.by_entry[u.at("entry").get<std::string>()];
        if (!u.contains("failed_cases")) continue;
        for (const nlohmann::json& c : u.at("failed_cases")) {
          junit::CaseSummary s;
          s.classname = c.at("classname").get<std::string>();
          s.name = c.at("name").get<std::string>();
          s.outcome = junit::Outcome::kFailed;
          cases.push_back(std::move(s));
        }
      }
      return last;
    } catch (const std::exception&) {
      continue;  // a run killed while writing it, or another tool's: the one before
    }
  }
  return std::nullopt;
}

std::size_t keep_last_failed(const Suite& suite, std::vector<PlanEntry>& entries,
                             const LastFailed& last) {
  std::size_t left = 0;
  std::erase_if(entries, [&](PlanEntry& p) {
    const Entry& entry = suite.tests.at(p.entry);
    auto it = last.by_entry.find(entry.name);
    if (it == last.by_entry.end() || it->second.empty()) return true;
    if (!p.discovered) {
      ++left;
      return false;
    }
    std::vector<bool> keep(p.ids.size(), false);
    for (long owner : frameworks::framework_for(entry).id_of_cases(p.ids, it->second))
      if (owner >= 0) keep[static_cast<std::size_t>(owner)] = true;
    std::vector<std::string> ids;
    std::vector<double> weights;
    for (std::size_t i = 0; i < p.ids.size(); ++i) {
      if (!keep[i]) continue;
      ids.push_back(std::move(p.ids[i]));
      if (p.id_weights.size() == keep.size()) weights.push_back(p.id_weights[i]);
    }
    p.ids = std::move(ids);
    p.id_weights = std::move(weights);
    left += p.ids.size();
    return p.ids.empty();
  });
  return left;
}

void select_entries(Suite& suite, const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    auto known = [&](const Entry& e) { return e.name == name; };
    if (std::none_of(suite.tests.begin(), suite.tests.end(), known)) {
      std::vector<std::string> all;
      for (const Entry& e : suite.tests) all.push_back(e.name);
      throw UsageError(fmt::format("no entry '{}' in {} (its entries: {})", name,
                                   suite.file.string(), fmt::join(all, ", ")));
    }
  }
  std::erase_if(suite.tests, [&](const Entry& e) {
    return std::find(names.begin(), names.end(), e.name) == names.end();
  });
}

std::string format_list(const Suite& suite, const std::vector<PlanEntry>& entries) {
  std::string out;
  for (const PlanEntry& p : entries) {
    const Entry& e = suite.tests.at(p.entry);
    if (!p.discovered) {
      out += fmt::format("{}: no test ids (runs as one unit)\n", e.name);
      continue;
    }
    const char* kind = e.files.empty() ? "test ids" : "test files";
    out += fmt::format("{}: {} {}\n", e.name, p.ids.size(), kind);
    for (const std::string& id : p.ids) out += fmt::format("  {}\n", id);
  }
  return out;
}

}  // namespace shardrun
