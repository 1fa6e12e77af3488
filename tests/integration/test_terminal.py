"""The terminal end to end: the built binary under a pseudo-terminal
(`script -qfec` from util-linux) gets the live status line; a pipe or
TERM=dumb gets one plain line per finished unit; NO_COLOR and FORCE_COLOR
switch colours off and on.
"""
import os
import re
import shlex
import shutil
import subprocess

import pytest

from conftest import BIN, FIXTURES

pytestmark = pytest.mark.skipif(shutil.which("script") is None, reason="needs script(1)")

CLEAR = b"\r\x1b[K"
LIVE = re.compile(rb"\r\x1b\[K\[(\d+)/(\d+)\] (\d+) running, (\d+) failed, \d+:\d\d elapsed")
UNIT_LINE = re.compile(r"^\[(\d+)/(\d+)\] (PASS|FAIL|SKIP) (\S+) \((shard \d+, [\d.]+s|not run)")

QUICK_SUITE = """\
version: 1
name: quick
tests:
  - name: one
    command: sleep 0.5
  - name: two
    command: sleep 0.5
  - name: three
    command: ["sleep", "0.5"]
  - name: four
    command: sleep 0.5
"""

FAILING_SUITE = """\
version: 1
name: failing
tests:
  - name: good
    command: sleep 0.3
  - name: bad
    command: "for i in $(seq 1 50); do echo log-line-$i; done; exit 3"
"""


def clean_env(**extra):
    """os.environ without the colour switches, plus `extra`."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("NO_COLOR", "FORCE_COLOR", "CLICOLOR_FORCE")}
    env.update(extra)
    return env


def write_suite(tmp_path, text, name="suite.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def command(tmp_path, suite, *args):
    return [str(BIN), "--junit", str(tmp_path / "report.xml"), "--runs-dir",
            str(tmp_path / "runs"), *map(str, args), str(suite)]


def run_pty(cmd, env, timeout=120):
    """Runs cmd with a pseudo-terminal as stdout; returns (exit code, bytes)."""
    proc = subprocess.run(["script", "-qfec", shlex.join(cmd), "/dev/null"],
                          stdin=subprocess.DEVNULL, capture_output=True, env=env,
                          timeout=timeout)
    return proc.returncode, proc.stdout


def run_pipe(cmd, env, timeout=120):
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, env=env,
                          timeout=timeout)
    return proc.returncode, proc.stdout


def unit_lines(text):
    return [m for m in map(UNIT_LINE.match, text.splitlines()) if m]


def assert_plain_unit_lines(out, names):
    """No escape sequence or carriage return; one line per unit, numbered 1..N."""
    assert b"\x1b" not in out
    assert b"\r" not in out.replace(b"\r\n", b"\n")
    lines = unit_lines(out.decode().replace("\r\n", "\n"))
    assert [int(m.group(1)) for m in lines] == list(range(1, len(names) + 1))
    assert {int(m.group(2)) for m in lines} == {len(names)}
    assert sorted(m.group(4) for m in lines) == sorted(names)
    return lines


def test_pty_shows_a_live_line_and_the_summary(tmp_path):
    suite = write_suite(tmp_path, QUICK_SUITE)
    code, out = run_pty(command(tmp_path, suite, "--workers", "2"), clean_env(TERM="xterm"))
    assert code == 0, out
    live = LIVE.findall(out)
    assert live, out
    assert {total for _, total, _, _ in live} == {b"4"}
    assert (b"0", b"4", b"2", b"0") in live  # both shards busy, nothing done yet
    assert (b"4", b"4", b"0", b"0") in live  # the last redraw before the summary
    # Passing units only move the live line: no permanent PASS lines.
    assert not re.search(rb"\] (\x1b\[32m)?PASS", out)
    # The summary starts after the live line is cleared, and has no live line in it.
    summary = out[out.rindex(CLEAR) + len(CLEAR):]
    assert b"\x1b[32mPASSED\x1b[0m: 4 tests, 0 failed, 0 errors, 0 skipped" in summary
    assert b"balance: makespan" in summary
    assert re.search(rb"\n +0 +2 +2 +0 ", summary)
    assert re.search(rb"\n +1 +2 +2 +0 ", summary)
    assert b"report: " + str(tmp_path / "report.xml").encode() in summary
    assert b"run: " + str(tmp_path / "runs").encode() in summary


def test_pty_failing_unit_gets_a_line_its_log_tail_and_red(tmp_path):
    suite = write_suite(tmp_path, FAILING_SUITE)
    code, out = run_pty(command(tmp_path, suite, "--workers", "2"), clean_env(TERM="xterm"))
    assert code == 1, out
    text = out.decode()
    assert re.search(r"\r\x1b\[K\[\d/2\] \x1b\[31mFAIL\x1b\[0m bad \(shard \d, [\d.]+s, 1 test\): "
                     r"exit status 3\r\n", text), text
    assert re.search(r"\x1b\[1mFAILED: bad \(log [^)]*/logs/001-bad\.log\)\x1b\[0m", text)
    assert "log-line-50\r\n" in text
    assert "log-line-1\r\n" not in text  # only the tail (30 lines by default)
    assert "\x1b[31mFAILED\x1b[0m: 2 tests, 1 failed" in text
    assert "PASS good" not in text and "\x1b[32mPASS\x1b[0m good" not in text


def test_pty_no_color_keeps_the_live_line_without_colours(tmp_path):
    suite = write_suite(tmp_path, FAILING_SUITE)
    code, out = run_pty(command(tmp_path, suite, "--workers", "2"),
                        clean_env(TERM="xterm", NO_COLOR="1"))
    assert code == 1, out
    assert LIVE.search(out), out
    # The only escape sequence left is the line clear.
    assert out.count(b"\x1b[") == out.count(b"\x1b[K") > 0
    assert re.search(rb"\[\d/2\] FAIL bad \(shard", out)
    assert b"FAILED: 2 tests, 1 failed" in out


def test_pty_with_term_dumb_prints_plain_lines(tmp_path):
    suite = write_suite(tmp_path, QUICK_SUITE)
    code, out = run_pty(command(tmp_path, suite, "--workers", "2"), clean_env(TERM="dumb"))
    assert code == 0, out
    lines = assert_plain_unit_lines(out, ["one", "two", "three", "four"])
    assert {m.group(3) for m in lines} == {"PASS"}
    assert b"PASSED: 4 tests" in out


def test_pipe_prints_one_plain_line_per_unit(tmp_path):
    suite = write_suite(tmp_path, QUICK_SUITE)
    code, out = run_pipe(command(tmp_path, suite, "--workers", "2"), clean_env(TERM="xterm"))
    assert code == 0, out
    lines = assert_plain_unit_lines(out, ["one", "two", "three", "four"])
    assert {m.group(5).split(",")[0] for m in lines} == {"shard 0", "shard 1"}
    text = out.decode()
    assert "PASSED: 4 tests, 0 failed, 0 errors, 0 skipped" in text
    assert "balance: makespan" in text


def test_pipe_failing_unit_and_its_log_tail(tmp_path):
    suite = write_suite(tmp_path, FAILING_SUITE)
    code, out = run_pipe(command(tmp_path, suite, "--workers", "2"), clean_env(TERM="xterm"))
    assert code == 1, out
    assert_plain_unit_lines(out, ["good", "bad"])
    text = out.decode()
    tail = text.split("/logs/001-bad.log)\n", 1)[1].split("\n\n", 1)[0].splitlines()
    tail = [line for line in tail if line.startswith("log-line-")]
    assert tail == [f"log-line-{i}" for i in range(21, 51)]  # 30 lines by default
    assert "FAILED: 2 tests, 1 failed" in text


def test_force_color_without_a_tty_colours_but_stays_line_based(tmp_path):
    suite = write_suite(tmp_path, QUICK_SUITE)
    code, out = run_pipe(command(tmp_path, suite, "--workers", "2"),
                         clean_env(TERM="xterm", FORCE_COLOR="1"))
    assert code == 0, out
    assert out.count(b"\x1b[32mPASS\x1b[0m ") == 4
    assert b"\x1b[32mPASSED\x1b[0m: 4 tests" in out
    assert b"\r" not in out
    assert b"\x1b[K" not in out


def test_no_color_beats_force_color(tmp_path):
    suite = write_suite(tmp_path, QUICK_SUITE)
    code, out = run_pipe(command(tmp_path, suite, "--workers", "2"),
                         clean_env(TERM="xterm", FORCE_COLOR="1", NO_COLOR="1"))
    assert code == 0, out
    assert b"\x1b" not in out


def test_tail_lines_flag_limits_the_log_tail(tmp_path):
    suite = write_suite(tmp_path, FAILING_SUITE)
    code, out = run_pipe(command(tmp_path, suite, "--workers", "2", "--tail-lines", "3"),
                         clean_env(TERM="xterm"))
    assert code == 1, out
    text = out.decode()
    assert re.findall(r"^log-line-\d+$", text, re.M) == ["log-line-48", "log-line-49",
                                                         "log-line-50"]


def test_seed_suite_under_a_pty(tmp_path):
    """The origin story (6 s, 5 s, 7 s of sleeps) on three shards, live."""
    code, out = run_pty(command(tmp_path, FIXTURES / "seed" / "suite.yaml", "--workers", "3"),
                        clean_env(TERM="xterm"))
    assert code == 0, out
    live = LIVE.findall(out)
    assert (b"0", b"3", b"3", b"0") in live, out  # all three running at once
    assert (b"3", b"3", b"0", b"0") in live
    text = out.decode()
    assert "\x1b[32mPASSED\x1b[0m:" in text
    assert "(3 shards)" in text
    # The lower bound is the 7 s unit: at least 7 s, more on a loaded machine.
    m = re.search(r"balance: makespan ([\d.]+)s vs lower bound ([\d.]+)s", text)
    assert m, text
    makespan, bound = float(m[1]), float(m[2])
    assert 7.0 <= bound <= makespan, text
