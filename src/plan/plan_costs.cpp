// The cost model's pure parts (plan.hpp): what group a test id belongs to,
// how a finished unit's time divides into start-up and group loads, how far
// a run's predictions were off, and what `shardrun plan` shows of it.
#include <algorithm>
#include <cmath>
#include <set>

#include "shardrun/plan.hpp"

namespace shardrun {

namespace {
// A prior for a group's load when attributing: small against a start-up,
// but not zero, so that groups get a share before any was learned.
constexpr double kGroupPrior = 0.05;
}  // namespace

std::string group_of(std::string_view id, const std::regex* pattern) {
  if (pattern != nullptr) {
    std::match_results<std::string_view::const_iterator> m;
    if (std::regex_search(id.begin(), id.end(), m, *pattern) && m.size() > 1 && m[1].matched)
      return m[1].str();
  }
  return std::string(id.substr(0, id.find("::")));
}

std::vector<EntryCosts> describe_costs(const std::vector<PlanEntry>& entries,
                                       const Timings& timings) {
  std::vector<EntryCosts> out;
  for (const PlanEntry& entry : entries) {
    EntryCosts c;
    c.name = entry.name;
    c.startup = timings.startup(entry.name);
    c.group_median = timings.group_median(entry.name);
    c.error = timings.error(entry.name);
    std::optional<std::regex> pattern;
    if (!entry.group_pattern.empty()) pattern.emplace(entry.group_pattern);
    std::set<std::string> groups;
    for (const std::string& id : entry.ids) {
      std::string g = group_of(id, pattern ? &*pattern : nullptr);
      if (groups.insert(g).second && timings.group(entry.name, g)) ++c.groups_known;
      if (timings.test(entry.name, id)) ++c.tests_known;
    }
    c.groups = groups.size();
    c.tests = entry.ids.size();
    out.push_back(std::move(c));
  }
  return out;
}

CostSplit attribute_unit(const std::string& entry, double wall, double test_seconds,
                         const std::vector<std::string>& groups, const Timings& timings,
                         const PlanOptions& options, double startup_cap) {
  CostSplit split;
  double rest = std::max(0.0, wall - std::max(0.0, test_seconds));
  double startup_prior =
      timings.startup(entry).value_or(std::max(0.0, options.default_startup_seconds));
  double group_default = timings.group_median(entry).value_or(kGroupPrior);
  std::vector<double> priors;
  double group_sum = 0;
  for (const std::string& g : groups) {
    priors.push_back(timings.group(entry, g).value_or(group_default));
    group_sum += priors.back();
  }
  // Nothing known that says how to share: equally.
  double sum = startup_prior + group_sum;
  if (sum <= 0) {
    startup_prior = 1;
    priors.assign(groups.size(), 1.0);
    group_sum = static_cast<double>(groups.size());
    sum = startup_prior + group_sum;
  }
  split.startup = rest * startup_prior / sum;
  // Over the cap, the start-up's share goes to the groups, by their priors.
  double excess = groups.empty() ? 0 : std::max(0.0, split.startup - std::max(0.0, startup_cap));
  split.startup -= excess;
  for (std::size_t i = 0; i < groups.size(); ++i) {
    double share = group_sum > 0 ? priors[i] / group_sum : 1.0 / static_cast<double>(groups.size());
    split.group_loads.emplace_back(groups[i], rest * priors[i] / sum + excess * share);
  }
  return split;
}

std::optional<double> prediction_error(const std::vector<std::pair<double, double>>& units) {
  double predicted = 0, actual = 0;
  for (const auto& [p, a] : units) {
    if (!std::isfinite(p) || !std::isfinite(a) || p < 0 || a < 0) continue;
    predicted += p;
    actual += a;
  }
  if (predicted <= 0 || actual <= 0) return std::nullopt;
  double f = actual / predicted;
  double off = 0;
  for (const auto& [p, a] : units) {
    if (!std::isfinite(p) || !std::isfinite(a) || p < 0 || a < 0) continue;
    off += std::abs(a - f * p);
  }
  return off / actual;
}

}  // namespace shardrun
