"""The core engine end to end: the seed suite, a mixed suite, bad suites."""
import json
import os
import re
import subprocess

import pytest

from conftest import BIN, FIXTURES, totals


def xmllint_ok(path):
    proc = subprocess.run(["xmllint", "--noout", str(path)], capture_output=True, text=True)
    return proc.returncode == 0, proc.stderr


def test_seed_three_workers_is_as_fast_as_the_longest_task(shardrun):
    r = shardrun("--workers", "3", FIXTURES / "seed" / "suite.yaml")
    assert r.code == 0, r
    # 6 s + 5 s + 7 s one after another is 18 s; in parallel the longest, 7 s.
    assert r.seconds < 9.5, r
    root = r.xml()
    assert root.tag == "testsuites"
    assert totals(root) == {"tests": 3, "failures": 0, "errors": 0, "skipped": 0}
    assert root.get("tests") == "3" and root.get("failures") == "0"
    # every unit ran in its own shard, with its own shard env
    outs = sorted(e.text for e in root.iter("system-out"))
    assert outs == [f"shard={i} db=seed_db_{i}" for i in range(3)], outs
    shards = {p.get("value") for p in root.iter("property") if p.get("name") == "shardrun.shard"}
    assert shards == {"0", "1", "2"}
    assert re.search(r"balance: .*: (0\.9\d|1\.0\d)$", r.out, re.M), r.out


def test_seed_one_worker_runs_one_after_another(shardrun):
    r = shardrun("--workers", "1", FIXTURES / "seed" / "suite.yaml")
    assert r.code == 0, r
    assert r.seconds >= 18, r
    root = r.xml()
    shards = {p.get("value") for p in root.iter("property") if p.get("name") == "shardrun.shard"}
    assert shards == {"0"}


def test_mixed_suite_reports_every_kind_of_failure(shardrun):
    r = shardrun("--workers", "4", "--kill-grace", "2s", FIXTURES / "mixed" / "suite.yaml")
    assert r.code == 1, r
    ok, err = xmllint_ok(r.report)
    assert ok, err
    root = r.xml()
    counted = totals(root)
    assert counted == {"tests": 14, "failures": 2, "errors": 5, "skipped": 1}, counted
    # the root and every suite carry counts that match their testcases
    assert {k: int(root.get(k)) for k in counted} == counted
    for suite in root.findall("testsuite"):
        assert {k: int(suite.get(k)) for k in counted} == totals(suite)
    # a suite is named by its input and its entry, never by shard or unit
    names = [s.get("name") for s in root.findall("testsuite")]
    assert "pytest [fails]" in names and "mixed [crashes]" in names, names
    assert not [n for n in names if "shard" in n], names

    def error_of(entry):
        for suite in root.findall("testsuite"):
            if suite.get("name").endswith(f" [{entry}]"):
                for case in suite.iter("testcase"):
                    if case.find("error") is not None:
                        return case.find("error")
        raise AssertionError(f"no error testcase for {entry}: {names}")

    crash = error_of("crashes")
    assert "SIGSEGV" in crash.get("message")
    assert "about to crash" in crash.text  # the log tail is attached
    assert "timed out" in error_of("hangs").get("message")
    garbled = error_of("garbles-xml")
    assert "JUnit XML" in garbled.get("message")
    assert "no JUnit XML" in error_of("no-xml-written").get("message") or \
        "no such file" in error_of("no-xml-written").get("message")
    assert "shows no failure" in error_of("exits-nonzero-xml-passing").get("message")
    # the failing units' log tails are printed
    assert "plain failure output" in r.out

    run = json.loads((r.run_dir() / "run.json").read_text())
    by_label = {u["label"]: u for u in run["units"]}
    assert by_label["crashes"]["status"]["signal"] == 11
    assert by_label["plain-fail"]["status"]["exit_code"] == 3
    assert by_label["hangs"]["result"] == "timeout"
    assert by_label["passes"]["result"] == "passed"
    assert run["exit_code"] == 1
    for unit in run["units"]:
        assert unit["end"] >= unit["start"] >= 0


def test_env_and_placeholders_reach_the_commands(shardrun, tmp_path):
    suite = tmp_path / "env.yaml"
    suite.write_text(
        "version: 1\n"
        "env: {SHARED: common, REF: 'x-{env.SHARED}'}\n"
        "shard:\n"
        "  env: {PER_SHARD: 'db_{shard}_of_{shards}'}\n"
        "tests:\n"
        "  - name: show\n"
        "    env: {ENTRY: 'e{shard}'}\n"
        "    command: env | grep -E '^(SHARED|REF|PER_SHARD|ENTRY|SHARDRUN_[A-Z_]+|TEST_ENV_NUMBER)=' | sort > {tmp}/env.txt; cp {tmp}/env.txt {run_dir}/env-{shard}.txt; echo '{{literal}}' > {run_dir}/brace.txt\n"
    )
    r = shardrun("--workers", "1", suite)
    assert r.code == 0, r
    run_dir = r.run_dir()
    env = dict(line.split("=", 1) for line in (run_dir / "env-0.txt").read_text().splitlines())
    assert env["SHARED"] == "common"
    assert env["REF"] == "x-common"
    assert env["PER_SHARD"] == "db_0_of_1"
    assert env["ENTRY"] == "e0"
    assert env["SHARDRUN_SHARD"] == "0"
    assert env["SHARDRUN_SHARDS"] == "1"
    assert env["TEST_ENV_NUMBER"] == "1"
    assert env["SHARDRUN_RUN_DIR"] == str(run_dir)
    assert env["SHARDRUN_RUN_ID"] == run_dir.name
    assert env["SHARDRUN_TMPDIR"].startswith(str(run_dir))
    assert env["SHARDRUN_JUNIT"].endswith(".xml")
    assert (run_dir / "brace.txt").read_text() == "{literal}\n"


def test_setup_and_teardown_order_and_failing_setup(shardrun, tmp_path):
    log = tmp_path / "order.log"
    suite = tmp_path / "order.yaml"
    suite.write_text(
        "version: 1\n"
        f"setup: ['echo global-setup >> {log}']\n"
        f"teardown: ['echo global-teardown >> {log}']\n"
        "shard:\n"
        f"  setup: ['echo shard-setup-{{shard}} >> {log}']\n"
        f"  teardown: ['echo shard-teardown-{{shard}} >> {log}']\n"
        "tests:\n"
        f"  - {{name: a, command: 'echo unit-a >> {log}'}}\n"
    )
    r = shardrun("--workers", "1", suite)
    assert r.code == 0, r
    assert log.read_text().split() == [
        "global-setup", "shard-setup-0", "unit-a", "shard-teardown-0", "global-teardown"]

    log.unlink()
    bad = tmp_path / "bad-setup.yaml"
    bad.write_text(suite.read_text().replace(f"echo global-setup >> {log}",
                                             f"echo global-setup >> {log}; exit 7"))
    r = shardrun("--workers", "1", bad)
    assert r.code == 3, r
    assert "global setup" in r.out
    assert "exit status 7" in r.out
    # the unit never ran, the teardown did
    assert log.read_text().split() == ["global-setup", "global-teardown"]
    root = r.xml()
    assert totals(root)["errors"] == 1 and totals(root)["skipped"] == 1


def test_failing_shard_setup_leaves_the_other_shards_working(shardrun, tmp_path):
    suite = tmp_path / "shard-setup.yaml"
    suite.write_text(
        "version: 1\n"
        "shard:\n"
        "  setup: ['test {shard} -ne 1']\n"
        "tests:\n" + "".join(f"  - {{name: t{i}, command: 'sleep 0.3'}}\n" for i in range(6))
    )
    r = shardrun("--workers", "2", suite)
    assert r.code == 3, r
    assert "shard 1" in r.out and "setup command 1 of 1 failed" in r.out
    root = r.xml()
    passed = [c for c in root.iter("testcase") if len(c) == 0]
    assert len(passed) == 6  # all units ran on shard 0


@pytest.mark.parametrize("bad", sorted((FIXTURES / "bad").glob("*.yaml")), ids=lambda p: p.stem)
def test_bad_suites_exit_2_with_line_and_column(shardrun, bad, tmp_path):
    first = bad.read_text(errors="replace").splitlines()[0]
    m = re.match(r"# expect: (\d+:\d+): (.*)", first)
    assert m, f"{bad} has no '# expect: LINE:COL: message' line"
    marker = tmp_path / "ran"
    r = shardrun(bad, extra_env={"SHARDRUN_MARKER": str(marker)})
    assert r.code == 2, r
    assert f"{bad}:{m.group(1)}: error: {m.group(2)}" in r.err, r
    assert r.err.startswith(str(bad)), r
    assert not r.report.exists()


def test_missing_suite_file(shardrun, tmp_path):
    r = shardrun(tmp_path / "nope.yaml")
    assert r.code == 2, r
    assert "nope.yaml" in r.err and "No such file" in r.err


def test_usage_errors_exit_2(shardrun, tmp_path):
    r = shardrun("--workers", "zero", FIXTURES / "seed" / "suite.yaml")
    assert r.code == 2 and "--workers" in r.err, r
    r = shardrun("--no-such-flag", FIXTURES / "seed" / "suite.yaml")
    assert r.code == 2, r


def test_help_and_version():
    out = subprocess.run([str(BIN), "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    for words in ("--workers", "--junit", "merge", "Exit status"):
        assert words in out.stdout
    out = subprocess.run([str(BIN), "--version"], capture_output=True, text=True)
    # the version and the commit built from (scripts/test-package.sh checks
    # that the commit is the checkout's HEAD)
    assert out.returncode == 0, out
    assert re.fullmatch(r"shardrun \d+\.\d+\.\d+ \(git ([0-9a-f]{7,}|unknown)\)\n", out.stdout), out


def test_merge_command_combines_reports(tmp_path):
    a = tmp_path / "a.xml"
    b = tmp_path / "b.xml"
    a.write_text('<testsuite name="pytest"><testcase classname="m" name="t1"/>'
                 '<testcase classname="m" name="t2"><failure message="x">boom</failure></testcase>'
                 '</testsuite>')
    b.write_text('<testsuites><testsuite name="pytest"><testcase classname="n" name="t3"/>'
                 '</testsuite></testsuites>')
    out = tmp_path / "all.xml"
    p = subprocess.run([str(BIN), "merge", "-o", str(out), str(a), str(b), str(tmp_path / "gone.xml")],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    ok, err = xmllint_ok(out)
    assert ok, err
    import xml.etree.ElementTree as ET
    root = ET.parse(out).getroot()
    assert totals(root) == {"tests": 4, "failures": 1, "errors": 1, "skipped": 0}
    # both inputs' suites keep their name, as every CI node's would
    names = [s.get("name") for s in root.findall("testsuite")]
    assert names == ["pytest", "pytest", "shardrun.merge"], names


def test_resource_variables_reach_setup_units_and_teardown_in_order(shardrun, tmp_path):
    # A later resource and the shard's commands see an earlier one's variable.
    suite = tmp_path / "resources.yaml"
    out = tmp_path / "seen"
    suite.write_text(
        "version: 1\nshard:\n  resources:\n    - {type: port, name: P}\n"
        "    - {type: service, name: s, command: 'echo port={env.P}; exec sleep 60',"
        " ready: {log: 'port=\\d+'}}\n"
        f"  setup: ['echo setup $P >> {out}']\n  teardown: ['echo teardown $P >> {out}']\n"
        f"tests:\n  - {{name: a, command: 'echo unit $P >> {out}'}}\n")
    r = shardrun("-j", "1", suite)
    assert r.code == 0, r
    lines = out.read_text().split()
    assert lines[0::2] == ["setup", "unit", "teardown"], lines
    port = lines[1]
    assert port.isdigit() and lines[3] == lines[5] == port
    assert f"port={port}" in (r.run_dir() / "logs" / "shard-0-service-s.log").read_text()


def test_keep_runs_orders_runs_of_one_second_by_age_not_pid_text(shardrun, tmp_path):
    runs = tmp_path / "runs"
    # as text "10001" < "9999": the pid text would pick the wrong one
    older = runs / "20200101-000000-9999"
    newer = runs / "20200101-000000-10001"
    for d in (older, newer):
        d.mkdir(parents=True)
    os.utime(older, (1_000_000, 1_000_000))
    os.utime(newer, (2_000_000, 2_000_000))
    suite = tmp_path / "s.yaml"
    suite.write_text("version: 1\ntests:\n  - {name: a, command: 'true'}\n")
    r = shardrun("--keep-runs", "2", suite)
    assert r.code == 0, r
    left = sorted(p.name for p in runs.iterdir())
    assert newer.name in left and older.name not in left and len(left) == 2, left
