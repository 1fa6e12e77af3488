// The pytest adapter: `pytest --collect-only -q` output, node ids
// ("pkg/test_a.py::TestX::test_y[1]") and test files ("pkg/test_a.py"), and
// how pytest's junitxml names their testcases ("pkg.test_a.TestX" +
// "test_y[1]"). An id without "::" that names no file is a plain name: the
// testcase of that name reports it.
#include <regex>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "lines.hpp"
#include "shardrun/frameworks.hpp"
#include "shardrun/paths.hpp"

namespace shardrun::frameworks {

namespace {

bool looks_like_summary(std::string_view line) {
  static const std::regex summary(
      R"(^(\d+ tests? collected.*|no tests (ran|collected).*|=+ .* =+|=+|-+|warnings summary.*|\d+ (passed|failed|errors?|deselected|skipped).*)$)",
      std::regex::icase);
  return std::regex_match(line.begin(), line.end(), summary);
}

/// "pkg/test_a.py::TestX::test_y[1]" -> "pkg.test_a.TestX" + "\n" +
/// "test_y[1]", as pytest's junitxml writes them; an id without "::" as it is.
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

/// The test file whose module path ends "x.pkg.tests.test_a.TestX" may
/// have: the longest leading part that is a file's module path (its tail),
/// tried from the longest. -1: none.
long file_of_classname(const std::string& classname,
                       const std::unordered_map<std::string, long>& by_module) {
  std::vector<std::string> dotted;
  for (std::string& p : module_parts(classname)) {  // classnames use '.', not '/'
    std::size_t start = 0;
    for (std::size_t dot; (dot = p.find('.', start)) != std::string::npos; start = dot + 1)
      dotted.push_back(p.substr(start, dot - start));
    dotted.push_back(p.substr(start));
  }
  for (std::size_t last = dotted.size(); last > 0; --last)
    for (std::size_t first = 0; first < last; ++first) {
      auto it = by_module.find(join_dots(dotted, first, last));
      if (it != by_module.end() && it->second >= 0) return it->second;
    }
  return -1;
}

class Pytest final : public Framework {
 public:
  std::string_view name() const override { return "pytest"; }

  /// Lines are trimmed; blank lines are skipped, and so is everything after
  /// a blank line that follows at least one id (pytest prints its summary
  /// after one); lines that look like a runner's summary are skipped ("N
  /// tests collected", "no tests ran", "=== ... ===" rules, "warnings
  /// summary").
  std::vector<std::string> parse_discover_output(std::string_view output) const override {
    std::vector<std::string> ids;
    std::unordered_set<std::string> seen;
    while (!output.empty()) {
      std::string_view line = next_line(output);
      if (line.empty()) {
        if (!ids.empty()) break;  // ids, a blank line, then its summary
        continue;
      }
      if (looks_like_summary(line)) continue;
      std::string id(line);
      if (seen.insert(id).second) ids.push_back(std::move(id));
    }
    return ids;
  }

  /// A node id has one testcase, by classname and name (or a testcase
  /// named as the id); an id without "::" that names a test file has every
  /// testcase whose classname is that file's module path ("a.test_x",
  /// "a.test_x.T"), also when pytest wrote the classname relative to
  /// another rootdir ("test_x.T", "proj.a.test_x").
  std::vector<long> id_of_cases(const std::vector<std::string>& ids,
                                const std::vector<junit::CaseSummary>& cases) const override {
    std::vector<long> found(cases.size(), -1);
    std::unordered_map<std::string, long> by_key;  // node ids: one testcase each
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
      } else if (auto named = by_key.find(tc.name); named != by_key.end()) {
        found[c] = named->second;
      } else if (!by_module.empty()) {
        found[c] = file_of_classname(tc.classname, by_module);
      }
    }
    return found;
  }

  /// A node id's testcase by its classname and name, else the testcase
  /// named as the id; the first testcase with that key.
  std::vector<long> case_of_ids(const std::vector<std::string>& ids,
                                const std::vector<junit::CaseSummary>& cases) const override {
    std::unordered_map<std::string, long> by_key;
    for (std::size_t c = 0; c < cases.size(); ++c) {
      by_key.emplace(cases[c].classname + "\n" + cases[c].name, static_cast<long>(c));
      by_key.emplace(cases[c].name, static_cast<long>(c));
    }
    std::vector<long> index(ids.size(), -1);
    std::vector<bool> taken(cases.size(), false);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      auto it = by_key.find(pytest_key(ids[i]));
      if (it == by_key.end()) it = by_key.find(ids[i]);
      if (it == by_key.end()) continue;
      const auto c = static_cast<std::size_t>(it->second);
      if (taken[c]) continue;  // two ids, one testcase: the first id has it
      taken[c] = true;
      index[i] = it->second;
    }
    return index;
  }

  /// Test files (`files`, or a discover command that prints files) have no
  /// "::"; node ids do.
  bool ids_may_be_files(const std::vector<std::string>& ids) const override {
    return !ids.empty() && ids.front().find("::") == std::string::npos;
  }

  /// pytest's ExitCode.NO_TESTS_COLLECTED (5): every id of the unit was
  /// collected and held no test, or -k/-m deselected them all (sympy's
  /// test_qs.py checks with module-level asserts and has no test function).
  /// Only with an empty report and from a command that names pytest:
  /// every entry gets this adapter today (framework_for), and for another
  /// runner 5 may mean something else.
  bool found_no_tests(const Entry& entry, int exit_code, std::size_t testcases) const override {
    if (exit_code != 5 || testcases != 0) return false;
    const std::string command = entry.command.display();
    return command.find("pytest") != std::string::npos ||
           command.find("py.test") != std::string::npos;
  }
};

}  // namespace

const Framework& pytest() {
  static const Pytest adapter;
  return adapter;
}

}  // namespace shardrun::frameworks
