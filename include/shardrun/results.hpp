#pragma once
// The result policy (DESIGN §3 "Results", §8 rule 9): what a finished unit
// means, decided from facts alone. No files, no processes, no report: the
// run's listener gathers the facts (the completion, the unit's JUnit read
// once, the unit's origin), asks decide(), and carries the decision out
// (writes testcases, holds failed tests for a retry, queues units).

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "shardrun/junit.hpp"
#include "shardrun/process.hpp"
#include "shardrun/unit.hpp"

namespace shardrun {
struct Entry;  // suite.hpp
}  // namespace shardrun

namespace shardrun::results {

/// A testcase that counts against the run (and --max-failures).
inline bool failing(junit::Outcome outcome) {
  return outcome == junit::Outcome::kFailed || outcome == junit::Outcome::kErrored;
}

/// What a unit's run record says of it.
enum class Result { kPassed, kFailed, kError, kTimeout, kInterrupted, kSplit };

/// "passed", "failed", "error", "timeout", "interrupted", "split".
const char* to_string(Result result);

/// Why a unit that the run queued itself exists (carried in the unit).
using Origin = UnitOrigin;

/// What is known of a finished unit.
struct Finished {
  std::string label;               ///< the unit's label, "api#3"
  std::vector<std::string> tests;  ///< its test ids (empty: the whole entry)
  int attempt = 0;
  int retries = 0;  ///< the entry's retries
  std::optional<Origin> origin;
  ExitStatus status;
  std::string stopped_because;  ///< set when the scheduler stopped it (a service died)
  bool junit_expected = false;  ///< the command writes {junit}, or a file is there
  bool junit_ok = false;        ///< ... and it was read
  std::string junit_path;
  std::string junit_error;
  bool any_case_failed = false;  ///< a testcase of the JUnit failed or errored
  /// The runner found no test in the unit, and said so by its exit status
  /// alone (pytest's 5 with an empty report): not a failure.
  bool found_no_tests = false;
  std::vector<std::string> missing;  ///< test ids without a testcase (all, without JUnit)
};

/// Testcases shardrun makes up for tests that have none of their own.
struct Synthesized {
  std::vector<std::string> ids;  ///< one testcase each; empty: one for the unit
  junit::Outcome outcome = junit::Outcome::kErrored;
  std::string message;
  std::string type;        ///< "shardrun.crash", "shardrun.junit", "shardrun.exit-status"
  bool with_tail = false;  ///< the body is the outcome and the unit's log tail
  bool at_once = false;    ///< written now, never held for a retry
};

/// Test ids to run again as two halves of the same attempt.
struct Halves {
  std::vector<std::string> ids;
  std::optional<Origin> origin;  ///< what the halves are (kept from the unit when it had one)
};

struct Decision {
  /// The unit's outcome in words ("exit status 1"; "...; the unit was
  /// stopped: ..."), the first part of every note and log-tail body.
  std::string outcome_text;
  std::string note;  ///< for the run record; the retry's words are added later
  std::optional<Halves> halves;
  std::optional<Synthesized> synthesized;
  /// Failed tests may be held for another attempt.
  bool may_retry = false;
  /// The tests being isolated (held tests among them are not orphans).
  std::vector<std::string> isolating;
  /// Set when the result does not depend on the testcases written.
  std::optional<Result> result;
};

/// The decision for a finished unit (the outcome table is in results.cpp
/// and tests/unit/results/).
Decision decide(const Finished& unit);

/// The type and message of the error testcase for an entry none of whose
/// `units` found a test (each exited as Finished::found_no_tests): one
/// pytest run of all its files would have failed ("no tests collected"), so
/// the run fails too. Written by a run that saw every unit of the plan, or by
/// `shardrun report` for a shared queue's run.
inline constexpr const char* kNoTestsType = "shardrun.no-tests";
std::string no_tests_message(std::size_t units);

/// The unit's result once its testcases are written: `failures` is how
/// many of them failed or errored.
Result result_of(const Finished& unit, const Decision& decision, int failures);

/// How a whole run ended, for its exit status.
struct RunEnd {
  bool interrupted = false;
  int signal = 0;         ///< the last interrupting signal (0: unknown, taken as SIGINT)
  bool problems = false;  ///< infrastructure problems, or the report could not be written
  int failing_tests = 0;  ///< failed and errored testcases in the report
  bool stopped_by_failures = false;
  std::size_t flaky = 0;  ///< tests that passed only on a retry
  bool fail_on_flaky = false;
};

/// DESIGN §7: 128 + the signal when interrupted; else 3 for infrastructure
/// problems; else 1 when tests failed (or --max-failures stopped the run,
/// or --fail-on-flaky and a test was flaky); else 0.
int exit_status(const RunEnd& end);

/// A command that could not start because its argument list (with the
/// environment) is over the kernel's limit: E2BIG.
bool too_long_to_start(const ExitStatus& status);

/// Fills in what a unit's testcases say (`cases`: those of its JUnit, empty
/// when it was not read): whether one failed, which of `f.tests` got no
/// testcase, as the entry's framework matches them (frameworks.hpp); all of
/// them unless `f.junit_ok` (case_facts.cpp); and whether the runner found
/// no test to run (read JUnit only).
void add_case_facts(Finished& f, const Entry& entry, const std::vector<junit::CaseSummary>& cases);

}  // namespace shardrun::results
