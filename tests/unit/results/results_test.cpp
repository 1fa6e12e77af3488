// The result policy's whole outcome table, from facts alone: no processes,
// no files, no report.
#include <catch2/catch.hpp>

#include "shardrun/results.hpp"

using namespace shardrun;
using namespace shardrun::results;

namespace {

ExitStatus exited(int code) {
  ExitStatus st;
  st.code = code;
  return st;
}

ExitStatus signaled(int sig) {
  ExitStatus st;
  st.kind = ExitStatus::Kind::kSignaled;
  st.signal = sig;
  return st;
}

// A unit of three test ids whose command writes JUnit.
Finished unit_of_three(ExitStatus st) {
  Finished f;
  f.label = "api#3";
  f.tests = {"t.py::a", "t.py::b", "t.py::c"};
  f.status = std::move(st);
  f.junit_expected = true;
  f.junit_ok = true;
  f.junit_path = "/run/junit/003-api.xml";
  return f;
}

}  // namespace

TEST_CASE("passed: the JUnit's testcases stand, nothing is made up or queued") {
  Finished f = unit_of_three(exited(0));
  Decision d = decide(f);
  CHECK_FALSE(d.synthesized);
  CHECK_FALSE(d.halves);
  CHECK(d.note.empty());
  CHECK(result_of(f, d, 0) == Result::kPassed);
  // Exit 0 with a failing testcase in the report: failed.
  CHECK(result_of(f, d, 1) == Result::kFailed);
}

TEST_CASE("failed: a failing testcase and exit 1 is the tests' failure, retried when allowed") {
  Finished f = unit_of_three(exited(1));
  f.any_case_failed = true;
  f.retries = 2;
  Decision d = decide(f);
  CHECK(d.note == "exit status 1");
  CHECK_FALSE(d.synthesized);
  CHECK(d.may_retry);
  CHECK(result_of(f, d, 1) == Result::kFailed);
  f.attempt = 2;  // the last attempt
  CHECK_FALSE(decide(f).may_retry);
}

TEST_CASE("exit 1 with a report that shows no failure: every test errored, never retried") {
  Finished f = unit_of_three(exited(1));
  f.retries = 1;
  Decision d = decide(f);
  REQUIRE(d.synthesized);
  CHECK(d.synthesized->at_once);
  CHECK(d.synthesized->type == "shardrun.exit-status");
  CHECK(d.synthesized->outcome == junit::Outcome::kErrored);
  CHECK(d.synthesized->ids == f.tests);
  CHECK(d.note == "exit status 1, but its JUnit XML shows no failure");
  CHECK(result_of(f, d, 3) == Result::kFailed);
}

TEST_CASE("a unit that found no tests (pytest's 5): passed with a note, nothing made up") {
  Finished f = unit_of_three(exited(5));
  f.found_no_tests = true;
  f.missing = f.tests;
  Decision d = decide(f);
  CHECK_FALSE(d.synthesized);
  CHECK_FALSE(d.halves);
  CHECK(d.note == "exit status 5: no tests collected in this unit's files");
  CHECK(result_of(f, d, 0) == Result::kPassed);
  // Without the framework's word, exit 5 and an empty report is a failure.
  f.found_no_tests = false;
  Decision plain = decide(f);
  REQUIRE(plain.synthesized);
  CHECK(plain.synthesized->type == "shardrun.exit-status");
  CHECK(result_of(f, plain, 3) == Result::kFailed);
}

TEST_CASE("crashed with several tests without a result: they are isolated in halves") {
  Finished f = unit_of_three(signaled(11));
  f.missing = {"t.py::b", "t.py::c"};
  Decision d = decide(f);
  REQUIRE(d.halves);
  CHECK(d.halves->ids == f.missing);
  REQUIRE(d.halves->origin);
  CHECK(d.halves->origin->role == "isolation");
  CHECK(d.halves->origin->crashed == "api#3");
  CHECK(d.halves->origin->how == "killed by signal 11 (SIGSEGV)");
  CHECK(d.isolating == f.missing);
  CHECK_FALSE(d.synthesized);
  CHECK(d.note ==
        "killed by signal 11 (SIGSEGV); its 2 tests without a result run again in halves to find "
        "the one that caused it");
  CHECK(result_of(f, d, 0) == Result::kError);
}

TEST_CASE("an isolation half that crashes with one test left names it, with the first crash") {
  Finished f = unit_of_three(signaled(11));
  f.origin = Origin{"isolation", "api#1", "killed by signal 11 (SIGSEGV)"};
  f.missing = {"t.py::c"};
  Decision d = decide(f);
  CHECK_FALSE(d.halves);
  REQUIRE(d.synthesized);
  CHECK(d.synthesized->ids == std::vector<std::string>{"t.py::c"});
  CHECK(d.synthesized->type == "shardrun.crash");
  CHECK(d.synthesized->with_tail);
  CHECK(d.note ==
        "killed by signal 11 (SIGSEGV) (isolated from api#1, which ended: killed by signal 11 "
        "(SIGSEGV)); no result for t.py::c");
  // A further isolation keeps the first crash as its origin.
  f.missing = {"t.py::b", "t.py::c"};
  Decision again = decide(f);
  REQUIRE(again.halves);
  CHECK(again.halves->origin->crashed == "api#1");
}

TEST_CASE("timed out: a crash too, and its result says timeout") {
  ExitStatus st = signaled(15);
  st.timed_out = true;
  Finished f = unit_of_three(st);
  f.missing = {"t.py::a", "t.py::b", "t.py::c"};
  Decision d = decide(f);
  REQUIRE(d.halves);
  CHECK(result_of(f, d, 0) == Result::kTimeout);
}

TEST_CASE("garbled JUnit: every test errored with the reader's error") {
  Finished f = unit_of_three(exited(1));
  f.junit_ok = false;
  f.junit_error = "not well-formed at offset 12";
  f.tests = {"t.py::a"};
  f.missing = f.tests;
  Decision d = decide(f);
  REQUIRE(d.synthesized);
  CHECK(d.synthesized->type == "shardrun.junit");
  CHECK_FALSE(d.synthesized->at_once);
  CHECK(d.note == "exit status 1; JUnit XML /run/junit/003-api.xml: not well-formed at offset 12");
}

TEST_CASE("no JUnit expected: one testcase per id from the exit status") {
  Finished f;
  f.label = "lint";
  f.status = exited(0);
  Decision d = decide(f);
  REQUIRE(d.synthesized);
  CHECK(d.synthesized->outcome == junit::Outcome::kPassed);
  CHECK(d.synthesized->message.empty());
  CHECK_FALSE(d.synthesized->with_tail);
  CHECK(result_of(f, d, 0) == Result::kPassed);

  f.status = exited(2);
  d = decide(f);
  CHECK(d.synthesized->outcome == junit::Outcome::kFailed);
  CHECK(d.synthesized->type == "shardrun.exit-status");
  CHECK(d.synthesized->with_tail);
  CHECK(result_of(f, d, 1) == Result::kFailed);

  f.status = signaled(9);
  d = decide(f);
  CHECK(d.synthesized->outcome == junit::Outcome::kErrored);
  CHECK(result_of(f, d, 1) == Result::kError);
}

TEST_CASE("interrupted or stopped by shardrun: no crash, no retry") {
  ExitStatus st = signaled(15);
  st.interrupted = true;
  Finished f = unit_of_three(st);
  f.retries = 3;
  f.missing = f.tests;
  f.junit_ok = false;
  Decision d = decide(f);
  CHECK_FALSE(d.halves);
  CHECK_FALSE(d.may_retry);
  CHECK(result_of(f, d, 3) == Result::kInterrupted);

  Finished stopped = unit_of_three(signaled(15));
  stopped.stopped_because = "service app died";
  stopped.retries = 3;
  stopped.missing = stopped.tests;
  stopped.junit_ok = false;
  Decision s = decide(stopped);
  CHECK_FALSE(s.halves);
  CHECK_FALSE(s.may_retry);
  CHECK(s.outcome_text == "service app died; the unit was stopped: killed by signal 15 (SIGTERM)");
}

TEST_CASE("could not start for E2BIG: split in halves that keep the unit's origin") {
  ExitStatus st;
  st.kind = ExitStatus::Kind::kSpawnFailed;
  st.error = "cannot run '/bin/sh': Argument list too long";
  Finished f = unit_of_three(st);
  f.origin = Origin{"retry", "", ""};
  Decision d = decide(f);
  REQUIRE(d.halves);
  CHECK(d.halves->ids == f.tests);
  REQUIRE(d.halves->origin);
  CHECK(d.halves->origin->role == "retry");
  CHECK(result_of(f, d, 0) == Result::kSplit);
  CHECK(std::string(to_string(Result::kSplit)) == "split");

  // One test cannot be split: it is an error like any spawn failure.
  f.tests = {"t.py::a"};
  f.missing = f.tests;
  f.junit_ok = false;
  Decision one = decide(f);
  CHECK_FALSE(one.halves);
  CHECK(result_of(f, one, 1) == Result::kError);
}

TEST_CASE("a run's exit status: interrupt, then infrastructure, then failed tests, then flaky") {
  RunEnd end;
  CHECK(exit_status(end) == 0);
  end.flaky = 2;
  CHECK(exit_status(end) == 0);
  end.fail_on_flaky = true;
  CHECK(exit_status(end) == 1);
  end = RunEnd{};
  end.stopped_by_failures = true;
  CHECK(exit_status(end) == 1);
  end.failing_tests = 3;
  CHECK(exit_status(end) == 1);
  end.problems = true;
  CHECK(exit_status(end) == 3);
  end.interrupted = true;
  CHECK(exit_status(end) == 130);  // signal unknown: SIGINT's
  end.signal = 15;
  CHECK(exit_status(end) == 143);
  end.signal = 1;
  CHECK(exit_status(end) == 129);
}

TEST_CASE("the error of an entry without tests says how many units found none") {
  CHECK(no_tests_message(1).find("none of this entry's 1 unit found a test") != std::string::npos);
  CHECK(no_tests_message(3).find("none of this entry's 3 units found a test") != std::string::npos);
  CHECK(std::string(kNoTestsType) == "shardrun.no-tests");
}
