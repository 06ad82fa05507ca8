"""The parallel strategy loads exactly the rows the sequential strategy loads."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.emulator import Emulator
from pipelines.runner import RunOptions, run

START = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
ISSUES = 450


def load(emu: Emulator, strategy: str, folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Load the emulator into a fresh DuckDB file with one strategy; return the file."""

    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    path = folder / f"{strategy}.duckdb"
    options = RunOptions(
        pipeline_name=f"jira_{strategy}",
        duckdb_path=str(path),
        pipelines_dir=str(folder / f"pipelines_{strategy}"),
        full_refresh=True,
    )
    settings = {
        "auth": "bearer",
        "token": emu.scoped_token,
        "site_url": emu.site_url,
        "gateway_url": emu.gateway_url,
        "strategy": strategy,
        "max_in_flight": 4,
    }
    summary = run(options, settings)
    assert summary.issues_read == ISSUES
    return path


def table_rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Return every data table's rows, without dlt's columns, sorted."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    with duckdb.connect(str(path), read_only=True) as connection:
        names = connection.sql(
            "select table_name from information_schema.tables "
            f"where table_catalog = '{path.stem}' and table_schema = 'jira' "
            "and table_name not like '\\_dlt%' escape '\\'"
        ).fetchall()
        for (name,) in names:
            columns = [
                row[0]
                for row in connection.sql(
                    "select column_name from information_schema.columns "
                    f"where table_catalog = '{path.stem}' and table_schema = 'jira' "
                    f"and table_name = '{name}' order by column_name"
                ).fetchall()
                if not row[0].startswith("_dlt")
            ]
            listed = ", ".join(f'"{column}"' for column in columns)
            rows = connection.sql(f'select {listed} from "{path.stem}".jira."{name}"').fetchall()
            tables[name] = sorted(rows, key=repr)
    return tables


def changelog_requests(emu: Emulator, since: int) -> tuple[int, int]:
    """Count the issues whose own changelog was read, and the bulk fetches, after `since`."""
    paths = [entry["path"] for entry in emu.requests[since:]]
    # An issue with a long history takes several pages of its changelog.
    per_issue = len({path for path in paths if path.endswith("/changelog")})
    bulk = sum(1 for path in paths if path.endswith("/changelog/bulkfetch"))
    return per_issue, bulk


def test_parallel_loads_same_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Emulator(issues=ISSUES, seed=11, start=START) as emu:
        sequential = table_rows(load(emu, "sequential", tmp_path, monkeypatch))
        sequential_reads = changelog_requests(emu, 0)
        before = len(emu.requests)
        parallel = table_rows(load(emu, "parallel", tmp_path, monkeypatch))
        parallel_reads = changelog_requests(emu, before)
    assert len(sequential["issues"]) == ISSUES
    # The baseline reads each issue's own changelog; the parallel strategy reads 100 a request.
    assert sequential_reads == (ISSUES, 0)
    assert parallel_reads == (0, 5)
    assert len(sequential["issue_changelog"]) > ISSUES
    assert sorted(parallel) == sorted(sequential)
    for table in sequential:
        assert len(parallel[table]) == len(sequential[table]), table
        assert parallel[table] == sequential[table], table
