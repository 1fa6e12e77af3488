// The outcome table of a finished unit. Each row, in the order checked:
//
//   could not start, E2BIG, 2+ tests   split: its tests run again in halves
//   crashed, 2+ tests without a result crash isolation: those run again in halves
//   crashed, JUnit read, 1 test left   that test errored (shardrun.crash)
//   JUnit expected, unreadable         every test errored (shardrun.junit)
//   JUnit read, the runner found no
//     test (pytest: 5, no testcase)    passed, with a note (files without tests)
//   JUnit read, command failed, but no
//     failing testcase                 every test errored (shardrun.exit-status),
//                                      written at once: never retried
//   JUnit read                         its testcases stand
//   no JUnit                           a testcase per test id from the exit status
//
// "Crashed": killed by a signal, timed out, or failed without readable JUnit
// where JUnit was expected; a unit shardrun stopped (interrupt, a service
// died) or that never started has not crashed.
#include "shardrun/results.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>

#include <fmt/format.h>

#include "shardrun/error.hpp"

namespace shardrun::results {

namespace {

bool crashed(const Finished& unit) {
  const ExitStatus& st = unit.status;
  if (st.interrupted || !unit.stopped_because.empty() || st.kind == ExitStatus::Kind::kSpawnFailed)
    return false;
  if (st.kind == ExitStatus::Kind::kSignaled || st.timed_out) return true;
  return unit.junit_expected && !unit.junit_ok && !st.success();
}

Result from_status(const ExitStatus& st) {
  if (st.timed_out) return Result::kTimeout;
  if (st.interrupted) return Result::kInterrupted;
  if (st.kind != ExitStatus::Kind::kExited) return Result::kError;
  return st.code == 0 ? Result::kPassed : Result::kFailed;
}

Synthesized made_up(std::vector<std::string> ids, junit::Outcome outcome, std::string message,
                    std::string type) {
  Synthesized s;
  s.ids = std::move(ids);
  s.outcome = outcome;
  s.message = std::move(message);
  s.type = std::move(type);
  s.with_tail = true;
  return s;
}

// The rows after "crashed": what the unit's JUnit (or its exit status)
// says of its tests.
void decide_reported(const Finished& unit, Decision& d) {
  const ExitStatus& st = unit.status;
  if (unit.junit_expected && !unit.junit_ok) {
    d.note = fmt::format("{}; JUnit XML {}: {}", d.outcome_text, unit.junit_path, unit.junit_error);
    d.synthesized = made_up(unit.tests, junit::Outcome::kErrored, d.note, "shardrun.junit");
  } else if (unit.junit_expected) {
    if (unit.found_no_tests) {
      // pytest's "no tests collected" for a unit shardrun made: its files
      // hold no test (or the command deselects them all), which a run of
      // the whole suite would not fail on. An entry none of whose units
      // found a test fails the run (RunListener::finish).
      d.note = fmt::format("{}: no tests collected in this unit's files", d.outcome_text);
    } else if (!st.success() && !unit.any_case_failed) {
      // The command failed but its report shows no failure: still a failure,
      // of the command rather than of a test, so it is never retried.
      d.note = fmt::format("{}, but its JUnit XML shows no failure", d.outcome_text);
      d.synthesized = made_up(unit.tests, junit::Outcome::kErrored, d.note, "shardrun.exit-status");
      d.synthesized->at_once = true;
    } else if (!st.success()) {
      d.note = d.outcome_text;
    }
  } else if (st.success()) {
    // No {junit}: one testcase per test id (or for the unit), from the exit status.
    d.synthesized = Synthesized{unit.tests, junit::Outcome::kPassed, "", "", false, false};
  } else {
    const bool failed = st.kind == ExitStatus::Kind::kExited && !st.timed_out && !st.interrupted;
    d.note = d.outcome_text;
    d.synthesized = made_up(unit.tests, failed ? junit::Outcome::kFailed : junit::Outcome::kErrored,
                            d.note, "shardrun.exit-status");
  }
}

}  // namespace

std::string no_tests_message(std::size_t units) {
  return fmt::format(
      "no tests collected: none of this entry's {} unit{} found a test to run (exit status 5 in "
      "each), as one pytest run of all its files would have said",
      units, units == 1 ? "" : "s");
}

const char* to_string(Result result) {
  switch (result) {
    case Result::kPassed:
      return "passed";
    case Result::kFailed:
      return "failed";
    case Result::kError:
      return "error";
    case Result::kTimeout:
      return "timeout";
    case Result::kInterrupted:
      return "interrupted";
    case Result::kSplit:
      return "split";
  }
  return "error";
}

int exit_status(const RunEnd& end) {
  // 130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP: the shell's 128 + n.
  if (end.interrupted) return 128 + (end.signal > 0 ? end.signal : SIGINT);
  if (end.problems) return static_cast<int>(ExitCode::kInfra);
  if (end.failing_tests > 0 || end.stopped_by_failures)
    return static_cast<int>(ExitCode::kTestsFailed);
  if (end.fail_on_flaky && end.flaky > 0) return static_cast<int>(ExitCode::kTestsFailed);
  return 0;
}

bool too_long_to_start(const ExitStatus& status) {
  return status.kind == ExitStatus::Kind::kSpawnFailed &&
         status.error.find(std::strerror(E2BIG)) != std::string::npos;
}

Decision decide(const Finished& unit) {
  Decision d;
  const ExitStatus& st = unit.status;
  // A unit the scheduler stopped (its shard's service died) says why first.
  d.outcome_text = unit.stopped_because.empty() ? st.describe()
                                                : fmt::format("{}; the unit was stopped: {}",
                                                              unit.stopped_because, st.describe());
  if (too_long_to_start(st) && unit.tests.size() >= 2) {
    // The planner keeps units under this machine's limits, but the limits
    // can change under it (a bigger environment in a resource, another
    // kernel). Its tests are not failures; they have not run yet. The
    // halves keep the unit's role (a retry, an isolation).
    d.halves = Halves{unit.tests, unit.origin};
    d.note =
        fmt::format("{}; its {} tests run again in two halves", d.outcome_text, unit.tests.size());
    d.result = Result::kSplit;
    return d;
  }
  // Only a test's own failure earns a retry, not a stop by shardrun.
  d.may_retry = unit.attempt < unit.retries && !st.interrupted && unit.stopped_because.empty();
  const bool crash = crashed(unit);
  const bool isolation = unit.origin && unit.origin->role == "isolation";
  // A unit of an isolation that crashes with one test left: the culprit.
  if (isolation && crash && unit.missing.size() == 1)
    d.outcome_text +=
        fmt::format(" (isolated from {}, which ended: {})", unit.origin->crashed, unit.origin->how);
  if (crash && unit.missing.size() >= 2) {
    // Crash isolation: the tests without a result run again in halves (not
    // a retry: same attempt) until a unit of one test crashes.
    d.isolating = unit.missing;
    d.halves = Halves{unit.missing,
                      isolation ? *unit.origin : Origin{"isolation", unit.label, d.outcome_text}};
    d.note = fmt::format(
        "{}; its {} tests without a result run again in halves to find the one that caused it",
        d.outcome_text, unit.missing.size());
  } else if (crash && unit.junit_ok && !unit.missing.empty()) {
    // The one test without a result is the one that was running.
    d.note = fmt::format("{}; no result for {}", d.outcome_text, unit.missing.front());
    d.synthesized = made_up(unit.missing, junit::Outcome::kErrored, d.note, "shardrun.crash");
  } else {
    decide_reported(unit, d);
  }
  return d;
}

Result result_of(const Finished& unit, const Decision& decision, int failures) {
  if (decision.result) return *decision.result;
  const ExitStatus& st = unit.status;
  if (!unit.junit_expected) return from_status(st);
  if (st.success() || unit.found_no_tests) return failures == 0 ? Result::kPassed : Result::kFailed;
  return from_status(st);
}

}  // namespace shardrun::results
