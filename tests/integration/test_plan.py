"""Discovery, planning, the plan command and the CI-node split."""
import json
import pathlib
import shutil
import subprocess
import tempfile

import pytest

from conftest import BIN, FIXTURES, totals

WEIRD_IDS = [
    "plain",
    "with space",
    "it's quoted \"twice\"",
    "$(touch pwned)",
    "`touch pwned2`",
    "semi; touch pwned3",
    "back\\slash",
]


def discover_suite(tmp_path, command, count=None, extra=""):
    ids = WEIRD_IDS if count is None else [f"t{i:03}" for i in range(count)]
    (tmp_path / "ids.txt").write_text("\n".join(ids) + "\n\n" + f"{len(ids)} tests collected\n")
    (tmp_path / "record.sh").write_text(
        '#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done >> "$SHARDRUN_TMPDIR/../../argv.txt"\n')
    (tmp_path / "record.sh").chmod(0o755)
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        "version: 1\n"
        "tests:\n"
        "  - name: weird\n"
        "    discover: cat ids.txt\n"
        f"    command: {command}\n" + extra)
    return suite, ids


@pytest.mark.parametrize("command", ["./record.sh {tests}", '["./record.sh", "{tests}"]'],
                         ids=["string", "list"])
def test_test_ids_reach_the_command_literally(shardrun, tmp_path, command):
    suite, ids = discover_suite(tmp_path, command)
    r = shardrun("--workers", "2", suite)
    assert r.code == 0, r
    got = (r.run_dir() / "argv.txt").read_text().splitlines()
    assert sorted(got) == sorted(ids)
    for bad in ("pwned", "pwned2", "pwned3"):
        assert not (tmp_path / bad).exists()


def test_failing_discover_is_a_suite_error_with_its_output(shardrun, tmp_path):
    suite = tmp_path / "suite.yaml"
    suite.write_text("version: 1\ntests:\n  - name: broken\n"
                     "    discover: \"echo 'ImportError: no module named foo'; exit 4\"\n"
                     "    command: echo {tests}\n")
    r = shardrun(suite)
    assert r.code == 2, r
    assert f"{suite}:4:15: error: discover command of 'broken' failed (exit status 4)" in r.err
    assert "ImportError: no module named foo" in r.err
    assert not r.report.exists()


def plan_json(*args, env=None):
    runs = pathlib.Path(tempfile.mkdtemp(prefix="shardrun-plan-runs-"))
    p = subprocess.run([str(BIN), "plan", "--json", "--runs-dir", str(runs), *map(str, args)],
                       capture_output=True, text=True, env=env)
    shutil.rmtree(runs, ignore_errors=True)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def test_plan_command_prints_units_and_prediction(tmp_path):
    suite, ids = discover_suite(tmp_path, "./record.sh {tests}", count=40)
    plan = plan_json("--workers", "4", suite)
    assert plan["shards"] == 4
    seen = [t for u in plan["units"] for t in u["tests"]]
    assert sorted(seen) == ids
    assert plan["lower_bound"] > 0
    assert plan["predicted_makespan"] >= plan["lower_bound"] * (1 - 1e-9)  # float sums
    assert {u["shard"] for u in plan["units"]} == {0, 1, 2, 3}
    text = subprocess.run([str(BIN), "plan", "-j", "4", "--runs-dir", str(tmp_path / "runs"),
                           str(suite)], capture_output=True, text=True)
    assert text.returncode == 0, text.stderr
    assert "predicted makespan" in text.stdout and "lower bound" in text.stdout
    assert not (tmp_path / "argv.txt").exists()


def node_units(shardrun, suite, tmp_path, index, count, env=None):
    out = tmp_path / f"plan-{index}-{count}.json"
    args = ["--dry-run", "--plan-out", out, suite]
    if index is not None:
        args = ["--shard-index", index, "--shard-count", count] + args
    r = shardrun(*args, extra_env=env)
    assert r.code == 0, r
    return json.loads(out.read_text())["units"]


@pytest.mark.parametrize("count", [1, 2, 3, 5, 8])
def test_ci_nodes_cover_every_test_exactly_once_and_deterministically(shardrun, tmp_path, count):
    suite, ids = discover_suite(tmp_path, "./record.sh {tests}", count=60)
    parts = [node_units(shardrun, suite, tmp_path, i, count) for i in range(count)]
    seen = [t for part in parts for u in part for t in u["tests"]]
    assert sorted(seen) == ids
    again = node_units(shardrun, suite, tmp_path, count - 1, count)
    assert again == parts[-1]


def test_ci_node_from_gitlab_variables_is_one_based(shardrun, tmp_path):
    suite, ids = discover_suite(tmp_path, "./record.sh {tests}", count=30)
    explicit = node_units(shardrun, suite, tmp_path, 0, 2)
    from_env = node_units(shardrun, suite, tmp_path, None, None,
                          env={"CI_NODE_INDEX": "1", "CI_NODE_TOTAL": "2"})
    assert from_env == explicit


def test_plan_in_runs_exactly_the_planned_units(shardrun, tmp_path):
    suite, ids = discover_suite(tmp_path, "./record.sh {tests}", count=20)
    part = node_units(shardrun, suite, tmp_path, 1, 3)
    r = shardrun("--plan-in", tmp_path / "plan-1-3.json", "--workers", "2", suite)
    assert r.code == 0, r
    got = (r.run_dir() / "argv.txt").read_text().splitlines()
    assert sorted(got) == sorted(t for u in part for t in u["tests"])


def test_warm_run_uses_history(shardrun, tmp_path):
    suite = FIXTURES / "pytest-skewed" / "suite.yaml"
    timings = tmp_path / "timings.json"
    cold_plan = plan_json("--workers", "4", "--timings", timings, suite)
    r = shardrun("--workers", "4", "--timings", timings, suite, timeout=300)
    assert r.code == 0, r
    assert totals(r.xml())["tests"] >= 150
    history = json.loads(timings.read_text())
    assert history  # written after the run
    warm_plan = plan_json("--workers", "4", "--timings", timings, suite)
    assert [u["tests"] for u in warm_plan["units"]] != [u["tests"] for u in cold_plan["units"]]
    # The planted 3-second test, last in discovery order and guessed like
    # any other when cold, is known to be slow now: its unit is predicted at
    # 3 s or more and, longest first, goes ahead of every shorter unit.
    planted = lambda units: next(u for u in units
                                 if any("test_planted_slow" in t for t in u["tests"]))
    assert planted(warm_plan["units"])["predicted_seconds"] >= 3.0
    assert planted(cold_plan["units"])["predicted_seconds"] < 3.0
    predicted = [u["predicted_seconds"] for u in warm_plan["units"]]
    assert predicted == sorted(predicted, reverse=True)
    r = shardrun("--workers", "4", "--timings", timings, suite, timeout=300)
    assert r.code == 0, r
    run = json.loads((r.run_dir() / "run.json").read_text())
    slow = planted(run["units"])
    shorter = [u for u in run["units"] if u["predicted_seconds"] < slow["predicted_seconds"]]
    assert all(u["start"] >= slow["start"] - 0.05 for u in shorter), run["units"]


def test_discovery_is_cached_while_its_inputs_are_unchanged(shardrun, tmp_path):
    (tmp_path / "ids.txt").write_text("a\nb\n")
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        "version: 1\n"
        "tests:\n"
        "  - name: cached\n"
        "    discover: cat ids.txt; echo ran >> discover-count.txt\n"
        "    discover_inputs: ['ids.txt']\n"
        "    command: echo {tests} >> seen.txt\n")
    count = tmp_path / "discover-count.txt"
    for _ in range(2):
        r = shardrun("--workers", "1", suite)
        assert r.code == 0, r
    assert count.read_text().count("ran") == 1  # the second run used the cache
    (tmp_path / "ids.txt").write_text("a\nb\nc\n")
    r = shardrun("--workers", "1", suite)
    assert r.code == 0, r
    assert count.read_text().count("ran") == 2  # changed input: discovered again
    assert (tmp_path / "seen.txt").read_text().split()[-3:] == ["a", "b", "c"]
