// What a node trusts of the shared queue (queue_trust.hpp).
#include "shardrun/queue_trust.hpp"

#include <fmt/format.h>

#include <cstdint>

namespace shardrun {

namespace {

void fnv(std::uint64_t& h, std::string_view bytes) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  h ^= 0xff;  // a separator no text has
  h *= 1099511628211ull;
}

}  // namespace

KnownIds known_ids(const std::vector<std::string>& entry_names,
                   const std::vector<PlanEntry>& entries) {
  KnownIds known;
  for (std::size_t i = 0; i < entry_names.size(); ++i)
    known.entry_by_name.emplace(entry_names[i], i);
  for (const PlanEntry& e : entries)
    if (e.discovered) known.ids[e.entry].insert(e.ids.begin(), e.ids.end());
  return known;
}

std::variant<Unit, std::string> validate_unit(const KnownIds& known, const QueueUnit& q) {
  auto entry = known.entry_by_name.find(q.entry);
  if (entry == known.entry_by_name.end())
    return fmt::format("entry '{}' is not in this node's suite", q.entry);
  auto ids = known.ids.find(entry->second);
  if (ids == known.ids.end() && !q.tests.empty())
    return fmt::format("entry '{}' has no test ids here, the unit names {}", q.entry,
                       q.tests.size());
  if (ids != known.ids.end()) {
    if (q.tests.empty()) return fmt::format("a unit of entry '{}' without test ids", q.entry);
    for (const std::string& id : q.tests)
      if (!ids->second.count(id))
        return fmt::format("test id '{}' was not discovered here for entry '{}'", id, q.entry);
  }
  Unit unit;
  unit.id = q.id;
  unit.entry = entry->second;
  unit.tests = q.tests;
  unit.predicted_seconds = q.predicted_seconds;
  unit.attempt = q.attempt;
  unit.label = fmt::format("{}#{}", q.entry, q.id);
  if (q.attempt > 0) unit.origin = UnitOrigin{"retry", {}, {}};
  return unit;
}

std::string run_digest(std::string_view suite_bytes, const std::vector<PlanEntry>& entries) {
  std::uint64_t h = 14695981039346656037ull;
  fnv(h, suite_bytes);
  for (const PlanEntry& e : entries) {
    fnv(h, e.name);
    for (const std::string& id : e.ids) fnv(h, id);
  }
  return fmt::format("{:016x}", h);
}

}  // namespace shardrun
