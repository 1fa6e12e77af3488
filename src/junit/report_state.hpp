#pragma once
// What a ReportWriter remembers between inputs (DESIGN §8 rule 11): the body
// file the suites stream into, the totals, one 64-bit hash per testcase
// identity for duplicates, the warnings, and the first kKeptFailedCases
// failed testcases for the CI output. No DOM lives here.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "shardrun/junit.hpp"
#include "shardrun/junit_identity_set.hpp"
#include "shardrun/junit_output_file.hpp"

namespace shardrun::junit::detail {

/// Warnings of one kind listed before only a count of the rest is kept.
inline constexpr std::size_t kMaxWarningsPerKind = 20;

enum class WarningKind {
  kDuplicate,  ///< a testcase repeated an identity and was renamed (rule 10)
  kUnnamed,    ///< a testcase without a name was given one (rule 7)
  kCounts,     ///< a suite declared counts its testcases do not show (rule 2)
};

class ReportState {
 public:
  /// Creates the anonymous body file in the folder of `output`.
  explicit ReportState(const std::filesystem::path& output);

  OutputFile& body() { return body_; }

  /// The name a testcase is written under (all three already sanitised):
  /// `name`, or, when a testcase with this suite name, classname and name
  /// (its identity, rule 4) was written before, the first free "name (2)",
  /// "name (3)" ..., with a warning. The result is reserved.
  std::string claim_case_name(std::string_view suite, std::string_view classname,
                              const std::string& name);

  /// Adds one written testcase to the totals. `millis` is its time exactly
  /// as written.
  void record_case(const CaseSummary& summary, std::uint64_t millis);

  /// The entry (SuiteLabel::entry) of the input being written, for the
  /// failed testcases noted while it is.
  void set_entry(std::string entry) { entry_ = std::move(entry); }
  /// Remembers a failed or errored testcase (the first kKeptFailedCases).
  void note_failure(FailedCase failed);
  const std::vector<FailedCase>& failed_cases() const { return failed_; }
  std::uint64_t located_failures() const { return located_; }

  /// Adds a warning; past kMaxWarningsPerKind of one kind, one line counts
  /// the rest of that kind.
  void warn(WarningKind kind, std::string text);

  const Totals& totals() const { return totals_; }
  const std::vector<std::string>& warnings() const { return warnings_; }

  /// Writes root + body to a temporary file beside `output`, fsyncs and
  /// renames it over `output`.
  void commit(const std::filesystem::path& output, const std::string& report_name);

 private:
  OutputFile body_;
  Totals totals_;
  std::uint64_t total_millis_ = 0;  // exact; totals_.time is derived from it
  // Hashes of the identities written so far.
  bool seen_before(std::uint64_t hash) { return identities_.insert_or_find(hash); }
  IdentitySet identities_;
  // Identity hash -> the next " (n)" to try, so that 10,000 copies of one
  // testcase cost linear time. Holds repeated identities only.
  std::unordered_map<std::uint64_t, unsigned> next_copy_;

  struct KindCount {
    std::uint64_t count = 0;
    std::size_t summary_line = 0;  // index of the "... and N more" line
  };
  std::unordered_map<int, KindCount> kinds_;
  std::string entry_;
  std::vector<FailedCase> failed_;
  std::uint64_t located_ = 0;
  std::vector<std::string> warnings_;
};

}  // namespace shardrun::junit::detail
