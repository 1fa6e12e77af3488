"""CI-native output (issue 12, part 3), on real pytest runs of fixtures/ci/.

The Markdown summary is appended to $GITHUB_STEP_SUMMARY (and to
--summary-md PATH) at the end of every run, failed and interrupted ones
too, never truncating what earlier steps wrote; with GITHUB_ACTIONS=true
each failed test whose JUnit has a file and a line gets an `::error`
workflow command, at most 50, the rest counted.
"""
import os
import re
import signal
import subprocess

from conftest import BIN, FIXTURES, ROOT, wait_until

CI = FIXTURES / "ci"
TEST_FILE = CI / "tests" / "test_report.py"
EARLIER = "## Build\n\nearlier step's summary\n"


def line_of(text):
    """1-based line of the fixture test file that holds `text`."""
    lines = TEST_FILE.read_text().splitlines()
    return next(i + 1 for i, line in enumerate(lines) if text in line)


def github_env(tmp_path, **extra):
    """A GitHub Actions step's variables, the workspace being the repository."""
    step = tmp_path / "step_summary.md"
    step.write_text(EARLIER)
    return step, {"GITHUB_STEP_SUMMARY": str(step), "GITHUB_WORKSPACE": str(ROOT), **extra}


def annotations(out):
    return [line for line in out.splitlines() if line.startswith("::")]


def test_step_summary_is_appended_with_totals_failures_and_messages(shardrun, tmp_path):
    step, env = github_env(tmp_path)
    r = shardrun("--workers", "2", CI / "suite.yaml", extra_env=env)
    assert r.code == 1, r
    text = step.read_text()
    assert text.startswith(EARLIER), text  # appended, not truncated
    md = text[len(EARLIER):]
    assert md.startswith("## shardrun: ci — ❌ 3 of 5 tests failed\n"), md
    # tests, passed, failed, errors, skipped, flaky
    assert re.search(r"^\| 5 \| 1 \| 2 \| 1 \| 1 \| 0 \| [12] \| ", md, re.M), md
    assert "| `tests.test_report.test_fails_plain` | report | assert 2 == 3 |" in md
    # The message's pipe, backticks, tags and newline cannot break the table.
    assert ("| `tests.test_report.test_fails_markdown` | report | AssertionError: a \\| b "
            "\\`code\\` &lt;b&gt;bold&lt;/b&gt; 100%<br>second line |") in md
    # Markdown's emphasis characters are escaped too.
    assert re.search(r"^\| `tests\.test_report\.test_errors` \| report \| \*\*error:\*\* "
                     r"failed on setup.*missing\\_fixture", md, re.M), md
    assert "test_passes" not in md.split("### Shards")[0]
    # The report path is shown relative to the workspace when it is inside it.
    assert f"Report `{r.report}`" in md  # tmp_path is outside the repository
    assert "### Shards" in md and "### Slowest units" in md

    # A second run appends a second summary after the first.
    r2 = shardrun("--workers", "1", CI / "suite.yaml", extra_env=env)
    assert r2.code == 1, r2
    again = step.read_text()
    assert again.startswith(text)
    assert again.count("## shardrun: ci — ") == 2


def test_summary_md_anywhere_without_github(shardrun, tmp_path):
    out = tmp_path / "summary.md"
    out.write_text("kept\n")
    # GitLab's checkout: paths inside it are shown relative to it.
    r = shardrun("--summary-md", out, CI / "suite.yaml", extra_env={"CI_PROJECT_DIR": str(tmp_path)})
    assert r.code == 1, r
    md = out.read_text()
    assert md.startswith("kept\n## shardrun: ci — ❌ 3 of 5 tests failed\n"), md
    assert "assert 2 == 3" in md
    assert re.search(r"^Report `report\.xml` · run `runs/[0-9-]+` · exit 1$", md, re.M), md
    assert annotations(r.out) == [], r.out  # GITHUB_ACTIONS is not set


def test_annotations_for_failed_pytest_tests(shardrun, tmp_path):
    _, env = github_env(tmp_path, GITHUB_ACTIONS="true")
    r = shardrun(CI / "suite.yaml", extra_env=env)
    assert r.code == 1, r
    found = annotations(r.out)
    path = "fixtures/ci/tests/test_report.py"  # relative to the workspace, not to pytest's rootdir
    # The line that failed (from pytest's traceback), not the def.
    assert (f"::error file={path},line={line_of('assert total == 3')},"
            "title=tests.test_report.test_fails_plain::assert 2 == 3") in found, found
    # Workflow-command escaping: % and the newline in the message.
    assert (f"::error file={path},line={line_of('raise AssertionError')},"
            "title=tests.test_report.test_fails_markdown::AssertionError: a | b `code` "
            "<b>bold</b> 100%25%0Asecond line") in found, found
    # A setup error: at the def, its message on one line.
    errored = [a for a in found if "title=tests.test_report.test_errors::" in a]
    assert len(errored) == 1, found
    assert errored[0].startswith(f"::error file={path},line={line_of('def test_errors')},"), errored
    assert "\n" not in errored[0] and "%0A" in errored[0]
    assert len(found) == 3, found  # not the passed or the skipped test
    assert r.out.rstrip().splitlines()[-1].startswith("::error "), r.out  # after the summary


def test_no_annotations_without_github_actions(shardrun, tmp_path):
    step, env = github_env(tmp_path)
    for value in (None, "false"):
        extra = dict(env) if value is None else dict(env, GITHUB_ACTIONS=value)
        r = shardrun(CI / "suite.yaml", extra_env=extra)
        assert r.code == 1, r
        assert "::error" not in r.out, r.out
    assert step.read_text().count("## shardrun: ci — ") == 2  # the summary is still written


def test_at_most_50_annotations_and_the_rest_counted(shardrun, tmp_path):
    step, env = github_env(tmp_path, GITHUB_ACTIONS="true")
    r = shardrun(CI / "many.yaml", extra_env=env)
    assert r.code == 1, r
    found = [a for a in annotations(r.out) if a.startswith("::error ")]
    assert len(found) == 50, found
    assert all(a.startswith("::error file=fixtures/ci/many/test_many.py,line=") for a in found)
    assert "shardrun: 10 more failed tests not annotated (at most 50 are)" in r.out, r.out
    md = step.read_text()
    assert "❌ 60 of 60 tests failed" in md
    assert md.count("| `many.test_many.test_many[") == 30, md
    assert "… and 30 more failed tests (see the JUnit report)" in md


def test_an_interrupted_run_still_appends_its_summary(tmp_path):
    step, env = github_env(tmp_path)
    runs = tmp_path / "runs"
    cmd = [str(BIN), "--junit", str(tmp_path / "report.xml"), "--runs-dir", str(runs),
           "--timings", str(tmp_path / "timings.json"), str(CI / "slow.yaml")]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **env})
    try:
        assert wait_until(lambda: any(runs.glob("*/logs/*sleepy*")), 30), "sleepy never started"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, (out, err)
    text = step.read_text()
    assert text.startswith(EARLIER)
    assert "## shardrun: ci-slow — ⚠️ interrupted (exit 130)" in text, text
