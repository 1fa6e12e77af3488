#include "shardrun/discovery.hpp"

#include <fnmatch.h>

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
    // "A::B" -> ".A.B", built char by char: GCC 12 warns falsely
    // (-Wrestrict) on string::replace and on "." + x here.
    classname += '.';
    for (std::size_t i = 0; i < last;) {
      if (rest.compare(i, 2, "::") == 0) {
        classname += '.';
        i += 2;
      } else {
        classname += rest[i++];
      }
    }
    name = rest.substr(last + 2);
  }
  classname.append("\n").append(name);
  return classname;
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

namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    std::size_t slash = path.find('/');
    std::string_view part = path.substr(0, slash);
    if (!part.empty() && part != ".") parts.push_back(part);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return parts;
}

// "pkg/tests/test_a.py" -> {"pkg", "tests", "test_a"}: a test file's module
// path as pytest's JUnit classname spells it (without the rootdir part).
std::vector<std::string> module_parts(std::string_view file) {
  if (file.size() > 3 && file.substr(file.size() - 3) == ".py") file.remove_suffix(3);
  std::vector<std::string_view> parts = split_path(file);
  return {parts.begin(), parts.end()};
}

std::string join_dots(const std::vector<std::string>& parts, std::size_t first, std::size_t last) {
  std::string out;
  for (std::size_t i = first; i < last; ++i) {
    if (i > first) out += '.';
    out += parts[i];
  }
  return out;
}

}  // namespace

std::vector<long> id_of_cases(const std::vector<std::string>& ids,
                              const std::vector<junit::CaseSummary>& cases) {
  std::vector<long> found(cases.size(), -1);
  // Node ids: one testcase each, by match_case_times' keys.
  std::unordered_map<std::string, long> by_key;
  // Test files: every dotted tail of the module path, so that a classname
  // written relative to another rootdir still finds its file; a tail two
  // files share (-2) says nothing.
  std::unordered_map<std::string, long> by_module;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const std::string& id = ids[i];
    if (id.find("::") != std::string::npos) {
      by_key.emplace(pytest_key(id), static_cast<long>(i));
      continue;
    }
    by_key.emplace(id, static_cast<long>(i));
    std::vector<std::string> parts = module_parts(id);
    for (std::size_t first = 0; first < parts.size(); ++first) {
      auto [at, added] = by_module.emplace(join_dots(parts, first, parts.size()), i);
      if (!added && at->second != static_cast<long>(i)) at->second = -2;
    }
  }
  for (std::size_t c = 0; c < cases.size(); ++c) {
    const junit::CaseSummary& tc = cases[c];
    if (auto it = by_key.find(tc.classname + "\n" + tc.name); it != by_key.end()) {
      found[c] = it->second;
      continue;
    }
    if (auto it = by_key.find(tc.name); it != by_key.end()) {
      found[c] = it->second;
      continue;
    }
    if (by_module.empty()) continue;
    // "x.pkg.tests.test_a.TestX": the longest leading part that ends in a
    // file's module path (its tail), tried from the longest.
    std::vector<std::string> parts = module_parts(tc.classname);
    std::vector<std::string> dotted;
    for (std::string& p : parts) {  // classnames use '.', not '/'
      std::size_t start = 0;
      for (std::size_t dot; (dot = p.find('.', start)) != std::string::npos; start = dot + 1)
        dotted.push_back(p.substr(start, dot - start));
      dotted.push_back(p.substr(start));
    }
    for (std::size_t last = dotted.size(); last > 0 && found[c] < 0; --last)
      for (std::size_t first = 0; first < last; ++first) {
        auto it = by_module.find(join_dots(dotted, first, last));
        if (it != by_module.end() && it->second >= 0) {
          found[c] = it->second;
          break;
        }
      }
  }
  return found;
}

namespace {
bool match_from(const std::vector<std::string_view>& pattern, std::size_t i,
                const std::vector<std::string_view>& path, std::size_t j) {
  if (i == pattern.size()) return j == path.size();
  if (pattern[i] == "**") {
    for (std::size_t k = j; k <= path.size(); ++k)
      if (match_from(pattern, i + 1, path, k)) return true;
    return false;
  }
  if (j == path.size()) return false;
  std::string p(pattern[i]), name(path[j]);
  return fnmatch(p.c_str(), name.c_str(), FNM_PERIOD) == 0 &&
         match_from(pattern, i + 1, path, j + 1);
}
}  // namespace

bool glob_match(std::string_view pattern, std::string_view path) {
  return match_from(split_path(pattern), 0, split_path(path), 0);
}

std::uint64_t fnv1a(std::string_view data, std::uint64_t seed) {
  std::uint64_t h = seed;
  for (unsigned char c : data) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

}  // namespace shardrun
