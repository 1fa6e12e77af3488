"""Big suites (issue 13, part 1): a unit's command must always start. Linux
refuses one `sh -c` argument over 128 KiB and argv + environment over
ARG_MAX; the planner cuts units to fit."""
import json

import pytest

from conftest import totals


@pytest.mark.parametrize("form", ["string", "list"])
def test_twenty_thousand_long_ids_all_run_cold_and_warm(shardrun, tmp_path, form):
    ids = [f"tests/some/deep/folder/test_module_{i // 10:05}.py::test_{i:06}" for i in range(20000)]
    assert min(len(i) for i in ids) >= 45
    (tmp_path / "ids.txt").write_text("\n".join(ids) + "\n")
    if form == "string":
        command = 'printf "%s\\n" {tests} >> "$SHARDRUN_RUN_DIR/ran.txt"'
    else:
        command = ('["sh", "-c", "printf \'%s\\\\n\' \\"$@\\" >> \\"$SHARDRUN_RUN_DIR/ran.txt\\"", '
                   '"sh", "{tests}"]')
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        "version: 1\n"
        "tests:\n"
        "  - name: big\n"
        "    discover: cat ids.txt\n"
        "    discover_inputs: [ids.txt]\n"
        f"    command: {command}\n")
    for run in ("cold", "warm"):
        r = shardrun("--workers", "2", suite, timeout=300)
        assert r.code == 0, (run, r)
        assert totals(r.xml())["tests"] == 20000
        assert totals(r.xml())["errors"] == 0
        ran = (r.run_dir() / "ran.txt").read_text().splitlines()
        assert sorted(ran) == ids, run  # every id reached its command exactly once
        units = json.loads((r.run_dir() / "run.json").read_text())["units"]
        assert all(u["result"] == "passed" for u in units)
        if form == "string":
            # no sh -c script over 128 KiB
            assert all(sum(len(t) + 3 for t in u["tests"]) < 128 * 1024 for u in units)
