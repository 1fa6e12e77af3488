#pragma once
// The bookkeeping of retries and crash isolation (DESIGN §8 rule 9; issue 5):
// which failed tests wait for another attempt, what is kept of their failed
// attempts, how a crashed batch is split, and how the extra units are
// labelled. Pure: RunListener does the reading and writing; which testcase
// reports which test id is the entry's framework's (frameworks.hpp).

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "shardrun/junit.hpp"
#include "shardrun/junit_attempts.hpp"

namespace shardrun::results {

/// A test that failed and waits for its next attempt.
struct HeldTest {
  std::size_t entry = 0;
  /// For people: its test id, or "classname.name" for an entry without discover.
  std::string test;
  std::vector<junit::Attempt> attempts;  ///< its failed attempts so far, oldest first
};

/// The failed tests waiting for a retry, by key. Only failing tests are
/// held, each with bounded texts, so memory stays small however large the
/// run.
class RetryBook {
 public:
  /// A test of an entry with discover is its id; a testcase of an entry
  /// without discover (re-run whole) is its classname and name.
  static std::string id_key(std::size_t entry, std::string_view id);
  static std::string case_key(std::size_t entry, std::string_view classname, std::string_view name);

  /// Adds a failed attempt of the test `key` (held from now on).
  void hold(const std::string& key, std::size_t entry, const std::string& test,
            junit::Attempt attempt);
  const HeldTest* find(const std::string& key) const;
  /// Forgets the test and returns what was held (nullopt if nothing).
  std::optional<HeldTest> release(const std::string& key);
  /// The keys held for an entry, in key order.
  std::vector<std::string> keys_of(std::size_t entry) const;
  std::size_t size() const { return held_.size(); }
  bool empty() const { return held_.empty(); }

 private:
  std::map<std::string, HeldTest> held_;  // ordered: what is flushed comes out the same each run
};

/// Crash isolation: the first half (the larger one when the count is odd)
/// and the second half of `ids`, order kept.
std::pair<std::vector<std::string>, std::vector<std::string>> split_halves(
    const std::vector<std::string>& ids);

/// "api#3" -> "api#3.retry1"; a label that already ends in ".retryN" gets
/// its number replaced: "api#3.retry1" -> "api#3.retry2".
std::string retry_label(const std::string& label, int attempt);
/// "api#3" -> "api#3.a" (half 0) / "api#3.b" (half 1).
std::string half_label(const std::string& label, int half);

}  // namespace shardrun::results
