#include "shardrun/discovery.hpp"

#include <regex>
#include <unordered_map>
#include <unordered_set>

namespace shardrun {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool looks_like_summary(std::string_view line) {
  static const std::regex summary(
      R"(^(\d+ tests? collected.*|no tests (ran|collected).*|=+ .* =+|=+|-+|warnings summary.*|\d+ (passed|failed|errors?|deselected|skipped).*)$)",
      std::regex::icase);
  return std::regex_match(line.begin(), line.end(), summary);
}

/// "pkg/test_a.py::TestX::test_y[1]" -> "pkg.test_a.TestX" + "test_y[1]" as
/// pytest's junitxml writes them.
std::string pytest_key(std::string_view id) {
  std::size_t sep = id.find("::");
  if (sep == std::string_view::npos) return std::string(id);
  std::string path(id.substr(0, sep));
  if (path.size() > 3 && path.compare(path.size() - 3, 3, ".py") == 0) path.resize(path.size() - 3);
  for (char& c : path)
    if (c == '/') c = '.';
  std::string rest(id.substr(sep + 2));
  std::size_t last = rest.rfind("::");
  std::string classname = path;
  std::string name = rest;
  if (last != std::string::npos) {
    std::string classes = rest.substr(0, last);
    for (std::size_t p; (p = classes.find("::")) != std::string::npos;) classes.replace(p, 2, ".");
    classname += "." + classes;
    name = rest.substr(last + 2);
  }
  return classname + "\n" + name;
}

}  // namespace

std::vector<std::string> parse_test_ids(std::string_view output) {
  std::vector<std::string> ids;
  std::unordered_set<std::string> seen;
  while (!output.empty()) {
    std::size_t end = output.find('\n');
    std::string_view line = trim(output.substr(0, end));
    output = end == std::string_view::npos ? std::string_view() : output.substr(end + 1);
    if (line.empty()) {
      if (!ids.empty()) break;  // pytest: ids, a blank line, then its summary
      continue;
    }
    if (looks_like_summary(line)) continue;
    std::string id(line);
    if (seen.insert(id).second) ids.push_back(std::move(id));
  }
  return ids;
}

std::vector<double> match_case_times(const std::vector<std::string>& ids,
                                     const std::vector<junit::CaseSummary>& cases) {
  std::unordered_map<std::string, double> by_key;
  for (const junit::CaseSummary& c : cases) {
    by_key.emplace(c.classname + "\n" + c.name, c.time);
    by_key.emplace(c.name, c.time);
  }
  std::vector<double> times;
  times.reserve(ids.size());
  for (const std::string& id : ids) {
    auto it = by_key.find(pytest_key(id));
    if (it == by_key.end()) it = by_key.find(id);
    times.push_back(it == by_key.end() ? -1.0 : it->second);
  }
  return times;
}

}  // namespace shardrun
