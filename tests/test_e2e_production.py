"""Production behaviour: PostgreSQL, locks, several pipelines side by side, status."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
import uuid

import psycopg2
import pytest

from pipelines.emulator import Emulator
from tests.helpers import REPO_ROOT, emulator_run_args, query, run_cli, snapshot

START = dt.datetime(2026, 6, 1, 8, 0, 1, tzinfo=dt.UTC)
POSTGRES_DSN = "postgresql://postgres:trust-auth-ignores-this@127.0.0.1:5432/test"


@pytest.fixture
def emu():
    with Emulator(issues=80, seed=21, start=START) as server:
        yield server


@pytest.fixture
def pg_schema():
    name = f"jira_test_{uuid.uuid4().hex[:10]}"
    yield name
    with psycopg2.connect(POSTGRES_DSN) as connection, connection.cursor() as cursor:
        cursor.execute(f'drop schema if exists "{name}" cascade')
        cursor.execute(f'drop schema if exists "{name}_staging" cascade')


def pg_rows(schema: str, sql: str) -> list[tuple]:
    with psycopg2.connect(POSTGRES_DSN) as connection, connection.cursor() as cursor:
        cursor.execute(f'set search_path to "{schema}"')
        cursor.execute(sql)
        return cursor.fetchall()


def test_postgres_matches_duckdb_full_and_incremental(emu, tmp_path, pg_schema) -> None:
    env = {"JIRA_TOKEN": emu.scoped_token, "DESTINATION__POSTGRES__CREDENTIALS": POSTGRES_DSN}
    db = tmp_path / "jira.duckdb"
    issues_sql = "select id, key, summary, status, updated_at from issues order by id"
    labels_sql = "select issue_id, label from issue_labels order by issue_id, label"
    for step in ("full", "incremental"):
        if step == "incremental":
            emu.edit_issue("ABC-1", labels=["only-this"], summary="edited for the warehouse")
            emu.create_issue("XYZ", summary="new for the warehouse")
        duck = run_cli(emulator_run_args(emu, db, tmp_path / "p-duck"), env=env)
        assert duck.exit_code == 0, duck.output
        pg = run_cli(
            emulator_run_args(
                emu, db, tmp_path / "p-pg", "--destination", "postgres", "--dataset", pg_schema
            ),
            env=env,
        )
        assert pg.exit_code == 0, pg.output
        truth = sorted(
            (t["id"], t["key"], t["summary"], t["status"], t["updated"]) for t in emu.truth()
        )
        assert query(db, issues_sql) == truth
        assert pg_rows(pg_schema, issues_sql) == truth
        assert pg_rows(pg_schema, labels_sql) == query(db, labels_sql)
    duck_tables = [
        name
        for (name,) in query(
            db,
            "select table_name from information_schema.tables "
            "where table_schema = 'jira' and table_name not like '_dlt%'",
        )
    ]
    assert len(duck_tables) >= 20
    for table in duck_tables:
        count_sql = f"select count(*) from {table}"
        assert pg_rows(pg_schema, count_sql) == query(db, count_sql), table
    assert ("only-this",) in pg_rows(
        pg_schema,
        "select label from issue_labels l join issues i on i.id = l.issue_id where i.key = 'ABC-1'",
    )
    assert pg_rows(
        pg_schema,
        "select count(*) from issue_labels l join issues i "
        "on i.id = l.issue_id where i.key = 'ABC-1'",
    ) == [(1,)]


def start_cli(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    import os

    full = {k: v for k, v in os.environ.items() if not k.startswith("JIRA_")}
    full.update({"RUNTIME__DLTHUB_TELEMETRY": "false", **env})
    return subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", *args],
        env=full,
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_search(emu: Emulator, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not any(r["path"].endswith("search/jql") for r in emu.requests):
        assert time.monotonic() < deadline, "the first run never searched"
        time.sleep(0.02)


def test_second_concurrent_run_exits_with_status_3(tmp_path) -> None:
    with Emulator(issues=300, seed=5, start=START, latency_ms=150) as slow:
        env = {"JIRA_TOKEN": slow.scoped_token}
        args = emulator_run_args(slow, tmp_path / "jira.duckdb", tmp_path / "p")
        first = start_cli(args, env)
        wait_for_search(slow)
        second = run_cli(args, env=env)
        out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert second.exit_code == 3, second.output
    assert "Another run of pipeline `jira_jira` is in progress" in second.stderr
    assert query(tmp_path / "jira.duckdb", "select count(*) from issues") == [(300,)]


def test_second_concurrent_run_waits_when_asked(tmp_path) -> None:
    with Emulator(issues=300, seed=5, start=START, latency_ms=150) as slow:
        env = {"JIRA_TOKEN": slow.scoped_token}
        args = emulator_run_args(slow, tmp_path / "jira.duckdb", tmp_path / "p")
        first = start_cli(args, env)
        wait_for_search(slow)
        second = run_cli([*args, "--on-locked", "wait"], env=env)
        first.communicate(timeout=120)
    assert first.returncode == 0
    assert second.exit_code == 0, second.output
    assert query(tmp_path / "jira.duckdb", "select count(*) - count(distinct id) from issues") == [
        (0,)
    ]


def test_two_sites_keep_separate_data_and_state(tmp_path) -> None:
    db = tmp_path / "jira.duckdb"
    with (
        Emulator(issues=30, seed=1, start=START) as site_a,
        Emulator(issues=45, seed=2, start=START) as site_b,
    ):
        for emu, dataset in ((site_a, "jira_a"), (site_b, "jira_b")):
            result = run_cli(
                emulator_run_args(emu, db, tmp_path / "p", "--dataset", dataset),
                env={"JIRA_TOKEN": emu.scoped_token},
            )
            assert result.exit_code == 0, result.output
        site_b.edit_issue("ABC-1", summary="only site b changed")
        again = run_cli(
            emulator_run_args(site_b, db, tmp_path / "p", "--dataset", "jira_b", "--lookback", "0"),
            env={"JIRA_TOKEN": site_b.scoped_token},
        )
        assert again.exit_code == 0
        # The edited issue, plus the issue the cursor sits on (the bound is inclusive).
        assert "issues read: 2 " in again.stdout
        a_keys = {t["key"]: t["summary"] for t in site_a.truth()}
        b_keys = {t["key"]: t["summary"] for t in site_b.truth()}
    assert dict(query(db, "select key, summary from issues", dataset="jira_a")) == a_keys
    assert dict(query(db, "select key, summary from issues", dataset="jira_b")) == b_keys
    assert (tmp_path / "p" / "jira_jira_a" / "state.json").exists()
    assert (tmp_path / "p" / "jira_jira_b" / "state.json").exists()


def demo_args(db, tmp_path) -> list[str]:
    """Build the arguments of `jira-etl demo` into `db`, dataset `jira`, as `make demo` runs it."""
    pipelines_dir = str(tmp_path / "demo")
    return ["demo", "--issues", "40", "--duckdb-path", str(db), "--pipelines-dir", pipelines_dir]


def stored_rows(db) -> dict[str, list[tuple]]:
    """Return every row of every table in dataset `jira`, without the demo's reporting views."""
    tables = query(
        db,
        "select table_name from information_schema.tables "
        "where table_schema = 'jira' and table_type = 'BASE TABLE'",
    )
    rows = snapshot(db)
    return {name: rows[name] for (name,) in tables}


def test_run_leaves_demo_dataset_alone(tmp_path) -> None:
    # `make demo` fills ./jira.duckdb, dataset jira, which are also the defaults of `run`.
    db = tmp_path / "jira.duckdb"
    demo = run_cli(demo_args(db, tmp_path), cwd=tmp_path)
    assert demo.exit_code == 0, demo.output
    before = stored_rows(db)
    assert len(before["issues"]) == 40
    with Emulator(issues=30, seed=2, start=START) as site:
        result = run_cli(
            emulator_run_args(site, db, tmp_path / "p"), env={"JIRA_TOKEN": site.scoped_token}
        )
    assert result.exit_code == 2, result.output
    assert "contains the data of pipeline `jira_demo`" in result.stderr
    assert f"delete `{db}`" in result.stderr
    assert stored_rows(db) == before


def test_demo_leaves_loaded_dataset_alone(tmp_path) -> None:
    db = tmp_path / "jira.duckdb"
    with Emulator(issues=30, seed=2, start=START) as site:
        loaded = run_cli(
            emulator_run_args(site, db, tmp_path / "p"), env={"JIRA_TOKEN": site.scoped_token}
        )
        assert loaded.exit_code == 0, loaded.output
        truth = {t["key"]: t["summary"] for t in site.truth()}
    before = stored_rows(db)
    demo = run_cli(demo_args(db, tmp_path), cwd=tmp_path)
    assert demo.exit_code == 2, demo.output
    assert "contains the data of pipeline `jira_jira`" in demo.stderr
    assert stored_rows(db) == before
    assert dict(query(db, "select key, summary from issues")) == truth


def test_status_reports_a_failed_run(emu, tmp_path) -> None:
    db, pdir = tmp_path / "jira.duckdb", tmp_path / "p"
    env = {"JIRA_TOKEN": emu.scoped_token}
    assert run_cli(emulator_run_args(emu, db, pdir), env=env).exit_code == 0
    ok = run_cli(["status", "--duckdb-path", str(db), "--pipelines-dir", str(pdir)])
    assert ok.exit_code == 0, ok.output
    assert "last run: success" in ok.stdout
    assert "issues: 80 rows" in ok.stdout
    emu.add_fault(r"search/jql", 500, times=2)
    failed = run_cli(emulator_run_args(emu, db, pdir, "--max-retries", "2"), env=env)
    assert failed.exit_code == 1
    report = run_cli(["status", "--duckdb-path", str(db), "--pipelines-dir", str(pdir)])
    assert report.exit_code == 1
    assert "last run: failed" in report.stdout
    assert "HTTP 500" in report.stdout
    assert "issues: 80 rows" in report.stdout


def test_postgres_keeps_empty_summary(tmp_path, pg_schema) -> None:
    with Emulator(issues=6, seed=5, start=START) as emu:
        emptied = emu.edit_issue("ABC-1", summary="")
        env = {"JIRA_TOKEN": emu.scoped_token, "DESTINATION__POSTGRES__CREDENTIALS": POSTGRES_DSN}
        args = emulator_run_args(
            emu,
            tmp_path / "unused.duckdb",
            tmp_path / "pipelines",
            "--destination",
            "postgres",
            "--dataset",
            pg_schema,
        )
        result = run_cli(args, env=env)
    assert result.exit_code == 0, result.output

    summaries = pg_rows(pg_schema, f"select summary from issues where id = {emptied['id']}")
    assert summaries == [("",)]
    changes = pg_rows(
        pg_schema,
        "select to_string from issue_changelog "
        f"where issue_id = {emptied['id']} and field = 'summary'",
    )
    assert ("",) in changes


def test_demo_invalid_dataset_stops_first(tmp_path) -> None:
    db = tmp_path / "jira.duckdb"
    demo = run_cli([*demo_args(db, tmp_path), "--dataset", "1"], cwd=tmp_path)
    assert demo.exit_code == 2, demo.output
    assert "Invalid --dataset `1`" in demo.stderr
    # The emulator was not started, and nothing was written.
    assert "Jira emulator" not in demo.stdout
    assert not db.exists()
    assert not (tmp_path / "demo").exists()
