#pragma once
// What a ReportWriter remembers between inputs (DESIGN §8 rule 11): the body
// file the suites stream into, the totals and one 64-bit hash per testcase
// for duplicate warnings. No DOM lives here.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "output_file.hpp"
#include "shardrun/junit.hpp"

namespace shardrun::junit::detail {

/// Duplicate classname+name pairs listed by name before only a count is kept.
inline constexpr std::size_t kMaxDuplicateWarnings = 20;

class ReportState {
 public:
  /// Creates the anonymous body file in the folder of `output`.
  explicit ReportState(const std::filesystem::path& output);

  OutputFile& body() { return body_; }

  /// Adds one written testcase to the totals and checks it for duplicates.
  /// `millis` is the case's time exactly as written.
  void record_case(const CaseSummary& summary, std::uint64_t millis);

  const Totals& totals() const { return totals_; }
  const std::vector<std::string>& warnings() const { return warnings_; }

  /// Writes root + body to a temporary file beside `output`, fsyncs and
  /// renames it over `output`.
  void commit(const std::filesystem::path& output, const std::string& report_name);

 private:
  OutputFile body_;
  Totals totals_;
  std::uint64_t total_millis_ = 0;  // exact; totals_.time is derived from it
  // Hashes of classname+name seen so far, for the duplicate warning: a
  // small hash set of recent ones, folded now and then into one sorted
  // vector (8 bytes a testcase, against ~50 for a hash set of them all).
  bool seen_before(std::uint64_t hash);
  std::unordered_set<std::uint64_t> recent_hashes_;
  std::vector<std::uint64_t> sorted_hashes_;
  std::uint64_t duplicates_ = 0;
  std::vector<std::string> warnings_;
};

}  // namespace shardrun::junit::detail
