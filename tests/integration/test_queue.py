"""The queue shared by several CI machines (issue 11), with a real
redis-server on a free loopback port and several shardrun processes.

fixtures/queue/sleep.yaml's units leave one marker file per test id and run
in $MARKER_DIR, so a test can count how often each id ran.
"""
import json
import os
import pathlib
import signal
import socket
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest

from conftest import BIN, FIXTURES

SUITE = FIXTURES / "queue" / "sleep.yaml"
OTHER_SUITE = FIXTURES / "queue" / "other.yaml"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Redis:
    def __init__(self, tmp_path, password=None):
        self.port = free_port()
        args = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
                "--appendonly", "no", "--daemonize", "no", "--dir", str(tmp_path)]
        if password:
            args += ["--requirepass", password]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.password = password
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def url(self, run="run1"):
        return f"redis://127.0.0.1:{self.port}/{run}"

    def cli(self, *args):
        cmd = ["redis-cli", "-p", str(self.port)]
        env = dict(os.environ)
        if self.password:
            env["REDISCLI_AUTH"] = self.password
        return subprocess.run(cmd + [str(a) for a in args], capture_output=True, text=True,
                              env=env, check=True).stdout

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)  # by its own pid
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def redis(tmp_path):
    server = Redis(tmp_path)
    yield server
    server.stop()


class Nodes:
    """Starts shardrun nodes on one queue, each with its own report and runs dir."""

    def __init__(self, tmp_path, markers, env):
        self.tmp = tmp_path
        self.markers = markers
        self.env = env
        self.count = 0

    def start(self, url, *args, suite=SUITE, extra_env=None):
        self.count += 1
        n = self.count
        env = dict(self.env)
        env.update(extra_env or {})
        cmd = [str(BIN), "--queue", url, "--junit", str(self.tmp / f"node{n}.xml"),
               "--runs-dir", str(self.tmp / f"runs{n}"),
               "--timings", str(self.tmp / f"t{n}" / "timings.json"), *map(str, args), str(suite)]
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env, cwd=self.tmp)

    def report(self, url, *args, timeout=120):
        out = self.tmp / "all.xml"
        p = subprocess.run([str(BIN), "report", "--queue", url, "--junit", str(out),
                            *map(str, args)], capture_output=True, text=True, env=self.env,
                           timeout=timeout)
        return p, out

    def runs(self, test_id):
        return len([m for m in os.listdir(self.markers) if m.startswith(test_id + ".")])


@pytest.fixture
def nodes(tmp_path):
    markers = tmp_path / "markers"
    markers.mkdir()
    env = dict(os.environ)
    for name in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "SHARDRUN_QUEUE_PASSWORD", "CI_NODE_INDEX",
                 "CI_NODE_TOTAL"):
        env.pop(name, None)
    env.update({"MARKER_DIR": str(markers), "QUEUE_UNITS": "30", "QUEUE_SLEEP": "0.2"})
    return Nodes(tmp_path, markers, env)


def finish(proc, timeout=120):
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def cases_of(report):
    root = ET.parse(report).getroot()
    return [(tc.get("classname"), tc.get("name"), tc) for tc in root.iter("testcase")]


def wait_for(predicate, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


IDS = [f"sleep_{i:02d}" for i in range(30)]


def test_three_nodes_run_each_unit_exactly_once_and_report_every_testcase_once(redis, nodes):
    # long enough that a node whose discovery is slow still finds work
    procs = [nodes.start(redis.url(), "-j", 2, extra_env={"QUEUE_SLEEP": "0.4"}) for _ in range(3)]
    results = [finish(p) for p in procs]
    assert [r[0] for r in results] == [0, 0, 0], results
    assert all(nodes.runs(i) == 1 for i in IDS), {i: nodes.runs(i) for i in IDS}
    # the work was shared: every node ran some of it
    per_node = [len(cases_of(nodes.tmp / f"node{n}.xml")) for n in (1, 2, 3)]
    assert sum(per_node) == 30 and all(n > 0 for n in per_node), per_node
    p, out = nodes.report(redis.url())
    assert p.returncode == 0, p.stderr
    names = sorted(name for _, name, _ in cases_of(out))
    assert names == IDS


def test_a_node_killed_mid_unit_loses_its_unit_to_another_node(redis, nodes):
    env = {"QUEUE_UNITS": "8", "QUEUE_SLEEP": "1"}
    first = nodes.start(redis.url(), "-j", 1, "--queue-lease", "3s", extra_env=env)
    assert wait_for(lambda: len(os.listdir(nodes.markers)) >= 1)
    first.send_signal(signal.SIGKILL)  # mid-unit: its first test id sleeps 1 s
    first.wait()
    killed = {m.split(".")[0] for m in os.listdir(nodes.markers)}
    second = nodes.start(redis.url(), "-j", 2, "--queue-lease", "3s", extra_env=env)
    code, out, err = finish(second)
    assert code == 0, err
    assert "runs again" in err  # the lost lease was noticed
    p, report = nodes.report(redis.url())
    assert p.returncode == 0, p.stderr
    names = [name for _, name, _ in cases_of(report)]
    assert sorted(names) == [f"sleep_{i:02d}" for i in range(8)]  # each once
    # the killed node's test ran again on the second node
    assert all(nodes.runs(i) >= 2 for i in killed), killed
    # and the second node's run.json names the lost node
    run_json = next((nodes.tmp / "runs2").glob("*/run.json"))
    labels = [u["label"] for u in json.loads(run_json.read_text())["units"]]
    lost = [label for label in labels if "(lost by " in label]
    assert len(lost) == 1 and f"-{first.pid}-" in lost[0], labels


def test_report_writes_run_json_with_every_unit_once_and_its_node(redis, nodes):
    env = {"QUEUE_UNITS": "12", "QUEUE_SLEEP": "0.3"}
    procs = [nodes.start(redis.url(), "-j", 2, extra_env=env) for _ in range(2)]
    results = [finish(p) for p in procs]
    assert [r[0] for r in results] == [0, 0], results
    run_json = nodes.tmp / "report" / "run.json"
    p, _ = nodes.report(redis.url(), "--run-json", run_json)
    assert p.returncode == 0, p.stderr
    run = json.loads(run_json.read_text())
    assert run["format"] == 1 and run["run_id"] == "run1" and run["exit_code"] == 0
    assert run["totals"]["tests"] == 12
    units = run["units"]
    ids = [u["id"] for u in units]
    assert len(ids) == len(set(ids)), ids  # every unit once
    tests = sorted(t for u in units for t in u["tests"])
    assert tests == [f"sleep_{i:02d}" for i in range(12)]  # every test in one unit
    assert all(u["result"] == "passed" for u in units), units
    # each unit names the node that ran it: exactly the units of that node's own run.json
    for n, proc in enumerate(procs, 1):
        own = next((nodes.tmp / f"runs{n}").glob("*/run.json"), None)  # none: it ran nothing
        ran = sorted(u["id"] for u in json.loads(own.read_text())["units"]
                     if u["shard"] >= 0) if own else []
        named = sorted(u["id"] for u in units if f"-{proc.pid}-" in u.get("node", ""))
        assert ran == named, (n, ran, named)
    assert all(any(f"-{proc.pid}-" in u.get("node", "") for proc in procs) for u in units), units
    # (node, shard) pairs are the run's shards, times since the first start
    assert run["shards"] == len({(u["node"], u["shard"]) for u in units})
    assert min(u["start"] for u in units) == 0
    assert all(u["end"] >= u["start"] + 0.25 for u in units), units


def test_report_names_the_node_that_lost_a_unit_in_run_json(redis, nodes):
    env = {"QUEUE_UNITS": "3", "QUEUE_KILL_NODE": "sleep_01"}
    killed = []
    for _ in range(3):  # each node dies on the unit; the third loss makes it lost
        proc = nodes.start(redis.url(), "-j", 1, "--queue-lease", "1s",
                           "--queue-max-requeues", "2", extra_env=env)
        finish(proc)
        killed.append(proc.pid)
    last = nodes.start(redis.url(), "-j", 1, "--queue-lease", "1s", "--queue-max-requeues", "2",
                       extra_env=env)
    finish(last)
    run_json = nodes.tmp / "run.json"
    p, _ = nodes.report(redis.url(), "--run-json", run_json, timeout=60)
    assert p.returncode == 1, p.stderr
    units = json.loads(run_json.read_text())["units"]
    lost = [u for u in units if u["result"] == "lost"]
    assert len(lost) == 1 and "sleep_01" in lost[0]["tests"], units
    # the node whose lease ran out last: the third one killed
    assert f"-{killed[2]}-" in lost[0]["node"] and lost[0]["shard"] == -1, (lost, killed)
    assert "lost 3 times" in lost[0]["note"], lost
    ids = [u["id"] for u in units]
    assert len(ids) == len(set(ids)), ids
    assert sorted(t for u in units for t in u["tests"]) == ["sleep_00", "sleep_01", "sleep_02"]


def test_report_writes_the_timing_history_of_the_accepted_units(redis, nodes):
    env = {"QUEUE_UNITS": "8", "QUEUE_CASE_TIME": "1.75"}
    procs = [nodes.start(redis.url(), "-j", 2, extra_env=env) for _ in range(2)]
    results = [finish(p) for p in procs]
    assert [r[0] for r in results] == [0, 0], results
    history = nodes.tmp / "merged" / "timings.json"
    p, _ = nodes.report(redis.url(), "--timings", history, SUITE)
    assert p.returncode == 0, p.stderr
    entries = json.loads(history.read_text())["entries"]
    tests = entries["sleepy"]["tests"]
    assert sorted(tests) == [f"sleep_{i:02d}" for i in range(8)], tests
    assert all(abs(t["seconds"] - 1.75) < 1e-6 and t["samples"] == 1 for t in tests.values()), tests
    # a second report of the same run adds a second sample of each test
    p, _ = nodes.report(redis.url(), "--timings", history, SUITE)
    assert p.returncode == 0, p.stderr
    tests = json.loads(history.read_text())["entries"]["sleepy"]["tests"]
    assert all(t["samples"] == 2 for t in tests.values()), tests


def test_report_timings_needs_the_suite(redis, nodes):
    p, _ = nodes.report(redis.url(), "--timings", nodes.tmp / "t.json")
    assert p.returncode == 2 and "--timings needs the suite" in p.stderr


def test_a_tampered_queue_is_refused_and_nothing_of_it_runs(redis, nodes, tmp_path):
    env = {"QUEUE_UNITS": "2"}
    code, out, err = finish(nodes.start(redis.url(), "-j", 1, extra_env=env))
    assert code == 0, err
    prefix = "shardrun:{run1}:"
    evil = '{"entry":"sleepy","tests":["\\"; touch pwned"]}'
    unknown = '{"entry":"nope","tests":[]}'
    for uid, payload in ((1000, evil), (1001, unknown)):
        redis.cli("HSET", prefix + "units", uid, payload)
        redis.cli("HSET", prefix + "predicted", uid, 5)
        redis.cli("ZADD", prefix + "queue", 5, uid)
    code, out, err = finish(nodes.start(redis.url(), "-j", 1, extra_env=env))
    assert code == 0, err
    assert "refused" in err
    assert not any(m.startswith('"') for m in os.listdir(nodes.markers))
    assert not (tmp_path / "pwned").exists() and not (SUITE.parent / "pwned").exists()
    p, report = nodes.report(redis.url())
    assert p.returncode == 1, p.stderr
    refused = {name: tc for _, name, tc in cases_of(report) if name.startswith("refused unit")}
    assert set(refused) == {"refused unit 1000", "refused unit 1001"}
    assert "was not discovered here" in refused["refused unit 1000"].find("error").get("message")
    assert "'nope' is not in this node's suite" in refused["refused unit 1001"].find("error").get(
        "message")


def test_a_node_with_another_suite_exits_2(redis, nodes):
    code, _, err = finish(nodes.start(redis.url(), "-j", 1, extra_env={"QUEUE_UNITS": "2"}))
    assert code == 0, err
    before = len(os.listdir(nodes.markers))
    code, _, err = finish(nodes.start(redis.url(), "-j", 1, suite=OTHER_SUITE,
                                      extra_env={"QUEUE_UNITS": "2"}))
    assert code == 2, err
    assert "differ from the run's plan" in err
    # discovered ids count too
    code, _, err = finish(nodes.start(redis.url(), "-j", 1, extra_env={"QUEUE_UNITS": "3"}))
    assert code == 2, err
    assert len(os.listdir(nodes.markers)) == before


def test_a_late_node_runs_nothing_and_exits_0(redis, nodes):
    code, _, err = finish(nodes.start(redis.url(), "-j", 2, extra_env={"QUEUE_UNITS": "4"}))
    assert code == 0, err
    before = sorted(os.listdir(nodes.markers))
    code, out, err = finish(nodes.start(redis.url(), "-j", 2, extra_env={"QUEUE_UNITS": "4"}))
    assert code == 0, err
    assert "nothing left to do" in out + err
    assert sorted(os.listdir(nodes.markers)) == before


def test_password_from_the_environment_only_and_never_shown(tmp_path, nodes):
    secret = "s3cr3t-queue-pw"
    server = Redis(tmp_path, password=secret)
    try:
        env = {"QUEUE_UNITS": "2"}
        code, out, err = finish(nodes.start(server.url(), "-j", 1, extra_env=env))
        assert code == 3, err
        assert "NOAUTH" in err
        assert os.listdir(nodes.markers) == []
        env["SHARDRUN_QUEUE_PASSWORD"] = secret
        code, out, err = finish(nodes.start(server.url(), "-j", 1, extra_env=env))
        assert code == 0, err
        assert secret not in out + err
        for path in tmp_path.rglob("*"):
            if path.is_file():
                assert secret.encode() not in path.read_bytes(), path
        # a password in the URL is refused, and not repeated
        code, out, err = finish(nodes.start(f"redis://u:{secret}@127.0.0.1:{server.port}/r",
                                            "-j", 1, extra_env=env))
        assert code == 2 and secret not in out + err, err
    finally:
        server.stop()


def test_report_exits_3_listing_the_units_left_when_every_node_is_gone(redis, nodes):
    env = {"QUEUE_UNITS": "6", "QUEUE_SLEEP": "2"}
    node = nodes.start(redis.url(), "-j", 1, "--queue-lease", "1s", extra_env=env)
    assert wait_for(lambda: len(os.listdir(nodes.markers)) >= 1)
    node.send_signal(signal.SIGKILL)
    node.wait()
    p, report = nodes.report(redis.url(), "--queue-lease", "1s", timeout=60)
    assert p.returncode == 3, p
    assert "every node is gone" in p.stderr
    assert "sleepy: sleep_" in p.stderr  # the units left, named
    names = [tc.find("error").get("message") for _, _, tc in cases_of(report)
             if tc.find("error") is not None]
    assert names and all("not run: every node stopped" in m for m in names), names


def test_a_retry_on_the_queue_is_one_testcase_with_its_flaky_failure(redis, nodes):
    env = {"QUEUE_UNITS": "4", "QUEUE_FAIL_ONCE": "sleep_02"}
    procs = [nodes.start(redis.url(), "-j", 1, "--retries", "1", extra_env=env) for _ in range(2)]
    results = [finish(p) for p in procs]
    assert nodes.runs("sleep_02") == 2
    p, report = nodes.report(redis.url())
    assert p.returncode == 0, (p.stderr, results)
    cases = [(name, tc) for _, name, tc in cases_of(report)]
    assert sorted(n for n, _ in cases) == [f"sleep_{i:02d}" for i in range(4)]
    flaky = dict(cases)["sleep_02"]
    assert flaky.find("flakyFailure") is not None and flaky.find("failure") is None


def test_a_frozen_node_past_its_lease_exits_3_and_its_late_result_is_discarded(redis, nodes):
    env = {"QUEUE_UNITS": "1", "QUEUE_SLEEP": "3"}
    frozen = nodes.start(redis.url(), "-j", 1, "--queue-lease", "1s", extra_env=env)
    assert wait_for(lambda: len(os.listdir(nodes.markers)) >= 1)
    frozen.send_signal(signal.SIGSTOP)
    try:
        # each node leases for its own --queue-lease: a generous one here
        other = nodes.start(redis.url(), "-j", 1, "--queue-lease", "5s", extra_env=env)
        code, _, err = finish(other)
        assert code == 0, err
        assert nodes.runs("sleep_00") == 2
    finally:
        frozen.send_signal(signal.SIGCONT)
    code, out, err = finish(frozen)
    assert code == 3, err
    assert "finished after its lease expired" in out + err or "was refused" in out + err, (out, err)
    p, report = nodes.report(redis.url())
    assert p.returncode == 0, p.stderr
    assert [name for _, name, _ in cases_of(report)] == ["sleep_00"]
    # the accepted result is the other node's: the frozen node's own report
    # does not have the test it ran too late
    assert [name for _, name, _ in cases_of(nodes.tmp / "node2.xml")] == ["sleep_00"]
    assert "sleep_00" not in [name for _, name, _ in cases_of(nodes.tmp / "node1.xml")]


def test_a_unit_that_kills_its_node_is_requeued_twice_then_one_error(redis, nodes):
    env = {"QUEUE_UNITS": "1", "QUEUE_KILL_NODE": "sleep_00"}
    codes = []
    for _ in range(5):
        code, _, err = finish(nodes.start(redis.url(), "-j", 1, "--queue-lease", "1s",
                                          extra_env=env))
        codes.append(code)
        if code >= 0:
            break
        time.sleep(1.2)  # past the lease: the next node reclaims it
    assert codes == [-9, -9, -9, 0], (codes, err)
    assert nodes.runs("sleep_00") == 3
    p, report = nodes.report(redis.url())
    assert p.returncode == 1, p.stderr
    cases = cases_of(report)
    assert len(cases) == 1
    message = cases[0][2].find("error").get("message")
    assert message.startswith("lost 3 times: sleepy: sleep_00"), message


def test_redis_stopped_briefly_the_run_completes(redis, nodes):
    env = {"QUEUE_UNITS": "6", "QUEUE_SLEEP": "0.5"}
    procs = [nodes.start(redis.url(), "-j", 1, "--queue-lease", "6s", extra_env=env)
             for _ in range(2)]
    assert wait_for(lambda: len(os.listdir(nodes.markers)) >= 1)
    redis.proc.send_signal(signal.SIGSTOP)
    time.sleep(1.5)
    redis.proc.send_signal(signal.SIGCONT)
    results = [finish(p) for p in procs]
    assert [r[0] for r in results] == [0, 0], results
    p, report = nodes.report(redis.url())
    assert p.returncode == 0, p.stderr
    assert sorted(name for _, name, _ in cases_of(report)) == [f"sleep_{i:02d}" for i in range(6)]


def test_redis_stopped_past_the_lease_nodes_exit_3_and_report_says_what_was_left(redis, nodes):
    env = {"QUEUE_UNITS": "8", "QUEUE_SLEEP": "0.5"}
    node = nodes.start(redis.url(), "-j", 1, "--queue-lease", "1s", extra_env=env)
    assert wait_for(lambda: len(os.listdir(nodes.markers)) >= 1)
    redis.proc.send_signal(signal.SIGSTOP)
    try:
        code, out, err = finish(node, timeout=60)
    finally:
        redis.proc.send_signal(signal.SIGCONT)
    assert code == 3, err
    assert "queue unreachable" in out + err, (out, err)
    p, report = nodes.report(redis.url(), "--queue-lease", "1s", timeout=60)
    assert p.returncode == 3, p
    assert "units left" in p.stderr


def test_an_interrupted_node_leaves_its_unit_to_another_node(redis, nodes):
    env = {"QUEUE_UNITS": "1", "QUEUE_SLEEP": "3"}
    node = nodes.start(redis.url(), "-j", 1, "--queue-lease", "1s", extra_env=env)
    assert wait_for(lambda: len(os.listdir(nodes.markers)) >= 1)
    node.send_signal(signal.SIGTERM)
    code, _, err = finish(node)
    assert code == 143, err
    env["QUEUE_SLEEP"] = "0.1"
    code, _, err = finish(nodes.start(redis.url(), "-j", 1, "--queue-lease", "5s", extra_env=env))
    assert code == 0, err
    assert nodes.runs("sleep_00") == 2
    p, report = nodes.report(redis.url())
    assert p.returncode == 0, p.stderr  # the interrupted attempt is not the result
    cases = cases_of(report)
    assert [name for _, name, _ in cases] == ["sleep_00"]
    assert cases[0][2].find("error") is None and cases[0][2].find("skipped") is None


def test_an_interrupted_node_gives_its_units_back_at_once_without_a_requeue(redis, nodes):
    # a long lease: only a release lets the second node run the unit soon
    env = {"QUEUE_UNITS": "1", "QUEUE_SLEEP": "3"}
    node = nodes.start(redis.url(), "-j", 1, "--queue-lease", "60s", extra_env=env)
    assert wait_for(lambda: len(os.listdir(nodes.markers)) >= 1)
    node.send_signal(signal.SIGTERM)
    code, _, err = finish(node)
    assert code == 143, err
    prefix = "shardrun:{run1}:"
    assert redis.cli("ZCARD", prefix + "leases").strip() == "0"
    assert redis.cli("ZCARD", prefix + "queue").strip() == "1"
    env["QUEUE_SLEEP"] = "0.1"
    start = time.monotonic()
    second = nodes.start(redis.url(), "-j", 1, "--queue-lease", "60s", extra_env=env)
    code, _, err = finish(second, timeout=30)
    assert code == 0, err
    assert time.monotonic() - start < 20
    assert "runs again" not in err  # not a lost lease
    assert redis.cli("HGET", prefix + "requeues", "0").strip() == ""
    assert nodes.runs("sleep_00") == 2
    p, _ = nodes.report(redis.url(), "--run-json", nodes.tmp / "run.json")
    assert p.returncode == 0, p.stderr
    units = json.loads((nodes.tmp / "run.json").read_text())["units"]
    assert [(u["result"], f"-{second.pid}-" in u["node"]) for u in units] == [("passed", True)]


def test_a_planner_that_died_before_publishing_is_taken_over(redis, nodes):
    # a planner that took the lock and died: its lock expires
    redis.cli("SET", "shardrun:{run1}:planner", "dead-node", "PX", 5000)
    start = time.monotonic()
    code, out, err = finish(nodes.start(redis.url(), "-j", 2, extra_env={"QUEUE_UNITS": "4"}))
    assert code == 0, err
    assert time.monotonic() - start >= 4.5  # it waited for the lock first
    assert "another node is planning" in err and "this node planned the run" in err
    assert all(nodes.runs(f"sleep_{i:02d}") == 1 for i in range(4))


def test_no_plan_within_the_init_timeout_is_exit_3(redis, nodes):
    redis.cli("SET", "shardrun:{run1}:planner", "busy-node", "PX", 60000)
    code, out, err = finish(nodes.start(redis.url(), "-j", 1, "--queue-init-timeout", "1s",
                                        extra_env={"QUEUE_UNITS": "2"}))
    assert code == 3, err
    assert "--queue-init-timeout" in err
    assert os.listdir(nodes.markers) == []


def test_a_node_waiting_for_the_plan_stops_on_sigterm(redis, nodes):
    redis.cli("SET", "shardrun:{run1}:planner", "busy-node", "PX", 60000)
    node = nodes.start(redis.url(), "-j", 1, extra_env={"QUEUE_UNITS": "2"})
    time.sleep(1.5)  # past discovery, into the wait
    node.send_signal(signal.SIGTERM)
    code, _, err = finish(node, timeout=10)
    assert code == 143, err
    assert "interrupted while joining" in err


def published(err):
    """The unit count of the planning node's "N unit(s) published" note."""
    for line in err.splitlines():
        if "unit(s) published" in line:
            return int(line.split(":")[-1].split()[0])
    raise AssertionError(f"no plan published: {err}")


def plan_units(nodes, workers):
    """How many units `shardrun plan -j WORKERS` makes of the suite (no history)."""
    p = subprocess.run([str(BIN), "plan", "--json", "-j", str(workers), "--timings",
                        str(nodes.tmp / "plan-timings.json"), "--runs-dir",
                        str(nodes.tmp / "plan-runs"), str(SUITE)],
                       capture_output=True, text=True, env=nodes.env, cwd=nodes.tmp, check=True)
    return len(json.loads(p.stdout)["units"])


def test_the_planner_makes_units_for_every_nodes_shards_with_queue_nodes(redis, nodes):
    # Units sized for the planning node's own 2 shards would leave most of
    # 3 nodes x 2 shards idle behind a few large units (scripts/bench/queue.sh).
    for_two, for_six = plan_units(nodes, 2), plan_units(nodes, 6)
    assert for_six != for_two  # the plans differ
    code, _, err = finish(nodes.start(redis.url("one"), "-j", 2))
    assert code == 0, err
    assert published(err) == for_two
    code, _, err = finish(nodes.start(redis.url("three"), "-j", 2, "--queue-nodes", 3))
    assert code == 0, err
    assert published(err) == for_six
    # a CI matrix's node count is the default
    code, _, err = finish(nodes.start(redis.url("ci"), "-j", 2,
                                      extra_env={"CI_NODE_INDEX": "1", "CI_NODE_TOTAL": "3"}))
    assert code == 0, err
    assert published(err) == for_six
    bad = subprocess.run([str(BIN), "--queue-nodes", "3", str(SUITE)], capture_output=True,
                         text=True, env=nodes.env, cwd=nodes.tmp)
    assert bad.returncode == 2 and "--queue-nodes goes only with --queue" in bad.stderr


def test_report_fails_an_entry_none_of_whose_units_on_any_node_found_a_test(redis, nodes):
    # Files whose checks run at import, with no test function (sympy's
    # ntheory/tests/test_qs.py): pytest exits 5 on each unit. Each node sees
    # only its own units, so only `report` can tell that no unit of the
    # entry found a test, as one pytest run of all the files would have said.
    tests = nodes.tmp / "tests"
    tests.mkdir()
    for i in range(4):
        (tests / f"test_checks{i}.py").write_text(f"assert {i} + 1 == {i + 1}\n")
    suite = nodes.tmp / "pytest.yaml"
    suite.write_text(
        "version: 1\n"
        "env: {PYTHONDONTWRITEBYTECODE: '1'}\n"
        "tests:\n"
        "  - name: py\n"
        "    files: ['tests/test_*.py']\n"
        "    command: /usr/bin/python3 -m pytest -q -p no:cacheprovider {tests}"
        " --junitxml={junit}\n")
    for run, with_a_test in (("empty", False), ("mixed", True)):
        if with_a_test:
            (tests / "test_real.py").write_text("def test_one():\n    assert True\n")
        procs = [nodes.start(redis.url(run), "-j", 2, suite=suite) for _ in range(2)]
        results = [finish(p) for p in procs]
        assert [r[0] for r in results] == [0, 0], results  # a node's part is not judged
        run_json = nodes.tmp / f"report-{run}.json"
        p, out = nodes.report(redis.url(run), "--run-json", run_json)
        units = json.loads(run_json.read_text())["units"]
        assert len(units) >= 2 and all(u["result"] == "passed" for u in units), units
        no_tests = [tc for _, _, tc in cases_of(out)
                    if tc.find("error") is not None
                    and tc.find("error").get("type") == "shardrun.no-tests"]
        if with_a_test:
            assert p.returncode == 0, p.stderr
            assert no_tests == []
            assert [name for _, name, _ in cases_of(out)] == ["test_one"]
        else:
            assert p.returncode == 1, p.stderr
            assert len(no_tests) == 1
            assert len(cases_of(out)) == 1  # no testcase made up for the files
            assert no_tests[0].get("name") == "py"
            assert f"none of this entry's {len(units)} units found a test" in \
                no_tests[0].find("error").get("message")
            assert "py: no tests collected" in p.stderr
