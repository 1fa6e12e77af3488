"""Per-shard resources proven with a real browser: fixtures/selenium/.

Every shard gets two `port` resources, its own app (a `service`) and its own
chromedriver (a `service`) that starts headless Chromium for each pytest
process. The tests log in as "alice" and assert exact item counts, so they
pass only if no two shards share an app: suite-shared.yaml, which gives all
shards one app, must fail. After every run (passed, failed, interrupted) no
app, chromedriver or Chromium process of that run may be left.

A run's processes are found through /proc: each one has the test's tmp_path
in its command line (shardrun's --runs-dir, Chromium's --user-data-dir under
the shard's {tmp}) or in its environment (SHARDRUN_RUN_DIR, which shardrun
gives its services and Chromium inherits from chromedriver), so tests running
at the same time do not see each other's processes.

Chromium is heavy on a 2-core machine: the 1- and 8-worker runs use a subset
of the tests (PYTEST_ADDOPTS=-k ..., which discovery and units both honour).
"""
import json
import os
import re
import signal
import subprocess
import xml.etree.ElementTree as ET

import pytest

from conftest import BIN, FIXTURES, processes_with, totals, wait_until


def processes_of_run(marker):
    """Processes carrying `marker` in their command line or environment."""
    return processes_with(marker, in_environ=True)

SEL = FIXTURES / "selenium"
# pytest options that pick part of fixtures/selenium/tests/ (17 tests), and
# how many tests they select
ALL = ("", 17)
STATE = ("-k test_state.py", 4)
ITEMS_LOGIN = ("-k 'test_items.py or test_login.py'", 9)
EDITING_STATE = ("-k 'test_editing.py or test_state.py'", 8)


# --- helpers ----------------------------------------------------------------






def assert_nothing_left(marker, within=5.0):
    assert wait_until(lambda: not processes_of_run(marker), within), \
        f"processes of the run still alive {within}s after it ended: {processes_of_run(marker)}"


@pytest.fixture
def marker(tmp_path):
    m = str(tmp_path)
    yield m
    for pid, _ in processes_of_run(m):  # whatever a failing test left behind
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def service_ports(run_dir, service, pattern):
    """{shard: port} read from each shard's service log."""
    ports = {}
    for log in (run_dir / "logs").glob(f"shard*-service-{service}.log"):
        shard = int(re.match(r"shard-?(\d+)-", log.name).group(1))
        found = re.search(pattern, log.read_text(errors="replace"))
        assert found, f"{log} does not say which port it listens on:\n{log.read_text()}"
        ports[shard] = int(found.group(1))
    return ports


def run_json(result):
    return json.loads((result.run_dir() / "run.json").read_text())


def messages(root, kind):
    return [(c.get("name"), c.find(kind).get("message", ""))
            for c in root.iter("testcase") if c.find(kind) is not None]


# --- the isolated suite -----------------------------------------------------


@pytest.mark.parametrize("workers, selection", [(1, STATE), (4, ALL), (8, ITEMS_LOGIN)],
                         ids=["1-worker", "4-workers", "8-workers"])
def test_suite_passes_with_an_app_and_a_chromedriver_per_shard(shardrun, marker, workers, selection):
    addopts, expected = selection
    r = shardrun("--workers", workers, SEL / "suite.yaml", extra_env={"PYTEST_ADDOPTS": addopts})
    assert r.code == 0, r
    root = r.xml()
    assert totals(root) == {"tests": expected, "failures": 0, "errors": 0, "skipped": 0}, r
    assert root.get("tests") == str(expected) and root.get("failures") == "0"
    names = [c.get("name") for c in root.iter("testcase")]
    assert len(set(names)) == expected, names

    # each shard had its own app and its own chromedriver, on ports of its own
    run_dir = r.run_dir()
    apps = service_ports(run_dir, "app", r"listening on http://127\.0\.0\.1:(\d+)")
    drivers = service_ports(run_dir, "chromedriver", r"on port (\d+)")
    assert sorted(apps) == sorted(drivers) == list(range(workers)), (apps, drivers, r)
    ports = list(apps.values()) + list(drivers.values())
    assert len(set(ports)) == 2 * workers, (apps, drivers)
    # and every shard ran tests: each unit's Chromium ran against its shard's services
    used = {u["shard"] for u in run_json(r)["units"]}
    assert used == set(range(workers)), used
    assert_nothing_left(marker)


# --- isolation switched off -------------------------------------------------


def test_shared_app_makes_the_tests_collide(shardrun, marker):
    addopts, expected = EDITING_STATE
    r = shardrun("--workers", 4, SEL / "suite-shared.yaml", extra_env={"PYTEST_ADDOPTS": addopts})
    assert r.code == 1, r
    root = r.xml()
    counts = totals(root)
    assert counts["tests"] == expected and counts["skipped"] == 0, (counts, r)
    assert counts["failures"] + counts["errors"] >= 1, r
    # they failed on the app's state (another shard's items or reset showing
    # up: in a test, or in the fixture's check that a reset list is empty),
    # not on the browser or the infrastructure
    for name, message in messages(root, "failure") + messages(root, "error"):
        assert re.match(r"assert |(failed on setup with \")?AssertionError", message), (name, message)
    used = {u["shard"] for u in run_json(r)["units"]}
    assert used == {0, 1, 2, 3}, used
    teardown_logs = " ".join(p.read_text() for p in (r.run_dir() / "logs").glob("teardown*.log"))
    assert "shared app stopped" in teardown_logs, r
    assert_nothing_left(marker)


# --- interrupted ------------------------------------------------------------


def test_sigint_leaves_no_browser_driver_or_app(tmp_path, marker):
    report = tmp_path / "report.xml"
    out = open(tmp_path / "out.txt", "w")
    cmd = [str(BIN), "--junit", str(report), "--runs-dir", str(tmp_path / "runs"),
           "--timings", str(tmp_path / "timings.json"), "--workers", "2", str(SEL / "suite.yaml")]
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)

    def busy_shards():
        """Shards whose browser has already added an item through their app."""
        logs = (tmp_path / "runs").glob("*/logs/shard*-service-app.log")
        return {log.name for log in logs if '"POST /items' in log.read_text(errors="replace")}

    try:
        # interrupt both shards mid-test: Chromium up, a session open, items added
        wait_until(lambda: len(busy_shards()) == 2 or proc.poll() is not None, 60)
        assert proc.poll() is None, (tmp_path / "out.txt").read_text(errors="replace")
        assert len(busy_shards()) == 2, busy_shards()
        kinds = " ".join(c for _, c in processes_of_run(marker))
        for kind in ["app.py", "chromedriver", "--type=renderer"]:
            assert kind in kinds, (kind, processes_of_run(marker))
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        out.close()
    text = (tmp_path / "out.txt").read_text(errors="replace")
    assert code == 130, text
    errors = messages(ET.parse(report).getroot(), "error")
    assert any("interrupted" in m for _, m in errors), errors
    assert_nothing_left(marker)


# --- services that fail -----------------------------------------------------


def test_service_dying_mid_run_fails_that_shards_unit(shardrun, marker):
    r = shardrun("--workers", 2, SEL / "suite-dying-service.yaml")
    assert r.code == 3, r  # a resource failed: infrastructure
    units = run_json(r)["units"]
    on0 = [u for u in units if u["shard"] == 0]
    on1 = [u for u in units if u["shard"] == 1]
    # shard 0's app died 2 s in, while its unit waited 3.5 s: the unit was
    # stopped then (not when it would have noticed by itself) and failed, and
    # shard 0 took nothing more; shard 1 ran the other two
    assert len(on0) == 1 and on0[0]["result"] != "passed", units
    assert on0[0]["end"] - on0[0]["start"] < 3.4, on0
    assert len(on1) == 2 and all(u["result"] == "passed" for u in on1), units
    errors = messages(r.xml(), "error")
    unit_error = [m for name, m in errors if name == on0[0]["entry"]]
    assert len(unit_error) == 1 and "flaky-app" in unit_error[0], errors
    assert re.search(r"shard 0.*service 'flaky-app'.*exited", r.out + r.err), r
    assert_nothing_left(marker)


@pytest.mark.parametrize("workers, bad_shard", [(2, "1"), (1, "0")],
                         ids=["one-of-two-shards", "only-shard"])
def test_service_never_ready_is_an_infrastructure_failure(shardrun, marker, workers, bad_shard):
    r = shardrun("--workers", workers, SEL / "suite-never-ready.yaml",
                 extra_env={"SHARDRUN_NEVER_READY_SHARD": bad_shard})
    assert r.code == 3, r
    said = r.out + r.err
    assert re.search(rf"shard {bad_shard}\b.*service 'lazy-app'.*not ready after 5s", said), r
    assert r.seconds < 20, r  # the 5 s timeout was honoured
    counts = totals(r.xml())
    units = run_json(r)["units"]
    if workers == 2:  # shard 0 ran everything
        seen = [(u["shard"], u["result"], u.get("note")) for u in units]
        assert all(u["shard"] == 0 and u["result"] == "passed" for u in units), (seen, said)
        assert len(units) == 3, units
        assert counts == {"tests": 4, "failures": 0, "errors": 1, "skipped": 0}, counts
    else:  # no shard could be prepared: nothing ran
        assert counts["skipped"] == 3 and counts["tests"] - counts["skipped"] == counts["errors"], counts
        assert not any(u["result"] == "passed" for u in units), units
    assert_nothing_left(marker)
