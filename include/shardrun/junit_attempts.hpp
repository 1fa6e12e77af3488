#pragma once
// Retries in the report (DESIGN §8 rule 9): one testcase per test, Surefire
// style. A unit's JUnit is read into an editable UnitResults before anything
// of it is written; the caller leaves out the failing testcases that will be
// re-run (keeping only a bounded Attempt of each), and writes the attempt
// that counts with the earlier ones as children: <flakyFailure>/<flakyError>
// when it passed, <rerunFailure>/<rerunError> when it failed again.

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "shardrun/junit.hpp"

namespace shardrun::junit {

/// How much of a text is kept: its last `lines` lines, and at most `bytes`
/// of them.
struct TextLimit {
  std::size_t lines = 80;
  std::size_t bytes = 80 * 1024;
};

/// The end of `text` within `limit` (a trailing newline does not count as a
/// line). Never splits a UTF-8 sequence at the cut.
std::string tail_text(std::string_view text, TextLimit limit);

/// One failed or errored attempt of a test, as remembered until its last
/// attempt is known. Texts are bounded by the TextLimit they were taken with.
struct Attempt {
  Outcome outcome = Outcome::kFailed;  ///< kFailed or kErrored
  std::string classname;               ///< the attempt's testcase, as written
  std::string name;
  double time = 0;
  std::string message;  ///< of its <failure>/<error>
  std::string type;
  std::string text;  ///< the body of its <failure>/<error> (a stack trace)
  std::string system_out;
  std::string system_err;
};

/// The testcase that stands for a test whose last attempt left no testcase
/// of its own (its retry never ran): that attempt as a <failure>/<error>.
SyntheticCase case_of(const Attempt& attempt);

/// One unit's results, parsed and editable until they are added to a report.
class UnitResults {
 public:
  /// Reads a JUnit file; !ok() (with error()) when it is missing, empty or
  /// invalid, with the same messages as ReportWriter::add_file.
  static UnitResults read_file(const std::filesystem::path& path);
  static UnitResults read_buffer(std::string_view xml);
  /// A suite of testcases shardrun made itself (a crash, a missing report).
  static UnitResults synthetic(const std::string& suite_name,
                               const std::vector<SyntheticCase>& cases);

  UnitResults(UnitResults&&) noexcept;
  UnitResults& operator=(UnitResults&&) noexcept;
  ~UnitResults();

  bool ok() const;
  const std::string& error() const;

  /// Every <testcase> element, in document order (suites pre-order), counted
  /// as the report counts them (error > failure > skipped > passed). Suite-level
  /// errors are not listed here: they are written as they are.
  const std::vector<CaseSummary>& cases() const;

  /// Case `i` as an attempt: its first <error> (else <failure>), system-out
  /// and system-err, texts cut to `limit`.
  Attempt attempt(std::size_t i, TextLimit limit) const;

  /// Leaves case `i` out of the report. A <testsuite> left with nothing to
  /// report (no testcase, no suite-level error, no nested suite) goes too.
  void drop(std::size_t i);

  /// Appends `earlier` (oldest first) to case `i` as <flakyFailure>/<flakyError>
  /// when the case did not fail, as <rerunFailure>/<rerunError> when it did;
  /// each with message and type attributes and <stackTrace>, <system-out>,
  /// <system-err> children where there is text.
  void add_earlier(std::size_t i, const std::vector<Attempt>& earlier);

  /// Adds what is left to `report` under `label`. Returns the testcases
  /// written (as ReportWriter::add_buffer does); nothing is written when
  /// every case was dropped. Must be called at most once.
  AddResult add_to(ReportWriter& report, const SuiteLabel& label);

 private:
  UnitResults();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace shardrun::junit
