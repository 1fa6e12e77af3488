"""Retries and crash isolation, provoked for real with the pytest tests in
fixtures/flaky/: tests that fail once or twice and then pass (they count
their runs in marker files in the run directory), one that never passes,
and a batch of eight discovered tests of which one segfaults or hangs.
"""
import json
import os
import signal
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest

from conftest import BIN, FIXTURES, processes_with, totals

FLAKY = FIXTURES / "flaky"
PYTEST = "/usr/bin/python3 -m pytest -q -p no:cacheprovider"
BATCH_IDS = [f"test_batch.py::test_case[{n}]" for n in range(8)]


# --- helpers ----------------------------------------------------------------


def cases_by_name(root):
    """{name: testcase}; fails when a name appears twice (one testcase per test)."""
    cases = {}
    for case in root.iter("testcase"):
        name = case.get("name")
        assert name not in cases, f"testcase {name} appears more than once"
        cases[name] = case
    return cases


def child_tags(case):
    return [child.tag for child in case]


def run_json(result):
    return json.loads((result.run_dir() / "run.json").read_text())


def flaky_suite(tmp_path, retries=None, select="", whole=False):
    """A suite over fixtures/flaky/test_flaky.py; `select` is a pytest -k
    expression; `whole`: no discover, the file runs as one unit."""
    k = f" -k '{select}'" if select else ""
    lines = ["version: 1", "name: flaky", "tests:", "  - name: unit", f"    cwd: {FLAKY}"]
    if whole:
        lines.append(f"    command: {PYTEST}{k} test_flaky.py --junitxml={{junit}}")
    else:
        lines.append(f"    discover: {PYTEST} --collect-only{k} test_flaky.py")
        lines.append(f"    command: {PYTEST} {{tests}} --junitxml={{junit}}")
    if retries is not None:
        lines.append(f"    retries: {retries}")
    suite = tmp_path / "suite.yaml"
    suite.write_text("\n".join(lines) + "\n")
    return suite


def batch_plan(tmp_path):
    """--plan-in file: the eight tests of test_batch.py as one unit."""
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"format": 1, "suite": "batch", "units": [
        {"id": 0, "entry": "batch", "label": "batch#1", "tests": BATCH_IDS,
         "predicted_seconds": 1}]}))
    return plan


def batch_suite(tmp_path, timeout="3s"):
    """fixtures/flaky/batch.yaml with its own timeout, run from tmp_path."""
    text = (FLAKY / "batch.yaml").read_text()
    assert "    timeout: 3s\n" in text
    suite = tmp_path / "batch.yaml"
    suite.write_text(text.replace("    timeout: 3s\n", f"    timeout: {timeout}\n    cwd: {FLAKY}\n"))
    return suite


def batch_runs(result):
    """How often each batch test ran, from the log the tests append to."""
    log = result.run_dir() / "batch-runs.txt"
    counts = {}
    for line in log.read_text().split():
        counts[line] = counts.get(line, 0) + 1
    return counts




# --- retries ----------------------------------------------------------------


def test_flaky_tests_pass_with_flaky_children_and_one_testcase_each(shardrun):
    r = shardrun("--workers", "2", FLAKY / "suite.yaml")
    assert r.code == 1, r  # test_always_fails never passes
    root = r.xml()
    cases = cases_by_name(root)
    assert sorted(cases) == ["script", "test_always_fails", "test_errors_once", "test_fails_once",
                             "test_fails_twice", "test_passes"]
    assert totals(root) == {"tests": 6, "failures": 1, "errors": 0, "skipped": 0}
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("6", "1", "0")

    assert child_tags(cases["test_passes"]) == []
    once = cases["test_fails_once"]
    assert child_tags(once) == ["flakyFailure"]  # passed: no <failure>
    flaky = once.find("flakyFailure")
    assert "first attempt fails on purpose" in flaky.get("message")
    assert flaky.get("type")
    assert "AssertionError: first attempt fails on purpose" in flaky.find("stackTrace").text
    assert child_tags(cases["test_errors_once"]) == ["flakyError"]
    assert "the fixture breaks" in cases["test_errors_once"].find("flakyError").get("message")
    assert child_tags(cases["test_fails_twice"]) == ["flakyFailure", "flakyFailure"]
    assert child_tags(cases["test_always_fails"]) == ["failure", "rerunFailure", "rerunFailure"]
    assert "never passes" in cases["test_always_fails"].find("failure").get("message")
    # The entry without ids ran again whole; its first run is the flaky failure.
    script = cases["script"]
    assert child_tags(script) == ["flakyFailure"]
    assert "first run of script: failing on purpose" in script.find("flakyFailure/stackTrace").text

    assert "flaky: 4 tests passed on a retry:" in r.out
    assert "  unit: test_flaky.py::test_fails_twice (failed 2 times first)" in r.out
    assert "FAILED: 6 tests, 1 failed, 0 errors, 0 skipped, 4 flaky" in r.out


def test_only_the_failed_ids_run_again_and_run_json_records_the_attempts(shardrun):
    r = shardrun("--workers", "2", FLAKY / "suite.yaml")
    record = run_json(r)
    units = [u for u in record["units"] if u["entry"] == "unit"]
    # A first run may plan the file's five tests as one unit or as pieces;
    # each retry is one unit per unit that had failures.
    by_attempt = {a: [u for u in units if u["attempt"] == a] for a in (0, 1, 2)}
    assert len(units) == sum(len(v) for v in by_attempt.values())
    assert {u["role"] for u in by_attempt[0]} == {"planned"}
    assert {u["role"] for u in by_attempt[1] + by_attempt[2]} == {"retry"}
    ids = lambda *names: sorted(f"test_flaky.py::{n}" for n in names)
    tests_of = lambda a: sorted(t for u in by_attempt[a] for t in u["tests"])
    assert tests_of(0) == ids("test_passes", "test_fails_once", "test_fails_twice",
                              "test_always_fails", "test_errors_once")
    assert tests_of(1) == ids("test_fails_once", "test_fails_twice", "test_always_fails",
                              "test_errors_once")
    assert tests_of(2) == ids("test_fails_twice", "test_always_fails")
    assert [sum(u["retried"] for u in by_attempt[a]) for a in (0, 1, 2)] == [4, 2, 0]
    assert all(u["label"].endswith(".retry1") for u in by_attempt[1])
    assert all(u["label"].endswith(".retry2") for u in by_attempt[2])
    script = [u for u in record["units"] if u["entry"] == "script"]
    assert [(u["attempt"], u["tests"]) for u in script] == [(0, []), (1, [])]
    assert record["totals"]["flaky"] == 4
    assert {(f["test"], f["failed_attempts"]) for f in record["flaky"]} == {
        ("test_flaky.py::test_fails_once", 1), ("test_flaky.py::test_errors_once", 1),
        ("test_flaky.py::test_fails_twice", 2), ("flaky.script", 1)}
    # Every attempt has its own log and JUnit file.
    for u in units:
        retry = f".retry{u['attempt']}" if u["attempt"] else ""
        assert (r.run_dir() / "logs" / f"{u['id']:03}-unit{retry}.log").exists(), u
        assert (r.run_dir() / "junit" / f"{u['id']:03}-unit{retry}.xml").exists(), u


def test_every_test_passing_with_flaky_ones_is_exit_0_and_fail_on_flaky_is_exit_1(
        shardrun, tmp_path):
    suite = flaky_suite(tmp_path, retries=2, select="not always_fails")
    r = shardrun("--workers", "2", suite)
    assert r.code == 0, r
    root = r.xml()
    assert totals(root) == {"tests": 4, "failures": 0, "errors": 0, "skipped": 0}
    assert len(root.findall(".//flakyFailure")) == 3 and len(root.findall(".//flakyError")) == 1
    assert "PASSED: 4 tests, 0 failed, 0 errors, 0 skipped, 3 flaky" in r.out

    r = shardrun("--workers", "2", "--fail-on-flaky", suite)
    assert r.code == 1, r
    assert "--fail-on-flaky: 3 tests passed only on a retry" in r.out
    assert totals(r.xml()) == {"tests": 4, "failures": 0, "errors": 0, "skipped": 0}
    assert run_json(r)["exit_code"] == 1


def test_cli_retries_wins_over_the_suite(shardrun, tmp_path):
    # --retries 0 switches the suite's retries off: plain failures, no reruns.
    r = shardrun("--workers", "2", "--retries", "0", FLAKY / "suite.yaml")
    assert r.code == 1, r
    root = r.xml()
    assert totals(root) == {"tests": 6, "failures": 4, "errors": 1, "skipped": 0}
    assert not root.findall(".//flakyFailure") and not root.findall(".//rerunFailure")
    assert {u["attempt"] for u in run_json(r)["units"]} == {0}

    # --retries 1 on a suite without retries: one more attempt each.
    r = shardrun("--retries", "1", flaky_suite(tmp_path))
    assert r.code == 1, r
    cases = cases_by_name(r.xml())
    assert child_tags(cases["test_fails_once"]) == ["flakyFailure"]
    assert child_tags(cases["test_fails_twice"]) == ["failure", "rerunFailure"]


def test_whole_unit_retry_takes_only_the_failed_tests_from_the_rerun(shardrun, tmp_path):
    r = shardrun(flaky_suite(tmp_path, retries=1, whole=True))
    assert r.code == 1, r
    root = r.xml()
    cases = cases_by_name(root)  # test_passes ran twice but is reported once
    assert len(cases) == 5
    assert child_tags(cases["test_passes"]) == []
    assert child_tags(cases["test_fails_once"]) == ["flakyFailure"]
    assert child_tags(cases["test_errors_once"]) == ["flakyError"]
    assert child_tags(cases["test_fails_twice"]) == ["failure", "rerunFailure"]
    assert child_tags(cases["test_always_fails"]) == ["failure", "rerunFailure"]
    assert totals(root) == {"tests": 5, "failures": 2, "errors": 0, "skipped": 0}


# --- crash isolation --------------------------------------------------------


def test_a_segfault_in_a_batch_of_8_is_isolated_and_the_7_others_pass(shardrun, tmp_path):
    r = shardrun("--workers", "2", "--plan-in", batch_plan(tmp_path), batch_suite(tmp_path),
                 extra_env={"CRASH_TEST": "3"})
    assert r.code == 1, r
    root = r.xml()
    cases = cases_by_name(root)
    assert len(cases) == 8
    assert totals(root) == {"tests": 8, "failures": 0, "errors": 1, "skipped": 0}
    culprit = cases["test_batch.py::test_case[3]"]
    error = culprit.find("error")
    assert "killed by signal 11 (SIGSEGV)" in error.get("message")
    assert "isolated from batch#1" in error.get("message")
    assert "Fatal Python error: Segmentation fault" in error.text  # the log tail
    for n in (0, 1, 2, 4, 5, 6, 7):
        assert child_tags(cases[f"test_case[{n}]"]) == [], n  # their real, passing results

    units = run_json(r)["units"]
    # 8 -> 4 + 4 -> 2 + 2 -> 1 + 1: seven units, all of the first attempt.
    assert [u["label"] for u in units] == ["batch#1", "batch#1.a", "batch#1.b", "batch#1.a.a",
                                           "batch#1.a.b", "batch#1.a.b.a", "batch#1.a.b.b"]
    assert all(u["attempt"] == 0 for u in units)
    assert [u["role"] for u in units[1:]] == ["isolation"] * 6
    assert units[-1]["tests"] == ["test_batch.py::test_case[3]"]
    runs = batch_runs(r)
    assert runs["test_case[3]"] == 4  # the batch, then each smaller unit holding it
    assert runs["test_case[0]"] == 3  # batch, half a, quarter a.a
    assert runs["test_case[7]"] == 1  # never reached in the batch: only in half b


def test_a_hang_in_a_batch_is_isolated_too(shardrun, tmp_path):
    start = time.monotonic()
    r = shardrun("--workers", "2", "--kill-grace", "1s", "--plan-in", batch_plan(tmp_path),
                 batch_suite(tmp_path, timeout="2s"), extra_env={"HANG_TEST": "5"})
    assert r.code == 1, r
    root = r.xml()
    cases = cases_by_name(root)
    assert totals(root) == {"tests": 8, "failures": 0, "errors": 1, "skipped": 0}
    error = cases["test_batch.py::test_case[5]"].find("error")
    assert error.get("message").startswith("timed out")
    assert "isolated from batch#1" in error.get("message")
    for n in (0, 1, 2, 3, 4, 6, 7):
        assert child_tags(cases[f"test_case[{n}]"]) == [], n
    # Four units time out (8, 4, 2 and 1 tests): about 4 x 2 s, never 600 s.
    assert time.monotonic() - start < 60
    assert not processes_with(str(r.runs_dir)), "a hung test process was left behind"


def test_an_interrupt_stops_the_isolation_and_names_the_crash(tmp_path):
    suite = batch_suite(tmp_path, timeout="3s")
    report, runs = tmp_path / "report.xml", tmp_path / "runs"
    env = dict(os.environ, HANG_TEST="1")
    proc = subprocess.Popen(
        [str(BIN), "--junit", str(report), "--runs-dir", str(runs), "--timings",
         str(tmp_path / "t.json"), "--kill-grace", "1s", "--plan-in", str(batch_plan(tmp_path)),
         str(suite)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
        start_new_session=True)
    try:
        # Once the first half is running, the batch has timed out and two
        # halves were queued: interrupt then.
        deadline = time.monotonic() + 30
        while not list(runs.glob("*/logs/001-batch.log")) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert list(runs.glob("*/logs/001-batch.log")), "the isolation never started"
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, out
    root = ET.parse(report).getroot()
    cases = cases_by_name(root)
    assert len(cases) == 8
    skipped = [c.find("skipped").get("message") for c in cases.values()
               if c.find("skipped") is not None]
    assert len(skipped) == 4  # the half that never started
    assert all("interrupted before it started" in m and "crashed batch#1: timed out" in m
               for m in skipped), skipped
    errors = [c.find("error").get("message") for c in cases.values()
              if c.find("error") is not None]
    assert len(errors) == 4 and all("interrupted" in m for m in errors), errors


# --- --output-limit ---------------------------------------------------------


@pytest.mark.parametrize("limit, first_kept", [(None, 121), ("5", 196)])
def test_output_limit_bounds_the_log_tail_in_the_report_and_on_screen(
        shardrun, tmp_path, limit, first_kept):
    suite = tmp_path / "suite.yaml"
    suite.write_text("version: 1\ntests:\n  - name: noisy\n"
                     "    command: 'for i in $(seq 1 200); do echo line $i; done; kill -SEGV $$'\n")
    args = ["--output-limit", limit] if limit else []
    r = shardrun(*args, suite)
    assert r.code == 1, r
    text = r.xml().find(".//error").text
    assert f"line {first_kept}\n" in text and "line 200" in text
    assert f"line {first_kept - 1}\n" not in text
    # The terminal shows --tail-lines (30), capped by --output-limit.
    shown = min(30, int(limit)) if limit else 30
    assert f"line {201 - shown}\n" in r.out and f"line {200 - shown}\n" not in r.out
