"""Integration tests run the built binary on suites under fixtures/.

SHARDRUN_BIN names the binary (default: build/shardrun), so the same tests
run against the sanitizer build too.
"""
import os
import pathlib
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"
BIN = pathlib.Path(os.environ.get("SHARDRUN_BIN", ROOT / "build" / "shardrun")).resolve()

# Run under GitHub Actions, every shardrun these tests start would append its
# summary to the job's page and print ::error annotations for the fixtures'
# failing tests. Tests of the CI output set these themselves.
for _name in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY"):
    os.environ.pop(_name, None)


class Result:
    def __init__(self, proc, seconds, report, runs_dir):
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr
        self.seconds = seconds
        self.report = report
        self.runs_dir = runs_dir

    def xml(self):
        return ET.parse(self.report).getroot()

    def run_dir(self):
        runs = sorted(p for p in self.runs_dir.iterdir() if p.is_dir())
        assert runs, "no run directory was created"
        return runs[-1]

    def __repr__(self):
        return f"<exit {self.code}\nstdout:\n{self.out}\nstderr:\n{self.err}>"


@pytest.fixture
def shardrun(tmp_path):
    """Runs build/shardrun with a private report path and runs dir."""

    def run(*args, timeout=120, env=None, report=None, extra_env=None):
        report = pathlib.Path(report) if report else tmp_path / "report.xml"
        runs_dir = tmp_path / "runs"
        full_env = dict(os.environ if env is None else env)
        full_env.update(extra_env or {})
        args = [str(a) for a in args]
        cmd = [str(BIN), "--junit", str(report), "--runs-dir", str(runs_dir)]
        if "--timings" not in args:  # keep fixtures/ free of history files
            cmd += ["--timings", str(tmp_path / "timings.json")]
        cmd += args
        start = time.monotonic()
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=full_env)
        return Result(proc, time.monotonic() - start, report, runs_dir)

    return run


def totals(root):
    """Counts recomputed from the testcases of a merged report."""
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for case in root.iter("testcase"):
        counts["tests"] += 1
        if case.find("error") is not None:
            counts["errors"] += 1
        elif case.find("failure") is not None:
            counts["failures"] += 1
        elif case.find("skipped") is not None:
            counts["skipped"] += 1
    return counts


def processes_with(marker, in_environ=False):
    """(pid, command line) of live, non-zombie processes whose command line
    (or, with in_environ, environment) holds `marker`; this process excluded."""
    found = []
    needle = marker.encode()
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            environ = (entry / "environ").read_bytes() if in_environ else b""
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue  # it ended while we looked
        if state != "Z" and (needle in cmdline or needle in environ):
            found.append((int(entry.name), cmdline.replace(b"\0", b" ").decode(errors="replace").strip()))
    return found


def wait_until(predicate, timeout, interval=0.05):
    """True once predicate() holds, polling until `timeout` seconds passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
