#pragma once
// What a node trusts of the shared queue (issue 11, part 3): nothing it did
// not find itself. A queued unit names an entry and test ids; it becomes a
// local Unit only when the entry is in this node's suite and every id was
// discovered here for it, so that commands, env and cwd come only from the
// local YAML and `{tests}` quoting stays the only way an id reaches argv.
// And every node of a run must agree on the run's digest: the suite file's
// bytes and the discovered ids.

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

#include "shardrun/plan.hpp"
#include "shardrun/queue.hpp"
#include "shardrun/unit.hpp"

namespace shardrun {

/// This node's entries (by name, in suite order) and the test ids it
/// discovered for each.
struct KnownIds {
  std::unordered_map<std::string, std::size_t> entry_by_name;
  std::unordered_map<std::size_t, std::unordered_set<std::string>>
      ids;  ///< discovered entries only
};

/// `entry_names`: the suite's entries in order; `entries`: what discovery
/// found (an entry without discovery runs whole and takes no ids).
KnownIds known_ids(const std::vector<std::string>& entry_names,
                   const std::vector<PlanEntry>& entries);

/// The local unit for a queued one, or why it is refused: an entry not in
/// this suite, an entry without discovery given ids (or one with discovery
/// given none), an id not discovered here.
std::variant<Unit, std::string> validate_unit(const KnownIds& known, const QueueUnit& queued);

/// The run's digest (FNV-1a 64, hex) over the suite file's bytes and every
/// entry's name and discovered ids. A consistency check between nodes (a
/// different checkout, a test added on one node), not a security boundary:
/// units are validated one by one.
std::string run_digest(std::string_view suite_bytes, const std::vector<PlanEntry>& entries);

}  // namespace shardrun
