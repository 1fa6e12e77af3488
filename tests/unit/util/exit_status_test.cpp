// ExitStatus decoding and wording, from synthesized wait(2) status words.

#include <catch2/catch.hpp>

#include "shardrun/process.hpp"

namespace shardrun {
namespace {

// The Linux/glibc encoding of wait statuses (as W_EXITCODE / W_STOPCODE do).
constexpr int exited(int code) {
  return (code & 0xff) << 8;
}
constexpr int signaled(int signal, bool core = false) {
  return signal | (core ? 0x80 : 0);
}
constexpr int stopped(int signal) {
  return (signal << 8) | 0x7f;
}

TEST_CASE("decode_wait_status: normal exits keep the code", "[exit_status]") {
  for (int code : {0, 1, 3, 9, 127, 255}) {
    CAPTURE(code);
    ExitStatus s = decode_wait_status(exited(code));
    CHECK(s.kind == ExitStatus::Kind::kExited);
    CHECK(s.code == code);
    CHECK(s.signal == 0);
    CHECK(s.error.empty());
  }
}

TEST_CASE("decode_wait_status: signal deaths keep the signal", "[exit_status]") {
  ExitStatus s = decode_wait_status(signaled(11));
  CHECK(s.kind == ExitStatus::Kind::kSignaled);
  CHECK(s.signal == 11);
  CHECK(s.code == 0);

  // `exit 9` and SIGKILL must not look alike (Boost's exit_code() mixes them).
  ExitStatus exit9 = decode_wait_status(exited(9));
  ExitStatus kill9 = decode_wait_status(signaled(9));
  CHECK(exit9.kind == ExitStatus::Kind::kExited);
  CHECK(kill9.kind == ExitStatus::Kind::kSignaled);
  CHECK(exit9.shell_code() == 9);
  CHECK(kill9.shell_code() == 137);
}

TEST_CASE("decode_wait_status: the core-dump bit does not change the signal", "[exit_status]") {
  ExitStatus s = decode_wait_status(signaled(6, /*core=*/true));
  CHECK(s.kind == ExitStatus::Kind::kSignaled);
  CHECK(s.signal == 6);
  CHECK(s.describe() == "killed by signal 6 (SIGABRT)");
}

TEST_CASE("decode_wait_status: a stopped status is reported, not mistaken", "[exit_status]") {
  ExitStatus s = decode_wait_status(stopped(19));
  CHECK(s.kind == ExitStatus::Kind::kExited);
  CHECK(s.code == 255);
  CHECK(s.error == "unexpected wait status 0x137f");
  CHECK_FALSE(s.success());
}

TEST_CASE("signal_name", "[exit_status]") {
  CHECK(signal_name(1) == "SIGHUP");
  CHECK(signal_name(2) == "SIGINT");
  CHECK(signal_name(9) == "SIGKILL");
  CHECK(signal_name(11) == "SIGSEGV");
  CHECK(signal_name(15) == "SIGTERM");
  CHECK(signal_name(31) == "SIGSYS");
  CHECK(signal_name(42) == "SIG42");
  CHECK(signal_name(0) == "SIG0");
  CHECK(signal_name(-3) == "SIG-3");
}

TEST_CASE("ExitStatus::describe", "[exit_status]") {
  CHECK(decode_wait_status(exited(0)).describe() == "exit status 0");
  CHECK(decode_wait_status(exited(3)).describe() == "exit status 3");
  CHECK(decode_wait_status(signaled(11)).describe() == "killed by signal 11 (SIGSEGV)");
  CHECK(decode_wait_status(signaled(64)).describe() == "killed by signal 64 (SIG64)");

  ExitStatus timed = decode_wait_status(signaled(15));
  timed.timed_out = true;
  CHECK(timed.describe() == "timed out (killed by signal 15 (SIGTERM))");

  ExitStatus timed_exit = decode_wait_status(exited(143));
  timed_exit.timed_out = true;
  CHECK(timed_exit.describe() == "timed out (exit status 143)");

  ExitStatus stopped_by_user = decode_wait_status(signaled(15));
  stopped_by_user.interrupted = true;
  CHECK(stopped_by_user.describe() == "interrupted (killed by signal 15 (SIGTERM))");

  // A timeout that came first stays the reported cause.
  ExitStatus both = decode_wait_status(signaled(9));
  both.timed_out = true;
  both.interrupted = true;
  CHECK(both.describe() == "timed out (killed by signal 9 (SIGKILL))");

  ExitStatus never;
  never.kind = ExitStatus::Kind::kSpawnFailed;
  never.error = "cannot run 'nosuchprog': No such file or directory";
  CHECK(never.describe() == "could not start: cannot run 'nosuchprog': No such file or directory");
}

TEST_CASE("ExitStatus::shell_code and success", "[exit_status]") {
  CHECK(decode_wait_status(exited(0)).shell_code() == 0);
  CHECK(decode_wait_status(exited(3)).shell_code() == 3);
  CHECK(decode_wait_status(signaled(2)).shell_code() == 130);
  CHECK(decode_wait_status(signaled(15)).shell_code() == 143);

  ExitStatus never;
  never.kind = ExitStatus::Kind::kSpawnFailed;
  CHECK(never.shell_code() == 127);
  CHECK_FALSE(never.success());

  CHECK(decode_wait_status(exited(0)).success());
  CHECK_FALSE(decode_wait_status(exited(1)).success());
  CHECK_FALSE(decode_wait_status(signaled(9)).success());

  // Exiting 0 after the timeout's SIGTERM is still a failure.
  ExitStatus late = decode_wait_status(exited(0));
  late.timed_out = true;
  CHECK_FALSE(late.success());
}

}  // namespace
}  // namespace shardrun
