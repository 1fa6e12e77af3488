"""Choosing what runs (issue 12, part 4): `shardrun SUITE ENTRY...` runs only
the named entries; `--list` prints the entries and their test ids and runs
nothing."""
import json
import subprocess

from conftest import BIN, totals


def three_entries(tmp_path):
    """Entries `ids` (discovered ids), `files` (test files) and `plain` (no
    ids); each command appends what it ran to ran.txt in the run dir."""
    (tmp_path / "ids.txt").write_text("t1\nt2\nt3\n")
    (tmp_path / "tests").mkdir()
    for name in ("test_a.py", "test_b.py"):
        (tmp_path / "tests" / name).write_text("")
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        "version: 1\n"
        "name: three\n"
        "tests:\n"
        "  - name: ids\n"
        "    discover: cat ids.txt\n"
        "    command: echo {tests} >> \"$SHARDRUN_RUN_DIR/ran.txt\"\n"
        "  - name: files\n"
        "    files: ['tests/test_*.py']\n"
        "    command: echo {tests} >> \"$SHARDRUN_RUN_DIR/ran.txt\"\n"
        "  - name: plain\n"
        "    command: echo plain >> \"$SHARDRUN_RUN_DIR/ran.txt\"\n")
    return suite


def ran(result):
    """Every word the commands wrote, sorted."""
    return sorted((result.run_dir() / "ran.txt").read_text().split())


def test_named_entries_run_and_the_others_do_not(shardrun, tmp_path):
    suite = three_entries(tmp_path)
    r = shardrun("--workers", "2", suite, "plain", "ids")
    assert r.code == 0, r
    assert ran(r) == ["plain", "t1", "t2", "t3"]
    units = json.loads((r.run_dir() / "run.json").read_text())["units"]
    assert {u["entry"] for u in units} == {"ids", "plain"}
    assert totals(r.xml())["tests"] == 4
    # all of them without names
    r = shardrun("--workers", "2", suite)
    assert r.code == 0, r
    assert ran(r) == ["plain", "t1", "t2", "t3", "tests/test_a.py", "tests/test_b.py"]


def test_an_unknown_entry_is_a_usage_error_that_names_the_known_ones(shardrun, tmp_path):
    suite = three_entries(tmp_path)
    r = shardrun(suite, "ids", "unit")
    assert r.code == 2, r
    assert "no entry 'unit' in" in r.err and "(its entries: ids, files, plain)" in r.err, r
    assert not (tmp_path / "report.xml").exists()
    assert not list((tmp_path / "runs").glob("*/ran.txt"))  # nothing ran


def test_list_prints_entries_and_ids_and_runs_nothing(shardrun, tmp_path):
    suite = three_entries(tmp_path)
    r = shardrun("--list", suite)
    assert r.code == 0, r
    assert r.out == ("ids: 3 test ids\n  t1\n  t2\n  t3\n"
                     "files: 2 test files\n  tests/test_a.py\n  tests/test_b.py\n"
                     "plain: no test ids (runs as one unit)\n"), r
    assert not list((tmp_path / "runs").glob("*/ran.txt"))
    assert not (tmp_path / "report.xml").exists()
    # with names: only those
    r = shardrun("--list", suite, "files")
    assert r.code == 0, r
    assert r.out == "files: 2 test files\n  tests/test_a.py\n  tests/test_b.py\n", r


def test_plan_of_named_entries(tmp_path):
    suite = three_entries(tmp_path)
    p = subprocess.run([str(BIN), "plan", "--json", "--runs-dir", str(tmp_path / "runs"),
                        "--timings", str(tmp_path / "t.json"), str(suite), "files"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    units = json.loads(p.stdout)["units"]
    assert {u["entry"] for u in units} == {"files"}
    assert sorted(t for u in units for t in u["tests"]) == ["tests/test_a.py", "tests/test_b.py"]


RUNNER = """import sys, pathlib
junit, ids = sys.argv[1], sys.argv[2:]
fail = set(pathlib.Path("fail.txt").read_text().split())
with open(pathlib.Path(__import__("os").environ["SHARDRUN_RUN_DIR"]) / "ran.txt", "a") as f:
    f.write(" ".join(ids) + "\\n")
cases = "".join(
    f'<testcase name="{i}">' + ('<failure message="told to fail"/>' if i in fail else "")
    + "</testcase>" for i in ids)
pathlib.Path(junit).write_text(f"<testsuite>{cases}</testsuite>")
sys.exit(1 if fail & set(ids) else 0)
"""


def test_last_failed_runs_only_what_failed_then_everything_again(shardrun, tmp_path):
    (tmp_path / "ids.txt").write_text("t1\nt2\nt3\nt4\n")
    (tmp_path / "run.py").write_text(RUNNER)
    (tmp_path / "fail.txt").write_text("t2 t4\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text("")
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        "version: 1\n"
        "name: lf\n"
        "tests:\n"
        "  - name: ids\n"
        "    discover: cat ids.txt\n"
        "    command: /usr/bin/python3 run.py {junit} {tests}\n"
        "  - name: files\n"
        "    files: ['tests/test_*.py']\n"
        "    command: echo {tests} >> \"$SHARDRUN_RUN_DIR/ran.txt\"\n"
        "  - name: plain\n"
        "    command: echo plain >> \"$SHARDRUN_RUN_DIR/ran.txt\"; test -f plain-ok\n")
    first = shardrun("--workers", "2", suite)
    assert first.code == 1, first
    assert ran(first) == ["plain", "t1", "t2", "t3", "t4", "tests/test_a.py"]
    first_run = first.run_dir().name

    again = shardrun("--workers", "2", "--last-failed", suite)
    assert again.code == 1, again
    assert ran(again) == ["plain", "t2", "t4"]  # not t1, t3, nor the files entry
    assert f"failed in run {first_run}" in again.err, again
    assert totals(again.xml())["tests"] == 3

    (tmp_path / "fail.txt").write_text("")
    (tmp_path / "plain-ok").write_text("")
    fixed = shardrun("--workers", "2", "--last-failed", suite)
    assert fixed.code == 0, fixed
    assert ran(fixed) == ["plain", "t2", "t4"]

    # nothing failed last time: everything runs, as with pytest's --lf
    everything = shardrun("--workers", "2", "--last-failed", suite)
    assert everything.code == 0, everything
    assert "nothing failed in run" in everything.err, everything
    assert ran(everything) == ["plain", "t1", "t2", "t3", "t4", "tests/test_a.py"]
