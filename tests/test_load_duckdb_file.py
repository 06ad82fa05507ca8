"""How a run uses the DuckDB file: one open database per load step, and no staging copy left."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import dlt
import duckdb
import pytest
from dlt.destinations.impl.duckdb.configuration import DuckDbConnectionPool

from pipelines.emulator import Emulator
from pipelines.runner import RunOptions, run
from tests.helpers import query

START = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
ISSUES = 250
PART = 100
# An attached in-memory database lives as long as the DuckDB database it is attached to, so a
# connection that does not see it opened the file afresh.
PROBE = "open_probe"


def settings(emu: Emulator) -> dict[str, Any]:
    return {
        "auth": "bearer",
        "token": emu.scoped_token,
        "site_url": emu.site_url,
        "gateway_url": emu.gateway_url,
        "issues_per_load": PART,
    }


def test_load_jobs_share_one_open_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    inside_load = [False]
    # One entry per connection dlt borrows: the number of the load step it was borrowed in, -1
    # outside the load steps, and whether the database had just been opened.
    borrows: list[tuple[int, bool]] = []
    loads: list[int] = []

    original_borrow = DuckDbConnectionPool.borrow_conn

    def borrow(self: Any, *args: Any, **kwargs: Any) -> Any:
        conn = original_borrow(self, *args, **kwargs)
        names = {
            row[0]
            for row in conn.execute("select database_name from duckdb_databases()").fetchall()
        }
        fresh = PROBE not in names
        if fresh:
            conn.execute(f"attach ':memory:' as {PROBE}")
        borrows.append((len(loads) - 1 if inside_load[0] else -1, fresh))
        return conn

    original_load = dlt.Pipeline.load

    def load(self: Any, *args: Any, **kwargs: Any) -> Any:
        loads.append(len(borrows))
        inside_load[0] = True
        try:
            return original_load(self, *args, **kwargs)
        finally:
            inside_load[0] = False

    monkeypatch.setattr(DuckDbConnectionPool, "borrow_conn", borrow)
    monkeypatch.setattr(dlt.Pipeline, "load", load)
    options = RunOptions(
        pipeline_name="jira",
        duckdb_path=str(tmp_path / "jira.duckdb"),
        pipelines_dir=str(tmp_path / "p"),
    )
    with Emulator(issues=ISSUES, seed=5, start=START) as emu:
        summary = run(options, settings(emu))
        truth = {issue["id"] for issue in emu.truth()}

    assert len(loads) == math.ceil(ISSUES / PART)
    for step in range(len(loads)):
        borrowed = [fresh for number, fresh in borrows if number == step]
        # Every load step runs a job per table, each on a connection of its own, and only
        # the first of them finds the database without the probe.
        assert len(borrowed) >= 5
        assert borrowed[0]
        assert not any(borrowed[1:])
    assert summary.issues_read == ISSUES
    stored = {int(row[0]) for row in query(tmp_path / "jira.duckdb", "select id from issues")}
    assert stored == {int(issue_id) for issue_id in truth}


def test_staging_tables_are_empty_after_a_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    options = RunOptions(
        pipeline_name="staging",
        duckdb_path=str(tmp_path / "staging.duckdb"),
        pipelines_dir=str(tmp_path / "p"),
    )
    with Emulator(issues=ISSUES, seed=5, start=START) as emu:
        run(options, settings(emu))
    with duckdb.connect(str(tmp_path / "staging.duckdb"), read_only=True) as conn:
        staging = [
            row[0]
            for row in conn.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'jira_staging' and table_name not like '\\_dlt%' escape '\\'"
            ).fetchall()
        ]
        assert "issues" in staging
        counts = {
            table: conn.execute(f'select count(*) from jira_staging."{table}"').fetchone()[0]
            for table in staging
        }
        assert set(counts.values()) == {0}, counts
        assert conn.execute("select count(*) from jira.issues").fetchone()[0] == ISSUES


def test_configured_connection_settings_still_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DuckDB rejects a second connection to an open database with other connect settings,
    # and dlt connects with `custom_user_agent` when it is configured.
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    monkeypatch.setenv(
        "DESTINATION__DUCKDB__CREDENTIALS__GLOBAL_CONFIG",
        '{"custom_user_agent": "jira-etl-test", "memory_limit": "128MB", "threads": 1}',
    )
    options = RunOptions(
        pipeline_name="agent",
        duckdb_path=str(tmp_path / "agent.duckdb"),
        pipelines_dir=str(tmp_path / "p"),
    )
    with Emulator(issues=ISSUES, seed=5, start=START) as emu:
        summary = run(options, settings(emu))
    assert summary.issues_read == ISSUES
    assert query(tmp_path / "agent.duckdb", "select count(*) from issues") == [(ISSUES,)]
