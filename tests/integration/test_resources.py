"""Per-shard ports and services (DESIGN §5) with light stand-in services.

The real PostgreSQL and Chromium suites are in test_db.py and
test_selenium.py; these cover the resource lifecycle itself: locks across
concurrent runs, readiness, a service dying, a shard that cannot be
prepared, and that no service process outlives its run.
"""
import os
import re
import signal
import subprocess
import time

from conftest import BIN, FIXTURES, processes_with, totals

RES = FIXTURES / "resources"




def ports_in_logs(run_dir):
    ports = []
    for log in (run_dir / "logs").glob("0*.log"):
        m = re.search(r"PORTS (\d+) (\d+)", log.read_text())
        assert m, log.read_text()
        ports.append((int(m.group(1)), int(m.group(2))))
    return ports


def test_each_shard_reaches_its_own_service_and_no_service_outlives_the_run(shardrun):
    r = shardrun("-j", "3", RES / "services.yaml")
    assert r.code == 0, r
    assert totals(r.xml()) == {"tests": 7, "failures": 0, "errors": 0, "skipped": 0}
    run_dir = r.run_dir()
    logs = sorted((run_dir / "logs").glob("shard-*-service-web.log"))
    assert len(logs) == 3
    assert all("ready on port" in log.read_text() for log in logs)
    assert processes_with(str(run_dir)) == []


def test_two_runs_at_once_never_share_a_port(tmp_path):
    # 16 ports for 2 runs x 4 shards x 2 ports: without the cross-process
    # lock both runs would scan the same small range and collide. The range
    # lies above the default one, so other tests' services never sit in it.
    env = dict(os.environ, SHARDRUN_PORT_RANGE="32100-32115", SHARDRUN_LOCK_DIR=str(tmp_path / "locks"))
    procs = []
    for name in ("one", "two"):
        cmd = [str(BIN), "-j", "4", "--junit", str(tmp_path / f"{name}.xml"), "--runs-dir",
               str(tmp_path / name), "--timings", str(tmp_path / f"{name}.json"), str(RES / "ports.yaml")]
        procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env))
    outs = [p.communicate(timeout=60)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    seen = []
    for name in ("one", "two"):
        run_dir = next((tmp_path / name).iterdir())
        for p1, p2 in ports_in_logs(run_dir):
            assert 32100 <= p1 <= 32115 and 32100 <= p2 <= 32115
            seen.append((name, p1, p2))
    # Within a shard the two ports differ; across every shard of both runs too.
    per_shard = {(name, p1, p2) for name, p1, p2 in seen}
    all_ports = [p for _, p1, p2 in per_shard for p in (p1, p2)]
    assert len(per_shard) == 8
    assert len(set(all_ports)) == 16, sorted(all_ports)


def test_a_full_port_range_fails_the_shards_with_a_clear_message(shardrun, tmp_path):
    r = shardrun("-j", "2", RES / "ports.yaml",
                 extra_env={"SHARDRUN_PORT_RANGE": "32120-32122", "SHARDRUN_LOCK_DIR": str(tmp_path / "l")})
    # Three ports: shard 0 gets two, shard 1 gets one and then none.
    assert r.code == 3, r
    assert "port P2: no free TCP port between 32120 and 32122" in r.out + r.err
    assert totals(r.xml())["tests"] >= 4


def test_a_service_dying_mid_run_fails_that_units_shard_only(shardrun):
    r = shardrun("-j", "2", RES / "service-dies.yaml")
    assert r.code == 3, r
    out = r.out + r.err
    assert "service 'flaky' of shard 0 exited (exit status 7)" in out
    assert "the shard takes no more units" in out
    root = r.xml()
    stopped = [c for c in root.iter("testcase")
               if c.find("error") is not None and "stopped" in c.find("error").get("message", "")]
    assert len(stopped) == 1, r
    assert "service 'flaky' of shard 0 exited" in stopped[0].find("error").get("message")
    # Every other unit ran and passed, on shard 1 after the death.
    passed = [c for c in root.iter("testcase")
              if all(c.find(k) is None for k in ("error", "failure", "skipped"))]
    assert len(passed) == 5, r
    assert processes_with(str(r.run_dir())) == []


def test_a_shard_that_cannot_be_prepared_leaves_the_units_to_the_others(shardrun):
    r = shardrun("-j", "3", RES / "service-one-shard-fails.yaml")
    assert r.code == 3, r
    out = r.out + r.err
    assert "shard 1: service 'web': exited before it was ready (exit status 4)" in out
    t = totals(r.xml())
    # The four tests ran on shards 0 and 2 and passed; one error names the broken shard.
    assert t == {"tests": 5, "failures": 0, "errors": 1, "skipped": 0}, r
    log = (r.run_dir() / "logs" / "shard-1-service-web.log").read_text()
    assert "cannot start on shard 1" in log


def test_a_service_never_ready_times_out_and_nothing_runs(shardrun):
    r = shardrun("-j", "1", RES / "service-never-ready.yaml")
    assert r.code == 3, r
    assert re.search(r"service 'web': not ready after 1s \(127\.0\.0\.1:\d+: Connection refused\)",
                     r.out + r.err), r
    assert r.seconds < 15
    assert processes_with(str(r.run_dir())) == []


def test_interrupt_stops_services_and_frees_ports(tmp_path):
    runs = tmp_path / "runs"
    cmd = [str(BIN), "-j", "2", "--kill-grace", "2s", "--junit", str(tmp_path / "r.xml"), "--runs-dir",
           str(runs), "--timings", str(tmp_path / "t.json"), str(RES / "services.yaml")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=dict(os.environ, SLOW="30"), cwd=tmp_path)
    deadline = time.monotonic() + 20
    run_dir = None
    while time.monotonic() < deadline:
        dirs = list(runs.glob("*")) if runs.exists() else []
        if dirs and len(processes_with(str(dirs[0]))) >= 2:
            run_dir = dirs[0]
            break
        time.sleep(0.1)
    assert run_dir, "services did not start"
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    out = proc.communicate(timeout=30)[0]
    assert proc.returncode == 130, out
    assert processes_with(str(run_dir)) == []
    assert (tmp_path / "r.xml").exists()


def test_bad_resource_fields_are_suite_errors(shardrun, tmp_path):
    suite = tmp_path / "s.yaml"
    suite.write_text("version: 1\nshard:\n  resources:\n    - {type: service, name: web, command: x, ready: {tcp: x, http: y}}\n"
                     "tests: [{name: a, command: 'true'}]\n")
    r = shardrun(suite)
    assert r.code == 2
    assert "s.yaml:4:" in r.err and "'ready' needs exactly one of 'tcp', 'http' or 'log'" in r.err


def test_a_silent_database_server_neither_hangs_the_run_nor_ignores_ctrl_c(tmp_path):
    # A server that accepts connections and never says a word: connecting
    # is polled, so the run still answers SIGINT at once.
    import socket
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    port = server.getsockname()[1]
    suite = tmp_path / "s.yaml"
    suite.write_text("version: 1\nshard:\n  resources:\n    - {type: postgres, prefix: silent}\n"
                     "tests:\n  - {name: a, command: 'true'}\n  - {name: b, command: 'true'}\n")
    env = dict(os.environ, PGHOST="127.0.0.1", PGPORT=str(port), PGUSER="nobody", PGDATABASE="x")
    cmd = [str(BIN), "-j", "2", "--junit", str(tmp_path / "r.xml"), "--runs-dir", str(tmp_path / "runs"),
           "--timings", str(tmp_path / "t.json"), str(suite)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    time.sleep(2)
    assert proc.poll() is None  # still waiting for the server
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out = proc.communicate(timeout=20)[0]
    assert proc.returncode == 130, out
    assert time.monotonic() - sent < 3, out
    assert (tmp_path / "r.xml").exists()
    server.close()


def spans_of(run):
    """{shard: [span, ...]} of run.json's shard_spans."""
    return {s["shard"]: s["spans"] for s in run["shard_spans"]}


def test_run_json_has_each_shards_resource_setup_units_and_teardown_spans(shardrun):
    import json
    r = shardrun("-j", "2", RES / "lifecycle.yaml")
    assert r.code == 1, r  # t4 fails
    run = json.loads((r.run_dir() / "run.json").read_text())
    spans = spans_of(run)
    assert sorted(spans) == [0, 1]
    for shard, shard_spans in spans.items():
        kinds = [(s["kind"], s.get("name")) for s in shard_spans]
        assert kinds == [("resource", "port WEB_PORT"), ("resource", "service 'web'"),
                         ("setup", None), ("units", None), ("teardown", None)], kinds
        port, web, setup, units, teardown = shard_spans
        assert port["outcome"] == web["outcome"] == "ready"
        assert setup["outcome"] == teardown["outcome"] == "ok"
        assert setup["commands"] == teardown["commands"] == 1
        # in time order, and the commands took what they sleep
        assert 0 <= port["start"] <= port["end"] <= web["start"] <= web["end"] <= setup["start"]
        assert setup["end"] - setup["start"] >= 0.3
        assert teardown["end"] - teardown["start"] >= 0.2
        assert setup["end"] <= units["start"] <= units["end"] <= teardown["start"]
        # released in reverse after the teardown, within the run
        assert teardown["end"] <= web["released"] <= port["released"] <= run["elapsed"]
        # the units span covers exactly this shard's units from the units array
        mine = [u for u in run["units"] if u["shard"] == shard]
        assert units["units"] == len(mine) >= 1
        assert units["start"] == min(u["start"] for u in mine)
        assert units["end"] == max(u["end"] for u in mine)


def test_run_json_spans_show_a_service_never_ready_and_one_that_died(shardrun):
    import json
    r = shardrun("-j", "1", RES / "service-never-ready.yaml")
    assert r.code == 3, r
    spans = spans_of(json.loads((r.run_dir() / "run.json").read_text()))[0]
    web = [s for s in spans if s.get("name") == "service 'web'"]
    assert len(web) == 1 and web[0]["outcome"] == "failed", spans
    assert "1s" in web[0]["error"] or "ready" in web[0]["error"], web
    assert 0.9 <= web[0]["end"] - web[0]["start"] < 5
    assert [s["kind"] for s in spans if s["kind"] in ("setup", "units")] == []

    r = shardrun("-j", "2", RES / "service-dies.yaml")
    assert r.code != 0, r
    spans = spans_of(json.loads((r.run_dir() / "run.json").read_text()))
    died = [s for s in spans[0] if s.get("name") == "service 'flaky'"]
    assert died[0]["outcome"] == "died", spans[0]
    assert died[0]["died"] >= died[0]["end"] + 1.0  # ready, then 1.5 s later it died
    assert "exited" in died[0]["error"]
    assert [s["outcome"] for s in spans[1] if s.get("name") == "service 'flaky'"] == ["ready"]
