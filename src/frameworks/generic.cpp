// The generic adapter: a runner shardrun knows nothing about. Its discover
// command prints one id per line, and a testcase reports the id that is its
// name, as written.
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "lines.hpp"
#include "shardrun/frameworks.hpp"

namespace shardrun::frameworks {

namespace {

class Generic final : public Framework {
 public:
  std::string_view name() const override { return "generic"; }

  std::vector<std::string> parse_discover_output(std::string_view output) const override {
    std::vector<std::string> ids;
    std::unordered_set<std::string> seen;
    while (!output.empty()) {
      std::string id(next_line(output));
      if (!id.empty() && seen.insert(id).second) ids.push_back(std::move(id));
    }
    return ids;
  }

  std::vector<long> id_of_cases(const std::vector<std::string>& ids,
                                const std::vector<junit::CaseSummary>& cases) const override {
    std::unordered_map<std::string_view, long> by_id;
    for (std::size_t i = 0; i < ids.size(); ++i) by_id.emplace(ids[i], static_cast<long>(i));
    std::vector<long> found(cases.size(), -1);
    for (std::size_t c = 0; c < cases.size(); ++c)
      if (auto it = by_id.find(cases[c].name); it != by_id.end()) found[c] = it->second;
    return found;
  }

  std::vector<long> case_of_ids(const std::vector<std::string>& ids,
                                const std::vector<junit::CaseSummary>& cases) const override {
    std::unordered_map<std::string_view, long> by_name;  // the first testcase of a name
    for (std::size_t c = 0; c < cases.size(); ++c)
      by_name.emplace(cases[c].name, static_cast<long>(c));
    std::vector<long> index(ids.size(), -1);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      auto it = by_name.find(ids[i]);
      if (it == by_name.end() || it->second < 0) continue;
      index[i] = it->second;
      it->second = -1;  // two ids, one testcase: the first id has it
    }
    return index;
  }

  bool ids_may_be_files(const std::vector<std::string>& ids) const override { return !ids.empty(); }
};

}  // namespace

const Framework& generic() {
  static const Generic adapter;
  return adapter;
}

}  // namespace shardrun::frameworks
