#pragma once
// Reading, normalising and merging JUnit XML (DESIGN §8). pugixml is used only
// in src/junit/. The merged report is streamed: each input's DOM lives only
// while that input is being added, so memory is bounded by the largest input.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace shardrun::junit {

enum class Outcome { kPassed, kFailed, kErrored, kSkipped };

/// One testcase as counted in the report (after rule 3: failure wins over skipped).
struct CaseSummary {
  std::string classname;
  std::string name;  ///< as written: a missing or repeated name is replaced
  double time = 0;   ///< seconds
  Outcome outcome = Outcome::kPassed;
};

struct Totals {
  std::uint64_t tests = 0;
  std::uint64_t failures = 0;
  std::uint64_t errors = 0;
  std::uint64_t skipped = 0;
  double time = 0;
};

/// How the suites taken from one input are labelled in the merged report.
/// Nothing here may depend on the shard, the unit or the run (DESIGN §8
/// rule 4): a test's identity is suite name + classname + name, and it must
/// be the same at any worker count, on any CI node and on a retry.
struct SuiteLabel {
  /// The entry whose unit wrote this input. Every suite name taken from the
  /// input becomes "<its name> [<entry>]" ("pytest [api]"), or the entry
  /// alone when the input's suite has no name. Empty: names stay as they are.
  std::string entry;
  /// <property name= value=> added to each suite (e.g. "shardrun.shard" = "2").
  std::vector<std::pair<std::string, std::string>> properties;
  /// The timestamp of suites whose input has none (a nested suite without
  /// one takes its parent's first): the unit's start. Unset: such suites get
  /// none, except synthetic ones, which get the time they are written.
  std::optional<std::chrono::system_clock::time_point> started;
};

/// A testcase shardrun makes itself (a unit without {junit}, or with missing
/// or broken XML, a crash, a timeout ...).
struct SyntheticCase {
  std::string classname;
  std::string name;
  Outcome outcome = Outcome::kErrored;
  double time = 0;
  std::string message;  ///< the message attribute of <failure>/<error>/<skipped>
  std::string type;     ///< type attribute, e.g. "shardrun.crash"
  std::string text;     ///< body of <failure>/<error>, after the message (e.g. the log tail)
  std::string system_out;
};

/// A failed or errored testcase as the report wrote it, for CI summaries
/// and annotations. Only the first kKeptFailedCases are kept (see
/// ReportWriter::failed_cases), so memory stays bounded (rule 11).
struct FailedCase {
  std::string entry;  ///< SuiteLabel::entry of the input it came from ("": none)
  std::string classname;
  std::string name;  ///< as written
  Outcome outcome = Outcome::kFailed;
  /// Its message attribute as written (rule 7), cut to kFailedMessageBytes.
  std::string message;
  /// The testcase's `file` attribute as written (pytest's xunit1 has it,
  /// relative to pytest's rootdir); empty when it has none.
  std::string file;
  /// The line that failed: from the last "<file>:<N>: " line of the result's
  /// body (pytest's traceback ends with one), else the `line` attribute as
  /// written; 0 when neither is there.
  long line = 0;
};
inline constexpr std::size_t kKeptFailedCases = 500;
inline constexpr std::size_t kFailedMessageBytes = 1024;

/// What reading one input produced.
struct AddResult {
  bool ok = false;    ///< false: the file was missing/empty/invalid; nothing was added
  std::string error;  ///< why not ok, e.g. "no such file", "line 3: unexpected end of file"
  std::vector<CaseSummary> cases;  ///< the testcases added, in document order
};

/// Streams a merged report: one <testsuites> root with flat <testsuite>
/// children, counts recomputed from the testcases, text sanitised to XML 1.0,
/// one result element per testcase (DESIGN §8).
class ReportWriter {
 public:
  /// `output` is where commit() will put the report; nothing is written there
  /// before commit(). Throws Error if the temporary body cannot be created.
  explicit ReportWriter(std::filesystem::path output, std::string report_name = "shardrun");
  ~ReportWriter();
  ReportWriter(const ReportWriter&) = delete;
  ReportWriter& operator=(const ReportWriter&) = delete;

  /// Reads a JUnit file (root <testsuite> or <testsuites>, nested suites
  /// hoisted) and appends its suites. Suite-level <error>/<failure> become
  /// real testcases (rule 8).
  AddResult add_file(const std::filesystem::path& input, const SuiteLabel& label);

  /// Same, from a buffer (for tests and fuzzing).
  AddResult add_buffer(std::string_view xml, const SuiteLabel& label);

  /// Appends one suite made of synthetic testcases.
  void add_synthetic_suite(const std::string& suite_name, const SuiteLabel& label,
                           const std::vector<SyntheticCase>& cases);

  /// Totals over everything added so far.
  const Totals& totals() const;

  /// The first kKeptFailedCases failed or errored testcases written, in
  /// the order they were written (retries applied: a flaky test is not here).
  const std::vector<FailedCase>& failed_cases() const;
  /// How many failed or errored testcases had both a file and a line (all
  /// of them, not only those kept).
  std::uint64_t located_failures() const;

  /// Human-readable warnings so far: testcases renamed because they had no
  /// name or repeated an identity (rules 7, 10), and suites whose declared
  /// counts do not match their testcases (rule 2). At most 20 of each kind
  /// are listed, then one line counts the rest.
  const std::vector<std::string>& warnings() const;

  /// Writes the report to a temporary file beside `output` and renames it
  /// over `output`. Throws Error (exit 3) on failure; an existing file at
  /// `output` is then left as it was.
  void commit();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Makes text safe for XML 1.0 as UTF-8: invalid byte sequences become
/// "\xNN", forbidden control characters "\x1B"-style visible text.
std::string sanitize_text(std::string_view text);

/// `shardrun merge -o OUT IN...`: merges arbitrary JUnit files. Inputs that
/// cannot be read become error testcases. Returns the totals.
Totals merge_files(const std::vector<std::filesystem::path>& inputs,
                   const std::filesystem::path& output, std::vector<std::string>* warnings);

}  // namespace shardrun::junit
