"""A suite file that is not YAML is refused and runs nothing (issue 13, part 2).

Each fixtures/bad/yaml-*.yaml is a suite whose command, setup or teardown
creates $SHARDRUN_MARKER, broken by one kind of invalid YAML that yaml-cpp
0.7 accepted (and then ran the command). Also: a UTF-8 BOM and CRLF line
breaks are accepted, a NUL byte and a 10 MB line refused (README, "Suite
file").
"""
import re

import pytest

from conftest import FIXTURES

INVALID = sorted((FIXTURES / "bad").glob("yaml-*.yaml"))


def assert_refused(r, suite, location, message, marker):
    assert r.code == 2, r
    assert r.err.startswith(f"{suite}:{location}: error: {message}"), r
    assert not marker.exists(), "the suite's command ran"
    assert not r.report.exists()
    assert not r.runs_dir.exists() or not any(r.runs_dir.iterdir())


def test_there_is_a_fixture_per_kind():
    # Guards the parametrized test below against a moved or emptied folder.
    assert len(INVALID) >= 20


@pytest.mark.parametrize("bad", INVALID, ids=lambda p: p.stem)
def test_invalid_yaml_is_refused_before_anything_runs(shardrun, bad, tmp_path):
    first = bad.read_text(encoding="utf-8", errors="replace").splitlines()[0]
    m = re.match(r"# expect: (\d+:\d+): (.*)", first)
    assert m, f"{bad} has no '# expect: LINE:COL: message' line"
    marker = tmp_path / "ran"
    r = shardrun(bad, extra_env={"SHARDRUN_MARKER": str(marker)})
    assert_refused(r, bad, m.group(1), m.group(2), marker)


def test_the_issue_example_does_not_run_touch(shardrun, tmp_path):
    suite = tmp_path / "suite.yaml"
    suite.write_text('version: 1\ntests:\n  - name: a\n    command: "touch ran\n')
    r = shardrun(suite)
    assert_refused(r, suite, "4:15", "invalid YAML: double-quoted scalar without closing quote",
                   tmp_path / "ran")


ECHO_ENV = 'printf "%s|" "$A" "$B" > "$SHARDRUN_MARKER"'


def test_bom_and_crlf_are_accepted(shardrun, tmp_path):
    marker = tmp_path / "out"
    for name, text in [
        ("bom", "\ufeffversion: 1\ntests:\n  - name: a\n    command: " + ECHO_ENV +
         "\n    env: {A: one, B: two}\n"),
        ("crlf", "version: 1\r\ntests:\r\n  - name: a\r\n    command: " + ECHO_ENV +
         "\r\n    env:\r\n      A: one\r\n      B: \"two\r\n        lines\"\r\n"),
    ]:
        suite = tmp_path / f"{name}.yaml"
        suite.write_bytes(text.encode("utf-8"))
        r = shardrun(suite, extra_env={"SHARDRUN_MARKER": str(marker)})
        assert r.code == 0, (name, r)
        expected = "one|two|" if name == "bom" else "one|two lines|"
        assert marker.read_bytes() == expected.encode(), name


def test_nul_and_a_10_mb_line_are_refused(shardrun, tmp_path):
    marker = tmp_path / "ran"
    head = b'version: 1\ntests:\n  - name: a\n    command: touch "$SHARDRUN_MARKER"'
    nul = tmp_path / "nul.yaml"
    nul.write_bytes(head + b" \0\n")
    r = shardrun(nul, extra_env={"SHARDRUN_MARKER": str(marker)})
    assert_refused(r, nul, "4:39", "the suite file contains a NUL byte", marker)

    long_line = tmp_path / "long.yaml"
    long_line.write_bytes(head + b" " + b"x" * 10_000_000 + b"\n")
    r = shardrun(long_line, extra_env={"SHARDRUN_MARKER": str(marker)})
    assert r.code == 2, r
    assert r.err.startswith(f"{long_line}: error: suite file is too large"), r
    assert not marker.exists()
