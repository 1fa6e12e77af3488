"""Faults provoked for real: signals to shardrun, hanging process trees, a
flood of output, descriptor leaks, zombies, an unwritable report, SIGKILL.

Every unit command carries a marker unique to the test (a symlink to sleep
named after it, or the marker inside the sh -c script), so "no process of
the run is left" is checked by scanning /proc for that marker. shardrun is
started in a session of its own and signals go to its pid only: units run in
their own process groups, so nothing but shardrun forwards them.
"""
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import time
import uuid
import xml.etree.ElementTree as ET

import pytest

from conftest import BIN, processes_with, totals, wait_until


# --- helpers ----------------------------------------------------------------






def assert_no_process_left(marker, within=3.0):
    assert wait_until(lambda: not processes_with(marker), within), \
        f"processes of the run still alive {within}s after it ended: {processes_with(marker)}"


def kill_leftovers(marker):
    for pid, _ in processes_with(marker):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def xmllint_ok(path):
    proc = subprocess.run(["xmllint", "--noout", str(path)], capture_output=True, text=True)
    return proc.returncode == 0, proc.stderr


def children_of(pid):
    """{child pid: state letter} for the direct children of `pid`."""
    kids = {}
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids[int(entry.name)] = fields[0]
    return kids


class Run:
    """A shardrun started in the background, for signals and /proc checks."""

    def __init__(self, tmp_path, suite, *args, report=None, runs_dir=None):
        self.report = pathlib.Path(report or tmp_path / "report.xml")
        self.runs_dir = pathlib.Path(runs_dir or tmp_path / "runs")
        self.out_path = tmp_path / f"out-{uuid.uuid4().hex[:6]}.txt"
        cmd = [str(BIN), "--junit", str(self.report), "--runs-dir", str(self.runs_dir),
               *map(str, args), str(suite)]
        self._out = open(self.out_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=self._out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        self.pid = self.proc.pid

    def signal(self, sig):
        os.kill(self.pid, sig)

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self._out.close()

    @property
    def out(self):
        return self.out_path.read_text(errors="replace")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._out.close()


@pytest.fixture
def marker():
    m = f"shardrun-rel-{uuid.uuid4().hex[:12]}"
    yield m
    kill_leftovers(m)  # whatever a failing test left behind


@pytest.fixture
def sleeper(tmp_path, marker):
    """A symlink to sleep whose path holds the marker, so each sleep is findable."""
    link = tmp_path / f"sleep-{marker}"
    link.symlink_to(shutil.which("sleep"))
    return link


def write_suite(tmp_path, body, name="suite.yaml"):
    suite = tmp_path / name
    suite.write_text("version: 1\n" + body)
    return suite


def case_errors(root):
    return [(c.get("name"), c.find("error").get("message"))
            for c in root.iter("testcase") if c.find("error") is not None]


def case_skips(root):
    return [(c.get("name"), c.find("skipped").get("message"))
            for c in root.iter("testcase")
            if c.find("skipped") is not None and c.find("error") is None]


# --- interrupts ---------------------------------------------------------------


def slow_suite(tmp_path, sleeper, units=5, unit_prefix=""):
    started = tmp_path / "started"
    started.mkdir()
    tests = "".join(
        f"  - {{name: u{i}, command: '{unit_prefix}touch {started}/u{i}; {sleeper} 30'}}\n"
        for i in range(units))
    return write_suite(tmp_path,
                       "shard:\n"
                       f"  teardown: ['touch {tmp_path}/shard-teardown-{{shard}}']\n"
                       f"teardown: ['touch {tmp_path}/global-teardown']\n"
                       "tests:\n" + tests), started


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)],
                         ids=["SIGINT", "SIGTERM"])
def test_signal_stops_units_runs_teardowns_and_writes_partial_report(
        tmp_path, marker, sleeper, sig, code):
    suite, started = slow_suite(tmp_path, sleeper)
    run = Run(tmp_path, suite, "--workers", "2", "--kill-grace", "5s")
    try:
        assert wait_until(lambda: len(list(started.iterdir())) == 2, 10), run.out
        assert len(processes_with(marker)) >= 2  # both sleeps really run
        run.signal(sig)
        t0 = time.monotonic()
        rc = run.wait(timeout=15)
        elapsed = time.monotonic() - t0
    finally:
        run.kill()
    assert rc == code, run.out
    # sleep dies of SIGTERM at once: no need to wait for the 5 s grace.
    assert elapsed < 4, (elapsed, run.out)
    assert (tmp_path / "shard-teardown-0").exists(), run.out
    assert (tmp_path / "shard-teardown-1").exists(), run.out
    assert (tmp_path / "global-teardown").exists(), run.out

    ok, err = xmllint_ok(run.report)
    assert ok, err
    root = ET.parse(run.report).getroot()
    assert totals(root) == {"tests": 5, "failures": 0, "errors": 2, "skipped": 3}
    assert int(root.get("errors")) == 2 and int(root.get("skipped")) == 3
    errors = case_errors(root)
    assert sorted(n for n, _ in errors) == sorted(p.name for p in started.iterdir())
    assert all("interrupted" in m for _, m in errors), errors
    assert all("interrupted" in m or "not run" in m for _, m in case_skips(root))

    run_dir = next(p for p in run.runs_dir.iterdir() if p.is_dir())
    record = json.loads((run_dir / "run.json").read_text())
    assert record["exit_code"] == code
    assert_no_process_left(marker)


def test_second_sigint_skips_the_kill_grace(tmp_path, marker, sleeper):
    # The unit (and the sleep it runs: an ignored signal stays ignored across
    # exec) ignores SIGTERM, and the grace before SIGKILL is 30 s.
    suite, started = slow_suite(tmp_path, sleeper, units=3, unit_prefix="trap \"\" TERM; ")
    run = Run(tmp_path, suite, "--workers", "2", "--kill-grace", "30s")
    try:
        assert wait_until(lambda: len(list(started.iterdir())) == 2, 10), run.out
        run.signal(signal.SIGINT)
        time.sleep(1.0)
        # The first interrupt only sent SIGTERM: the run is waiting out the grace.
        assert run.proc.poll() is None, run.out
        assert len(processes_with(marker)) >= 2
        run.signal(signal.SIGINT)
        t0 = time.monotonic()
        rc = run.wait(timeout=20)
        elapsed = time.monotonic() - t0
    finally:
        run.kill()
    assert rc == 130, run.out
    assert elapsed < 5, (elapsed, run.out)
    assert (tmp_path / "shard-teardown-0").exists()
    assert (tmp_path / "global-teardown").exists()
    ok, err = xmllint_ok(run.report)
    assert ok, err
    root = ET.parse(run.report).getroot()
    errors = case_errors(root)
    assert len(errors) == 2 and all("interrupted" in m and "SIGKILL" in m for _, m in errors), errors
    assert totals(root)["skipped"] == 1
    assert_no_process_left(marker)


def test_closed_stdout_does_not_change_the_outcome(tmp_path, marker, sleeper):
    # `shardrun ... | head -1` with head gone: SIGPIPE is ignored and failed
    # terminal writes must not abort the run before teardown and report.
    suite = write_suite(tmp_path,
                        f"teardown: ['touch {tmp_path}/global-teardown']\n"
                        "tests:\n"
                        f"  - {{name: fails, command: 'echo {marker}-out; exit 1'}}\n"
                        f"  - {{name: passes, command: '{sleeper} 0.5'}}\n")
    r, w = os.pipe()
    os.close(r)
    try:
        proc = subprocess.run([str(BIN), "--junit", str(tmp_path / "r.xml"), "--runs-dir",
                               str(tmp_path / "runs"), "--workers", "2", str(suite)],
                              stdout=w, stderr=subprocess.PIPE, text=True, timeout=30)
    finally:
        os.close(w)
    assert proc.returncode == 1, proc.stderr
    assert (tmp_path / "global-teardown").exists()
    root = ET.parse(tmp_path / "r.xml").getroot()
    assert totals(root) == {"tests": 2, "failures": 1, "errors": 0, "skipped": 0}


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)],
                         ids=["SIGINT", "SIGTERM"])
def test_signal_during_discovery_ends_at_once_and_writes_the_report(
        tmp_path, marker, sleeper, sig, code):
    started = tmp_path / "discovering"
    suite = write_suite(tmp_path,
                        f"setup: ['touch {tmp_path}/global-setup']\n"
                        f"teardown: ['touch {tmp_path}/global-teardown']\n"
                        "tests:\n"
                        "  - {name: plain, command: 'true'}\n"
                        "  - name: d\n"
                        f"    discover: 'touch {started}; {sleeper} 30; echo t1'\n"
                        "    command: 'echo {tests}'\n")
    report = tmp_path / "report.xml"
    report.write_text("<previous/>\n")
    run = Run(tmp_path, suite, "--workers", "2", report=report)
    try:
        assert wait_until(started.exists, 10), run.out
        run.signal(sig)
        t0 = time.monotonic()
        rc = run.wait(timeout=15)
        elapsed = time.monotonic() - t0
    finally:
        run.kill()
    assert rc == code, run.out
    assert elapsed < 4, (elapsed, run.out)
    assert "interrupted during discovery" in run.out, run.out
    assert_no_process_left(marker)
    # Nothing was set up, so nothing is torn down.
    assert not (tmp_path / "global-setup").exists(), run.out
    assert not (tmp_path / "global-teardown").exists(), run.out
    # The previous report was replaced by a whole new one: each entry not run.
    ok, err = xmllint_ok(report)
    assert ok, err
    root = ET.parse(report).getroot()
    assert totals(root) == {"tests": 2, "failures": 0, "errors": 0, "skipped": 2}
    assert sorted(case_skips(root)) == [("d", "interrupted during discovery"),
                                        ("plain", "interrupted during discovery")]
    run_dir = next(p for p in run.runs_dir.iterdir() if p.is_dir())
    assert json.loads((run_dir / "run.json").read_text())["exit_code"] == code


def test_sigint_during_plan_discovery_writes_no_report(tmp_path, marker, sleeper):
    started = tmp_path / "discovering"
    suite = write_suite(tmp_path,
                        "tests:\n"
                        "  - name: d\n"
                        f"    discover: 'touch {started}; {sleeper} 30; echo t1'\n"
                        "    command: 'echo {tests}'\n")
    run = Run(tmp_path, suite, "plan")
    try:
        assert wait_until(started.exists, 10), run.out
        run.signal(signal.SIGINT)
        rc = run.wait(timeout=15)
    finally:
        run.kill()
    assert rc == 130, run.out
    assert "interrupted during discovery" in run.out, run.out
    assert not run.report.exists()
    assert_no_process_left(marker)


def teardown_suite(tmp_path, where):
    """A suite whose shard or global teardown takes 2 s and leaves start/done files."""
    step = f"'touch {tmp_path}/{where}-start; sleep 2; touch {tmp_path}/{where}-done'"
    other = "shard" if where == "global" else "global"
    quick = f"'touch {tmp_path}/{other}-start; touch {tmp_path}/{other}-done'"
    teardowns = {where: step, other: quick}
    return write_suite(tmp_path,
                       f"teardown: [{teardowns['global']}]\n"
                       f"shard:\n  teardown: [{teardowns['shard']}]\n"
                       "tests:\n  - {name: a, command: 'true'}\n")


def interrupt_during_teardown(tmp_path, where):
    suite = teardown_suite(tmp_path, where)
    run = Run(tmp_path, suite, "--workers", "1", "--kill-grace", "5s")
    try:
        assert wait_until(lambda: (tmp_path / f"{where}-start").exists(), 10), run.out
        run.signal(signal.SIGINT)
        rc = run.wait(timeout=15)
    finally:
        run.kill()
    return rc, run


def test_first_sigint_lets_a_running_shard_teardown_finish(tmp_path):
    rc, run = interrupt_during_teardown(tmp_path, "shard")
    assert rc == 130, run.out
    assert (tmp_path / "shard-done").exists(), run.out
    assert (tmp_path / "global-done").exists(), run.out


def test_first_sigint_lets_a_running_global_teardown_finish(tmp_path):
    rc, run = interrupt_during_teardown(tmp_path, "global")
    assert rc == 130, run.out
    assert (tmp_path / "global-done").exists(), run.out
    assert "global teardown" not in run.out, run.out  # not reported as failed


# --- process trees and timeouts ---------------------------------------------------


def test_timeout_kills_the_whole_process_tree(tmp_path, marker, sleeper):
    # Children and grandchildren (one reparented to init by the subshell),
    # once obedient and once deaf to SIGTERM (only SIGKILL after the grace ends it).
    tree = f"{sleeper} 100 & ({sleeper} 100 &) ; {sleeper} 100"
    suite = write_suite(tmp_path,
                        "tests:\n"
                        f"  - name: tree\n    timeout: 1s\n    command: \"{tree}\"\n"
                        f"  - name: deaf-tree\n    timeout: 1s\n"
                        f"    command: \"trap '' TERM; {tree}\"\n")
    t0 = time.monotonic()
    proc = subprocess.run([str(BIN), "--junit", str(tmp_path / "r.xml"), "--runs-dir",
                           str(tmp_path / "runs"), "--workers", "2", "--kill-grace", "1s",
                           str(suite)], capture_output=True, text=True, timeout=30)
    elapsed = time.monotonic() - t0
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert elapsed < 6, elapsed  # 1 s timeout + 1 s grace, not 100 s
    root = ET.parse(tmp_path / "r.xml").getroot()
    errors = dict(case_errors(root))
    assert set(errors) == {"tree", "deaf-tree"}, errors
    assert all("timed out" in m for m in errors.values()), errors
    assert "SIGKILL" in errors["deaf-tree"], errors
    # every sleep of both trees is gone once shardrun has returned
    assert not processes_with(marker), processes_with(marker)


# --- resources ------------------------------------------------------------------


def peak_rss_kib_of(cmd, stats, timeout):
    """Runs cmd; returns (returncode, stdout, peak RSS in KiB of it and its children).

    /usr/bin/time -v when installed; otherwise VmHWM of shardrun itself, polled
    from /proc until it exits (its children are tiny: head and tr).
    """
    if os.access("/usr/bin/time", os.X_OK):
        proc = subprocess.run(["/usr/bin/time", "-v", "-o", str(stats), *cmd],
                              capture_output=True, text=True, timeout=timeout)
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stats.read_text())
        assert m, stats.read_text()
        return proc.returncode, proc.stdout + proc.stderr, int(m.group(1))
    out_path = stats.with_suffix(".out")
    with open(out_path, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        peak = 0
        deadline = time.monotonic() + timeout
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                status = pathlib.Path(f"/proc/{proc.pid}/status").read_text()
                peak = max(peak, int(re.search(r"VmHWM:\s+(\d+)", status).group(1)))
            except (OSError, AttributeError):
                pass
            time.sleep(0.02)
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    return proc.returncode, out_path.read_text(errors="replace"), peak


def test_100mb_of_output_goes_to_the_log_with_bounded_memory(tmp_path, marker):
    size = 100_000_000
    suite = write_suite(tmp_path,
                        "tests:\n"
                        f"  - {{name: floods, command: \"head -c {size} /dev/zero | tr '\\\\0' x\"}}\n"
                        # One 100 MB line and a failure: its log tail goes to the
                        # terminal and into the report, and must stay bounded.
                        f"  - {{name: floods-and-fails, command: \"head -c {size} /dev/zero | "
                        f"tr '\\\\0' y; echo; echo {marker}; exit 1\"}}\n")
    report = tmp_path / "r.xml"
    code, out, rss_kib = peak_rss_kib_of(
        [str(BIN), "--junit", str(report), "--runs-dir", str(tmp_path / "runs"), "--workers", "2",
         str(suite)], stats=tmp_path / "time.txt", timeout=60)
    assert code == 1, out[-4000:]
    # Against the same binary on a suite that prints nothing: the process's
    # own size (an ASan build maps over 100 MB of itself) is not the point;
    # what the 200 MB of output adds is, and it must stay small.
    quiet = write_suite(tmp_path, "tests:\n  - {name: quiet, command: 'true'}\n", name="quiet.yaml")
    _, _, baseline_kib = peak_rss_kib_of(
        [str(BIN), "--junit", str(tmp_path / "quiet.xml"), "--runs-dir", str(tmp_path / "qruns"),
         "--workers", "2", str(quiet)], stats=tmp_path / "quiet-time.txt", timeout=60)
    assert rss_kib < baseline_kib + 30 * 1024, f"peak RSS {rss_kib} KiB, {baseline_kib} KiB quiet"
    run_dir = next(p for p in (tmp_path / "runs").iterdir() if p.is_dir())
    logs = {p.name: p for p in (run_dir / "logs").iterdir()}
    flood = next(p for n, p in logs.items() if n.endswith("-floods.log"))
    assert flood.stat().st_size == size
    ok, err = xmllint_ok(report)
    assert ok, err
    root = ET.parse(report).getroot()
    assert totals(root) == {"tests": 2, "failures": 1, "errors": 0, "skipped": 0}
    assert report.stat().st_size < 1_000_000
    assert len(out) < 1_000_000
    assert marker in out  # the tail that was printed is the end of the log


def test_children_inherit_no_descriptors(tmp_path, marker, sleeper):
    # Listed while other units, shard setups and their logs are open.
    listing = "ls -l /proc/self/fd > {run_dir}/fds-$NAME.txt"
    suite = write_suite(tmp_path,
                        f"setup: ['{listing.replace('$NAME', 'global-setup')}']\n"
                        "shard:\n"
                        f"  setup: ['{listing.replace('$NAME', 'shard-setup-{shard}')}']\n"
                        "tests:\n"
                        + "".join(f"  - {{name: busy{i}, command: '{sleeper} 2'}}\n" for i in range(3))
                        + f"  - {{name: lister, command: '{sleeper} 0.5; "
                          f"{listing.replace('$NAME', 'unit')}; ls -l /proc/self/fd'}}\n")
    proc = subprocess.run([str(BIN), "--junit", str(tmp_path / "r.xml"), "--runs-dir",
                           str(tmp_path / "runs"), "--workers", "4", str(suite)],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    run_dir = next(p for p in (tmp_path / "runs").iterdir() if p.is_dir())
    listings = sorted(run_dir.glob("fds-*.txt"))
    assert len(listings) == 1 + 4 + 1, listings
    for path in listings:
        fds = {}
        for line in path.read_text().splitlines():
            m = re.search(r" (\d+) -> (.*)$", line)
            if m:
                fds[int(m.group(1))] = m.group(2)
        extra = {fd: target for fd, target in fds.items()
                 if fd > 2 and not re.fullmatch(r"/proc/\d+/fd", target)}
        assert {0, 1, 2} <= set(fds), (path.name, fds)
        assert not extra, f"{path.name}: descriptors leaked into the child: {extra}"
        assert fds[0] == "/dev/null", (path.name, fds)


def test_no_zombies_fd_growth_or_orphans_while_running(tmp_path, marker, sleeper):
    # 40 quick units that each leave a background sleep behind them (the
    # subshell orphans it), while one long unit keeps the run going.
    quick = 40
    suite = write_suite(tmp_path,
                        "tests:\n"
                        f"  - {{name: long, command: '{sleeper} 4'}}\n"
                        + "".join(f"  - {{name: quick{i}, command: '({sleeper} 100 &); echo hi'}}\n"
                                  for i in range(quick)))
    run = Run(tmp_path, suite, "--workers", "2")
    try:
        last = f"*quick{quick - 1}.log"
        assert wait_until(lambda: len(list((tmp_path / "runs").glob(f"*/logs/{last}"))) == 1, 8)
        time.sleep(0.7)
        assert run.proc.poll() is None, "the run ended too soon for this check"
        kids = children_of(run.pid)
        zombies = [pid for pid, state in kids.items() if state == "Z"]
        assert not zombies, f"unreaped children of shardrun: {kids}"
        assert len(kids) == 1, kids  # the long unit
        # what the quick units left running was swept with their process group
        alive = [cmd for _, cmd in processes_with(marker)]
        assert alive and all(cmd.endswith(" 4") for cmd in alive), alive
        # descriptors do not pile up with the units run so far
        fds = os.listdir(f"/proc/{run.pid}/fd")
        assert len(fds) < 20, fds
        rc = run.wait(timeout=15)
    finally:
        run.kill()
    assert rc == 0, run.out
    assert_no_process_left(marker, within=1.0)


def _limit_fds(n):
    import resource
    return lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))


def test_descriptor_exhaustion_fails_units_instead_of_hanging(tmp_path):
    # Each limit leaves a different number of descriptors for the spawn
    # machinery; every one must end in a result, never in a hang.
    suite = write_suite(tmp_path, "tests:\n" + "".join(
        f"  - {{name: t{i}, command: 'true'}}\n" for i in range(4)))
    hung = []
    for limit in range(8, 22):
        report = tmp_path / f"r{limit}.xml"
        proc = subprocess.Popen([str(BIN), "--junit", str(report), "--runs-dir",
                                 str(tmp_path / "runs"), "--workers", "4", str(suite)],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                preexec_fn=_limit_fds(limit), start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=4)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.communicate(timeout=2)
                hung.append((limit, "hung; ended on SIGTERM"))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
                hung.append((limit, "hung; SIGTERM ignored too"))
            continue
        if "runtime error:" in out and "does not point to an object of type" in out:
            # A sanitizer build: UBSan's vptr check needs a pipe of its own to
            # probe memory, and reports valid objects as bad when it gets none.
            continue
        assert proc.returncode in (0, 1, 3), (limit, out)
        if proc.returncode != 0:
            assert "Too many open files" in out, (limit, out)
    assert not hung, hung


# --- the report -------------------------------------------------------------------


def test_report_in_a_missing_directory_is_exit_3_with_the_reason(shardrun, tmp_path):
    suite = write_suite(tmp_path, "tests:\n  - {name: a, command: 'true'}\n")
    missing = tmp_path / "no-such-dir" / "report.xml"
    r = shardrun("--workers", "1", suite, report=missing)
    assert r.code == 3, r
    text = r.out + r.err
    assert "no-such-dir" in text and "No such file or directory" in text, r
    assert not missing.parent.exists()

    parent_is_file = tmp_path / "a-file"
    parent_is_file.write_text("not a folder\n")
    r = shardrun("--workers", "1", suite, report=parent_is_file / "report.xml")
    assert r.code == 3, r
    assert "a-file" in r.out + r.err and "Not a directory" in r.out + r.err, r
    assert parent_is_file.read_text() == "not a folder\n"


def test_report_path_that_is_a_directory_is_exit_3_and_left_alone(shardrun, tmp_path):
    suite = write_suite(tmp_path, "tests:\n  - {name: a, command: 'true'}\n")
    target = tmp_path / "taken"
    target.mkdir()
    (target / "precious.txt").write_text("keep me\n")
    r = shardrun("--workers", "1", suite, report=target)
    assert r.code == 3, r
    assert "report" in r.out + r.err and str(target) in r.out + r.err, r
    assert (target / "precious.txt").read_text() == "keep me\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".taken")) == [], \
        "temporary report files left behind"


def test_existing_report_survives_a_run_that_cannot_replace_it(tmp_path, marker, sleeper):
    old = '<?xml version="1.0"?><testsuites><testsuite name="old"/></testsuites>\n'
    report = tmp_path / "report.xml"
    report.write_text(old)
    # A suite error: nothing runs, the old report stays.
    bad = write_suite(tmp_path, "tests: []\n", name="bad.yaml")
    proc = subprocess.run([str(BIN), "--junit", str(report), "--runs-dir", str(tmp_path / "runs"),
                           str(bad)], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2, proc.stderr
    assert report.read_text() == old
    # SIGKILL mid-run: the report is replaced atomically or not at all.
    suite, started = slow_suite(tmp_path, sleeper, units=2)
    run = Run(tmp_path, suite, "--workers", "2", report=report)
    try:
        assert wait_until(lambda: len(list(started.iterdir())) == 2, 10), run.out
        run.signal(signal.SIGKILL)
        assert run.wait(timeout=5) == -signal.SIGKILL
    finally:
        run.kill()
        kill_leftovers(marker)
    assert report.read_text() == old
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".report.xml")] == []


ODD_NAMES = {
    # found by tests/fuzz/fuzz_junit (minimised): pugixml accepts all three
    "xml-prefix-without-local-name": b'<testsuite><testcase xml:=""/></testsuite>',
    "element-name-char": b'<testsuite name="s"><testcase classname="c" name="n">'
                         b'<a\xc3\x97 b="1"/></testcase></testsuite>',
    "attribute-name-char": b'<testsuite name="s"><testcase classname="c" name="n" a\xc3\x97="1"/>'
                           b'</testsuite>',
}


@pytest.mark.parametrize("case", sorted(ODD_NAMES))
def test_merged_report_stays_well_formed_for_names_pugixml_accepts(tmp_path, case):
    # One unit's odd XML must not make Jenkins or Python reject the whole report.
    src = tmp_path / "in.xml"
    src.write_bytes(ODD_NAMES[case])
    out = tmp_path / "merged.xml"
    p = subprocess.run([str(BIN), "merge", "-o", str(out), str(src)], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    ok, err = xmllint_ok(out)
    assert ok, err
    ET.parse(out)  # namespace-aware, like most consumers


# --- runs directory ------------------------------------------------------------------


def test_after_sigkill_the_next_runs_work_and_keep_runs_prunes(tmp_path, marker, sleeper):
    runs = tmp_path / "runs"
    suite, started = slow_suite(tmp_path, sleeper, units=2)
    run = Run(tmp_path, suite, "--workers", "2", "--keep-runs", "2", runs_dir=runs)
    try:
        assert wait_until(lambda: len(list(started.iterdir())) == 2, 10), run.out
        run.signal(signal.SIGKILL)
        run.wait(timeout=5)
    finally:
        run.kill()
    # SIGKILL cannot be forwarded: the units outlive shardrun. Not what this test is about.
    kill_leftovers(marker)
    killed = [p.name for p in runs.iterdir()]
    assert len(killed) == 1

    quick = write_suite(tmp_path, "tests:\n  - {name: q, command: 'echo ok'}\n", name="quick.yaml")
    ids = []
    for _ in range(2):
        time.sleep(1.05)  # run ids have a one-second time stamp
        proc = subprocess.run([str(BIN), "--junit", str(tmp_path / "q.xml"), "--runs-dir",
                               str(runs), "--keep-runs", "2", str(quick)],
                              capture_output=True, text=True, timeout=30)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        ok, err = xmllint_ok(tmp_path / "q.xml")
        assert ok, err
        ids.append(re.search(r"\(run .*/([^/)]+)\)", proc.stdout).group(1))
    remaining = sorted(p.name for p in runs.iterdir())
    assert remaining == sorted(ids), (killed, remaining)
    for name in remaining:
        assert json.loads((runs / name / "run.json").read_text())["exit_code"] == 0


def test_next_run_kills_what_a_sigkilled_run_left_running(tmp_path, marker, sleeper):
    # The unit's shell starts a sleeping grandchild, then sleeps itself: both
    # in the unit's process group, which nothing stops once shardrun is gone.
    runs = tmp_path / "runs"
    started = tmp_path / "started"
    suite = write_suite(tmp_path,
                        "tests:\n"
                        f"  - {{name: tree, command: '{sleeper} 300 & touch {started}; "
                        f"{sleeper} 301'}}\n"
                        "  - {name: quick, command: 'true'}\n")
    run = Run(tmp_path, suite, "--workers", "2", runs_dir=runs)
    try:
        assert wait_until(started.exists, 10), run.out
        assert wait_until(lambda: len(processes_with(marker)) >= 2, 5)
        run.signal(signal.SIGKILL)
        run.wait(timeout=5)
    finally:
        run.kill()
    killed_run = next(p for p in runs.iterdir() if p.is_dir())
    time.sleep(0.3)
    survivors = processes_with(marker)
    assert any(" 300" in cmd for _, cmd in survivors), survivors  # the grandchild
    assert any(" 301" in cmd for _, cmd in survivors), survivors  # the unit

    other = tmp_path / "other"
    other.mkdir()
    quick = write_suite(other, "tests:\n  - {name: q, command: 'echo ok'}\n")
    t0 = time.monotonic()
    proc = subprocess.run([str(BIN), "--junit", str(tmp_path / "q.xml"), "--runs-dir", str(runs),
                           str(quick)], capture_output=True, text=True, timeout=30)
    elapsed = time.monotonic() - t0
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not processes_with(marker), processes_with(marker)
    line = re.search(r"shardrun: killed (\d+) process(?:es)? in 1 process group left running "
                     r"by run (\S+), whose shardrun had died", proc.stderr)
    assert line, proc.stderr
    assert int(line.group(1)) == len(survivors) and line.group(2) == killed_run.name
    assert (killed_run / "children" / "cleaned").exists()
    assert elapsed < 10, elapsed

    # Marked as cleaned: the run after says nothing more.
    proc = subprocess.run([str(BIN), "--junit", str(tmp_path / "q.xml"), "--runs-dir", str(runs),
                           str(quick)], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0 and "killed" not in proc.stderr, proc.stderr


def test_a_live_runs_children_are_not_killed_by_another_run(tmp_path, marker, sleeper):
    runs = tmp_path / "runs"
    suite, started = slow_suite(tmp_path, sleeper, units=1)
    run = Run(tmp_path, suite, "--workers", "1", runs_dir=runs)
    try:
        assert wait_until(lambda: len(list(started.iterdir())) == 1, 10), run.out
        other = tmp_path / "other"
        other.mkdir()
        quick = write_suite(other, "tests:\n  - {name: q, command: 'true'}\n")
        proc = subprocess.run([str(BIN), "--junit", str(tmp_path / "q.xml"), "--runs-dir",
                               str(runs), str(quick)], capture_output=True, text=True, timeout=30)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "killed" not in proc.stderr, proc.stderr
        assert processes_with(marker), "the live run's unit was killed"
        assert run.proc.poll() is None
        run.signal(signal.SIGTERM)
        assert run.wait(timeout=15) == 143, run.out
    finally:
        run.kill()
    assert_no_process_left(marker)


def test_keep_runs_only_prunes_run_directories(shardrun, tmp_path):
    runs = tmp_path / "runs"
    (runs / "not-a-run").mkdir(parents=True)
    (runs / "not-a-run" / "notes.txt").write_text("mine\n")
    suite = write_suite(tmp_path, "tests:\n  - {name: q, command: 'true'}\n")
    r = shardrun("--keep-runs", "1", suite)
    assert r.code == 0, r
    assert (runs / "not-a-run" / "notes.txt").read_text() == "mine\n"
