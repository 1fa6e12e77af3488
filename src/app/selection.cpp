// Choosing what runs: `shardrun SUITE ENTRY...` and `--list`.
#include <fmt/format.h>

#include <algorithm>

#include "app_internal.hpp"
#include "shardrun/error.hpp"

namespace shardrun::app {

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

}  // namespace shardrun::app
