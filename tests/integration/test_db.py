"""The `postgres` resource against a real PostgreSQL server.

A throwaway cluster (scripts/pg-sandbox.sh) serves the whole session. The
fixture suite in fixtures/db/ creates tables with fixed names and asserts
exact counts, so it passes at 4 and 8 workers only if every shard really has
its own schema or database; suite-shared.yaml, without the resource, shows
that the same tests do collide. After every run (passed, failed, interrupted)
no schema or database with the run's prefix may be left on the server.
"""
import json
import os
import shlex
import signal
import socket
import subprocess
import time
import xml.etree.ElementTree as ET

import psycopg2
import pytest

from conftest import BIN, FIXTURES, ROOT, totals

DB = FIXTURES / "db"
SANDBOX = ROOT / "scripts" / "pg-sandbox.sh"
# Variables of the caller that would steer libpq somewhere else.
FOREIGN = ("PGOPTIONS", "PGPASSWORD", "PGSERVICE", "PGSSLMODE", "PGHOSTADDR", "DATABASE_URL",
           "SHARDRUN_PG_SCHEMA", "SHARDRUN_PG_DATABASE", "DB_EXPECT_SCHEMA", "DB_EXPECT_DATABASE")


class Pg:
    """The sandbox server: the environment that reaches it, and queries."""

    def __init__(self, exports):
        self.dir = exports["SHARDRUN_PG_SANDBOX"]
        self.port = int(exports["PGPORT"])
        self.env = {k: v for k, v in os.environ.items() if k not in FOREIGN}
        self.env.update(exports)

    def connect(self, dbname="postgres"):
        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=dbname)
        conn.autocommit = True
        return conn

    def query(self, sql, args=None, dbname="postgres"):
        conn = self.connect(dbname)
        try:
            with conn.cursor() as cur:
                cur.execute(sql, args)
                return cur.fetchall() if cur.description else None
        finally:
            conn.close()

    def schemas(self, prefix):
        rows = self.query("SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s) "
                          "ORDER BY 1", (prefix,))
        return [r[0] for r in rows]

    def databases(self, prefix):
        rows = self.query("SELECT datname FROM pg_database WHERE starts_with(datname, %s) "
                          "ORDER BY 1", (prefix,))
        return [r[0] for r in rows]


@pytest.fixture(scope="session")
def pg():
    proc = subprocess.run([str(SANDBOX), "start"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    exports = {}
    for line in proc.stdout.splitlines():
        words = shlex.split(line)
        if words and words[0] == "export":
            exports.update(w.split("=", 1) for w in words[1:])
    server = Pg(exports)
    try:
        yield server
    finally:
        subprocess.run([str(SANDBOX), "stop", server.dir], capture_output=True, timeout=60)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_suite(path, *, prefix, mode="schema", modules=("test_accounts.py",), template=None,
                url=None, extra=""):
    """A suite running fixtures/db test modules with one postgres resource."""
    q = json.dumps  # a JSON string is a valid YAML double-quoted scalar
    expect = "DB_EXPECT_SCHEMA" if mode == "schema" else "DB_EXPECT_DATABASE"
    resource = f"    - type: postgres\n      mode: {mode}\n      prefix: {q(prefix)}\n"
    if template:
        resource += f"      template: {q(template)}\n"
    if url:
        resource += f"      url: {q(url)}\n"
    path.write_text(
        "version: 1\n"
        "env: {PYTHONDONTWRITEBYTECODE: '1'}\n"
        "shard:\n"
        f"  env: {{{expect}: {q(prefix + '_{shard}')}}}\n"
        "  resources:\n" + resource +
        "tests:\n"
        "  - name: db\n"
        f"    cwd: {q(str(DB))}\n"
        "    discover: /usr/bin/python3 -m pytest --collect-only -q -p no:cacheprovider "
        + " ".join(modules) + "\n"
        "    command: /usr/bin/python3 -m pytest -q -p no:cacheprovider {tests} --junitxml={junit}\n"
        + extra)
    return path


def shards_used(root):
    return {p.get("value") for p in root.iter("property") if p.get("name") == "shardrun.shard"}


def passed(root):
    return totals(root)["tests"] - sum(v for k, v in totals(root).items() if k != "tests")


@pytest.mark.parametrize("workers", [1, 4, 8])
def test_schema_per_shard_passes(shardrun, pg, workers):
    r = shardrun("--workers", workers, DB / "suite.yaml", env=pg.env)
    assert r.code == 0, r
    root = r.xml()
    assert totals(root) == {"tests": 18, "failures": 0, "errors": 0, "skipped": 0}, r
    assert len(shards_used(root)) == workers, shards_used(root)
    assert pg.schemas("shardrun_db_") == []


def test_shared_schema_collides(shardrun, pg):
    """Without the resource the same tests break each other: the isolation matters."""
    r = shardrun("--workers", 4, DB / "suite-shared.yaml", env=pg.env)
    assert r.code == 1, r
    root = r.xml()
    counts = totals(root)
    assert counts["tests"] == 18 and counts["failures"] + counts["errors"] >= 2, counts
    assert "already exists" in r.report.read_text(), r


def test_database_per_shard_from_a_migrated_template(shardrun, pg):
    r = shardrun("--workers", 4, DB / "suite-database.yaml", env=pg.env)
    assert r.code == 0, r
    root = r.xml()
    assert totals(root) == {"tests": 23, "failures": 0, "errors": 0, "skipped": 0}, r
    assert len(shards_used(root)) == 4
    # the shards' databases and (by the global teardown) the template are gone
    assert pg.databases("shardrun_dbm_") == []


def test_failed_run_leaves_nothing(shardrun, pg, tmp_path):
    suite = write_suite(tmp_path / "s.yaml", prefix="failing",
                        extra="  - {name: boom, command: 'exit 1'}\n")
    r = shardrun("--workers", 2, suite, env=pg.env)
    assert r.code == 1, r
    assert passed(r.xml()) == 6, r  # the db tests passed, only 'boom' failed
    assert pg.schemas("failing_") == []


def test_interrupted_run_leaves_nothing(pg, tmp_path):
    suite = write_suite(tmp_path / "s.yaml", prefix="interrupted",
                        modules=("test_accounts.py", "test_audit.py"))
    env = dict(pg.env, DB_FIXTURE_HOLD="1.5")  # units that are surely running when SIGINT comes
    cmd = [str(BIN), "--workers", "2", "--junit", str(tmp_path / "r.xml"), "--runs-dir",
           str(tmp_path / "runs"), "--timings", str(tmp_path / "t.json"), str(suite)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        # wait until both shards' tests have created their tables
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            busy = pg.query("SELECT count(DISTINCT relnamespace) FROM pg_class WHERE relname = "
                            "'accounts' AND starts_with(relnamespace::regnamespace::text, %s)",
                            ("interrupted_",))
            if busy[0][0] == 2:
                break
            time.sleep(0.05)
        assert proc.poll() is None, proc.communicate()
        assert pg.schemas("interrupted_") == ["interrupted_0", "interrupted_1"]
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, (out, err)
    assert pg.schemas("interrupted_") == []


def test_two_runs_at_once_never_share_a_schema(pg, tmp_path):
    """A second run with the same prefix must not drop the first run's schema."""
    flag = tmp_path / "second-run-done"
    holder = tmp_path / "holder.yaml"
    # The first run's unit waits until the second run is over, then checks
    # that its schema is still there (current_schema() is NULL otherwise).
    holder.write_text(
        "version: 1\n"
        "shard:\n"
        "  resources: [{type: postgres, prefix: twice}]\n"
        "tests:\n"
        "  - name: holder\n"
        f"    command: timeout 60 sh -c 'until [ -e {flag} ]; do sleep 0.05; done' && "
        "test \"$(psql -X -Atc 'SELECT current_schema()')\" = twice_0\n")
    first = subprocess.Popen(
        [str(BIN), "--workers", "1", "--junit", str(tmp_path / "first.xml"), "--runs-dir",
         str(tmp_path / "runs1"), "--timings", str(tmp_path / "t1.json"), str(holder)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=pg.env)
    try:
        deadline = time.monotonic() + 30
        while pg.schemas("twice_") != ["twice_0"] and time.monotonic() < deadline:
            time.sleep(0.05)
        suite = write_suite(tmp_path / "s.yaml", prefix="twice")
        second = subprocess.run(
            [str(BIN), "--workers", "2", "--junit", str(tmp_path / "second.xml"), "--runs-dir",
             str(tmp_path / "runs2"), "--timings", str(tmp_path / "t2.json"), str(suite)],
            capture_output=True, text=True, env=pg.env, timeout=120)
        flag.touch()
        first_out, _ = first.communicate(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == 0, first_out
    # the second run's shard 0 could not have twice_0; shard 1 ran every test
    assert second.returncode == 3, second
    assert "shard 0" in second.stdout and "twice_0" in second.stdout, second
    root = ET.parse(tmp_path / "second.xml").getroot()
    assert passed(root) == 6 and shards_used(root) == {"1"}, second
    assert pg.schemas("twice_") == []


def test_leftover_schema_of_a_crashed_run_is_replaced(shardrun, pg, tmp_path):
    # What a crashed run leaves: the shard's schema with tables of the same
    # names as the tests create; CREATE TABLE accounts fails if it is reused.
    pg.query('CREATE SCHEMA crashed_0; CREATE TABLE crashed_0.accounts (id int); '
             'CREATE TABLE crashed_0.stale (id int)')
    suite = write_suite(tmp_path / "s.yaml", prefix="crashed")
    r = shardrun("--workers", 1, suite, env=pg.env)
    assert r.code == 0, r
    assert passed(r.xml()) == 6
    assert pg.schemas("crashed_") == []


def test_leftover_database_in_use_is_replaced(shardrun, pg, tmp_path):
    pg.query('CREATE DATABASE "crashdb_1"')
    pg.query("CREATE TABLE accounts (id int)", dbname="crashdb_1")
    idle = pg.connect("crashdb_1")  # a session a crashed run left behind
    try:
        suite = write_suite(tmp_path / "s.yaml", prefix="crashdb", mode="database",
                            modules=("test_accounts.py", "test_orders.py"))
        r = shardrun("--workers", 2, suite, env=pg.env)
        assert r.code == 0, r
        assert passed(r.xml()) == 12
        assert len(shards_used(r.xml())) == 2
    finally:
        idle.close()
    assert pg.databases("crashdb_") == []


def test_keep_resources_keeps_them(shardrun, pg, tmp_path):
    suite = write_suite(tmp_path / "s.yaml", prefix="kept")
    try:
        r = shardrun("--workers", 2, "--keep-resources", suite, env=pg.env)
        assert r.code == 0, r
        assert pg.schemas("kept_") == ["kept_0", "kept_1"]
    finally:
        pg.query("DROP SCHEMA IF EXISTS kept_0, kept_1 CASCADE")


@pytest.mark.parametrize("how", ["PGPORT", "url"])
def test_unreachable_server_is_exit_3_with_libpqs_message(shardrun, pg, tmp_path, how):
    port = free_port()  # nobody listens there
    marker = tmp_path / "ran"
    url = f"postgresql://postgres@127.0.0.1:{port}/postgres" if how == "url" else None
    suite = write_suite(tmp_path / "s.yaml", prefix="unreachable", url=url)
    suite.write_text(suite.read_text().replace(
        "command: /usr/bin/python3", f"command: touch {marker}; /usr/bin/python3"))
    env = dict(pg.env, PGPORT=str(port)) if how == "PGPORT" else pg.env
    r = shardrun("--workers", 1, suite, env=env, timeout=60)
    assert r.code == 3, r
    output = r.out + r.err
    assert f'port {port} failed: Connection refused' in output, r
    assert "shard 0" in output, r
    assert not marker.exists(), "a unit ran although no shard could be prepared"


def test_bad_template_shows_the_servers_error(shardrun, pg, tmp_path):
    marker = tmp_path / "ran"
    suite = write_suite(tmp_path / "s.yaml", prefix="badtpl", mode="database",
                        template="no_such_template")
    suite.write_text(suite.read_text().replace(
        "command: /usr/bin/python3", f"command: touch {marker}; /usr/bin/python3"))
    r = shardrun("--workers", 2, suite, env=pg.env, timeout=60)
    assert r.code == 3, r
    assert 'template database "no_such_template" does not exist' in r.out + r.err, r
    assert not marker.exists()
    assert pg.databases("badtpl_") == []


@pytest.mark.parametrize("mode", ["schema", "database"])
def test_prefix_that_needs_quoting(shardrun, pg, tmp_path, mode):
    prefix = 'Weird "Name"'
    # test_orders.py connects through DATABASE_URL, test_accounts.py through PG*
    suite = write_suite(tmp_path / "s.yaml", prefix=prefix, mode=mode,
                        modules=("test_accounts.py", "test_orders.py"))
    r = shardrun("--workers", 2, suite, env=pg.env)
    assert r.code == 0, r
    assert passed(r.xml()) == 12
    assert len(shards_used(r.xml())) == 2
    assert pg.schemas(prefix) == [] and pg.databases(prefix) == []
