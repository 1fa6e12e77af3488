"""Real-suite speed (issue 9): units of whole test files, `files:` entries,
the learned cost model, and the discovery cache on warm runs, with real
pytest runs on a small generated project."""
import json
import os
import pathlib
import subprocess
import time

import pytest

from conftest import BIN, totals

PYTEST = "/usr/bin/python3 -m pytest -q -p no:cacheprovider"


def write_project(root, files):
    """files: {"test_a.py": ["t1", "t2"], ...} -> test functions that pass."""
    tests = root / "tests"
    tests.mkdir(exist_ok=True)
    for name, funcs in files.items():
        body = "".join(f"def test_{f}():\n    assert True\n\n" for f in funcs)
        (tests / name).write_text(body)


def suite_file(root, mode):
    if mode == "files":
        ids = "    files: ['tests/test_*.py']\n"
    else:
        # Counts its own runs in a file the cache does not look at (.txt).
        ids = (f"    discover: echo ran >> discover-count.txt; {PYTEST} --collect-only tests\n")
    suite = root / "suite.yaml"
    suite.write_text(
        "version: 1\n"
        "env: {PYTHONDONTWRITEBYTECODE: '1'}\n"
        "tests:\n"
        "  - name: py\n" + ids +
        f"    command: {PYTEST} {{tests}} --junitxml={{junit}}\n")
    return suite


def names(report):
    return sorted(tc.get("name") for tc in report.iter("testcase"))


def run_json(result):
    return json.loads((result.run_dir() / "run.json").read_text())


@pytest.mark.parametrize("mode", ["files", "discover"])
def test_added_removed_and_edited_test_files_count_on_a_warm_run(shardrun, tmp_path, mode):
    write_project(tmp_path, {"test_a.py": ["a1", "a2"], "test_b.py": ["b1"],
                             "test_c.py": ["c1", "c2", "c3"]})
    suite = suite_file(tmp_path, mode)
    for _ in range(2):  # cold, then warm with history (and a cached discovery)
        r = shardrun("--workers", "2", suite)
        assert r.code == 0, r
        assert names(r.xml()) == ["test_a1", "test_a2", "test_b1", "test_c1", "test_c2", "test_c3"]
    if mode == "discover":
        assert (tmp_path / "discover-count.txt").read_text().count("ran") == 1

    tests = tmp_path / "tests"
    (tests / "test_b.py").unlink()                                    # removed
    (tests / "test_d.py").write_text("def test_d1():\n    assert True\n")  # added
    (tests / "test_c.py").write_text(                                  # edited
        "def test_c1():\n    assert True\n\ndef test_c4():\n    assert True\n")
    r = shardrun("--workers", "2", suite)
    assert r.code == 0, r  # no unit failed on a test id that no longer exists
    assert names(r.xml()) == ["test_a1", "test_a2", "test_c1", "test_c4", "test_d1"]
    assert totals(r.xml())["failures"] == 0 and totals(r.xml())["errors"] == 0
    if mode == "discover":
        assert (tmp_path / "discover-count.txt").read_text().count("ran") == 2


def test_files_are_planned_whole_and_the_history_maps_testcases_back_to_files(
        shardrun, tmp_path):
    write_project(tmp_path, {f"test_{k}.py": [f"{k}{i}" for i in range(5)] for k in "abcdef"})
    suite = suite_file(tmp_path, "files")
    timings = tmp_path / "timings.json"
    r = shardrun("--workers", "2", "--timings", timings, suite)
    assert r.code == 0, r
    for unit in run_json(r)["units"]:
        # ids are files; a file is in one unit only
        assert all(t.startswith("tests/test_") and t.endswith(".py") for t in unit["tests"])
        assert "predicted_seconds" in unit and unit["actual_seconds"] > 0
    seen = [t for u in run_json(r)["units"] for t in u["tests"]]
    assert sorted(seen) == [f"tests/test_{k}.py" for k in "abcdef"]
    history = json.loads(timings.read_text())["entries"]["py"]
    # every file has its tests' time and a learned load; the entry a start-up
    assert sorted(history["tests"]) == [f"tests/test_{k}.py" for k in "abcdef"]
    assert sorted(history["groups"]) == [f"tests/test_{k}.py" for k in "abcdef"]
    assert history["startup"]["seconds"] > 0


def test_a_slow_file_import_is_learned_as_its_load_not_as_every_units_start_up(shardrun, tmp_path):
    # One file costs 3 s to import (outside any testcase's time); the others
    # nothing. A unit holding it must not teach the planner that every
    # process takes seconds to start (that made extra units look too dear
    # and warm plans one unit a shard, with no tail to absorb an overrun).
    write_project(tmp_path, {f"test_{k}.py": [f"{k}{i}" for i in range(3)] for k in "abcdefgh"})
    heavy = tmp_path / "tests" / "test_a.py"
    heavy.write_text("import time\ntime.sleep(3)\n\n" + heavy.read_text())
    suite = suite_file(tmp_path, "files")
    timings = tmp_path / "timings.json"
    r = shardrun("--workers", "2", "--timings", timings, suite)
    assert r.code == 0, r
    units = run_json(r)["units"]
    assert len(units) >= 2, units
    quickest = min(u["actual_seconds"] for u in units)
    history = json.loads(timings.read_text())["entries"]["py"]
    assert history["startup"]["seconds"] <= quickest + 0.01, (history, units)
    # The 3 s went to the loads of the files that unit held (which of them
    # one run cannot tell; runs with other unit sizes settle it).
    held = next(u["tests"] for u in units if "tests/test_a.py" in u["tests"])
    assert sum(history["groups"][f]["seconds"] for f in held) > 2.0, (history, units)


def test_discover_ids_are_grouped_by_file(shardrun, tmp_path):
    write_project(tmp_path, {f"test_{k}.py": [f"{k}{i}" for i in range(4)] for k in "abcd"})
    suite = suite_file(tmp_path, "discover")
    r = shardrun("--workers", "2", suite)
    assert r.code == 0, r
    units = run_json(r)["units"]
    files_per_unit = [{t.split("::")[0] for t in u["tests"]} for u in units]
    for i, files in enumerate(files_per_unit):
        for other in files_per_unit[i + 1:]:
            assert not files & other, units  # no file is spread over two units
    assert len(names(r.xml())) == 16


def test_warm_discover_run_starts_its_first_unit_without_collecting(shardrun, tmp_path):
    write_project(tmp_path, {f"test_{k}.py": ["x", "y"] for k in "abc"})
    # Collection made slow on purpose: a warm run must not wait for it.
    (tmp_path / "tests" / "conftest.py").write_text(
        "import os, time\n"
        "if os.environ.get('SLOW_COLLECT'):\n"
        "    time.sleep(3)\n")
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        "version: 1\n"
        "env: {PYTHONDONTWRITEBYTECODE: '1'}\n"
        "tests:\n"
        "  - name: py\n"
        f"    discover: SLOW_COLLECT=1 {PYTEST} --collect-only tests\n"
        f"    command: {PYTEST} {{tests}} --junitxml={{junit}}\n")
    cold = shardrun("--workers", "2", suite)
    assert cold.code == 0, cold
    assert min(u["start"] for u in run_json(cold)["units"]) >= 3.0  # waited for discovery
    # A fresh checkout: same content, new modification times.
    for f in (tmp_path / "tests").iterdir():
        os.utime(f, (time.time() + 5, time.time() + 5))
    warm = shardrun("--workers", "2", suite)
    assert warm.code == 0, warm
    assert min(u["start"] for u in run_json(warm)["units"]) < 1.0
    assert len(names(warm.xml())) == 6


def test_plan_shows_groups_learned_costs_and_the_prediction_error(shardrun, tmp_path):
    write_project(tmp_path, {f"test_{k}.py": [f"{k}{i}" for i in range(3)] for k in "abcdefgh"})
    suite = suite_file(tmp_path, "files")
    timings = tmp_path / "timings.json"

    def plan():
        out = subprocess.run([str(BIN), "plan", "--workers", "2", "--timings", str(timings),
                              str(suite)], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return out.stdout

    cold = plan()
    assert "start-up not learned yet; 8 groups (0 learned" in cold
    assert "prediction error not measured yet" in cold
    for _ in range(2):
        r = shardrun("--workers", "2", "--timings", timings, suite)
        assert r.code == 0, r
    warm = plan()
    assert "8 groups (8 learned" in warm
    assert "24 tests" not in warm  # files mode: the ids are the 8 files
    assert "8 tests (8 timed)" in warm
    assert any(line.split()[:3] == ["unit", "label", "groups"] for line in warm.splitlines())
    history = json.loads(timings.read_text())["entries"]["py"]
    # the warm run predicted from history: its error was measured
    assert "error" in history, history.keys()
    assert "prediction error +-" in warm


def test_group_regex_decides_what_stays_together(shardrun, tmp_path):
    ids = [f"mod{m}.case{c}" for m in range(3) for c in range(4)]
    (tmp_path / "ids.txt").write_text("\n".join(ids) + "\n")
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        "version: 1\n"
        "tests:\n"
        "  - name: g\n"
        "    discover: cat ids.txt\n"
        "    discover_inputs: ['ids.txt']\n"
        "    group: '^(mod[0-9]+)\\.'\n"
        "    command: echo {tests}\n")
    r = shardrun("--workers", "3", suite)
    assert r.code == 0, r
    groups = {}
    for unit in run_json(r)["units"]:
        for t in unit["tests"]:
            groups.setdefault(t.split(".")[0], set()).add(unit["id"])
    assert all(len(u) == 1 for u in groups.values()), groups  # no module in two units


def test_bad_group_regex_is_a_suite_error(shardrun, tmp_path):
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        "version: 1\n"
        "tests:\n"
        "  - name: g\n"
        "    files: ['*.py']\n"
        "    group: '(unclosed'\n"
        "    command: echo {tests}\n")
    r = shardrun(suite)
    assert r.code == 2, r
    assert "suite.yaml:5:12: error: 'group' is not a valid regular expression" in r.err


def test_a_test_file_without_tests_does_not_fail_its_unit_but_an_entry_without_any_does(
        shardrun, tmp_path):
    # sympy/ntheory/tests/test_qs.py checks at import and has no test
    # function: a unit holding only such a file makes pytest exit 5 ("no
    # tests collected"), which one pytest run of the whole suite never says.
    write_project(tmp_path, {"test_a.py": ["a1", "a2"]})
    (tmp_path / "tests" / "test_import_checks.py").write_text("assert sum(range(10)) == 45\n")
    suite = suite_file(tmp_path, "files")
    r = shardrun("--workers", "2", suite)
    alone = [u for u in run_json(r)["units"] if u["tests"] == ["tests/test_import_checks.py"]]
    assert len(alone) == 1, run_json(r)["units"]  # the case this test is about
    assert r.code == 0, r
    assert alone[0]["result"] == "passed"
    assert "no tests collected" in alone[0]["note"]
    assert names(r.xml()) == ["test_a1", "test_a2"]
    assert totals(r.xml())["errors"] == 0

    # Nothing but such files: as `pytest tests/` would, the run fails.
    (tmp_path / "tests" / "test_a.py").unlink()
    r = shardrun("--workers", "2", suite)
    assert r.code == 1, r
    errors = [tc for tc in r.xml().iter("testcase") if tc.find("error") is not None]
    assert len(errors) == 1
    assert errors[0].find("error").get("type") == "shardrun.no-tests"
    assert "no tests collected" in errors[0].find("error").get("message")
    assert "shardrun: py: no tests collected: none of this entry's" in r.out  # said as written
