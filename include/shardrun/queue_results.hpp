#pragma once
// What a node stores in the shared queue as a unit's result, and what
// `shardrun report` reads back (issue 11, part 3): a JSON text of the unit's
// facts (id, entry, tests, node, shard, times, prediction, result), read
// back field by field and never deserialised into objects, around a JUnit
// fragment of its testcases, texts cut to --output-limit, written by the
// report writer (so the text rules apply) and read through the same
// sanitising reader as any other JUnit input.

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "shardrun/junit.hpp"
#include "shardrun/junit_attempts.hpp"
#include "shardrun/queue.hpp"
#include "shardrun/status.hpp"
#include "shardrun/suite.hpp"
#include "shardrun/unit.hpp"

namespace shardrun {

/// Synthetic testcases as one JUnit document (through the report writer).
std::string render_fragment(const std::string& suite_name, const std::string& entry,
                            const std::vector<junit::SyntheticCase>& cases);

/// A finished unit's testcases as one JUnit document: those of its JUnit
/// file (`junit_path`), or made up from its record as the listener does;
/// texts cut to `limit`.
std::string unit_fragment(const Suite& suite, const std::filesystem::path& junit_path,
                          const UnitRecord* rec, const Unit& unit, junit::TextLimit limit);

/// What the queue stores as a unit's result: a JSON text {"shardrun_result":
/// 1, "unit": {id, label, entry, tests, attempt, role, node, shard,
/// start_epoch, end_epoch, actual_seconds, predicted_seconds, estimated,
/// result, note, found_no_tests, timings_ok, junit_cases}, "junit": FRAGMENT}. `rec` null:
/// what is known of the unit only.
std::string stored_result(const Suite& suite, const Unit& unit, const UnitRecord* rec,
                          const std::string& node, bool junit_cases, const std::string& fragment);

/// The stored result of a queued unit this node refused to run (`why`): one
/// error testcase "refused, not run: WHY".
std::string refused_result(const std::string& suite_name, const QueueUnit& unit,
                           const std::string& why, const std::string& node);

/// A stored result read back: `meta` the "unit" object (null when the text
/// is a bare JUnit fragment, as older nodes stored, or not ours), `junit`
/// the fragment (or the whole text, for the JUnit reader to judge).
struct StoredResult {
  nlohmann::json meta;
  std::string junit;
};
StoredResult read_stored_result(const std::string& text);

/// An entry of a shared run none of whose units found a test, and how many
/// units it had: every accepted result of the entry says found_no_tests,
/// and none of its units was lost or left unrun (`unsettled`: those ids),
/// since such a unit may have held its tests. A result without facts (an
/// older node's) or a refused one counts as having found tests.
struct EntryWithoutTests {
  std::string suite;
  std::string entry;
  std::size_t units = 0;
};
std::vector<EntryWithoutTests> entries_without_tests(const RedisQueue::Snapshot& snap,
                                                     const std::vector<std::size_t>& unsettled);

}  // namespace shardrun
