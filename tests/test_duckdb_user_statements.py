"""Configured DuckDB `statements` run against the loaded file, not an in-memory database."""

from __future__ import annotations

import json
from pathlib import Path

import dlt
import duckdb
import pytest

from pipelines import runner
from pipelines.runner import RunOptions


def test_user_statements_create_in_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    statement = "CREATE TABLE IF NOT EXISTS load_audit AS SELECT 1 AS x"
    monkeypatch.setenv("DESTINATION__DUCKDB__CREDENTIALS__STATEMENTS", json.dumps([statement]))
    database = tmp_path / "audit.duckdb"
    options = RunOptions(
        pipeline_name="audit", duckdb_path=str(database), pipelines_dir=str(tmp_path / "p")
    )
    pipeline = runner.make_pipeline(options)
    pipeline.run(dlt.resource([{"id": 1}], name="issues", primary_key="id"))
    with duckdb.connect(str(database), read_only=True) as connection:
        found = connection.execute(
            "select table_schema from information_schema.tables where table_name = 'load_audit'"
        ).fetchall()
        issues = connection.execute("select count(*) from audit.jira.issues").fetchone()
    assert found == [("main",)]
    assert issues == (1,)
