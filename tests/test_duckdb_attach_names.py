"""DuckDB files that jira-etl opens through ATTACH, and the DuckDB settings users configure.

The loads open an in-memory database, attach the file under its name and make it the default
of each connection. A file named like a schema of the in-memory database, or a configured
setting that the credentials no longer read, would send the load elsewhere or lose the setting.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipelines import runner
from pipelines.emulator import Emulator
from pipelines.runner import RunOptions
from tests.helpers import emulator_run_args, query, run_cli

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(issues=40, seed=5, start=START) as server:
        yield server


def run_into(emu: Emulator, database: Path, pipelines: Path, **env: str) -> str:
    """Run `jira-etl run` into `database`, assert exit status 0, and return the output."""
    result = run_cli(
        emulator_run_args(emu, database, pipelines), env={"JIRA_TOKEN": emu.scoped_token, **env}
    )
    assert result.exit_code == 0, result.output
    return result.output


def stored_ids(database: Path, dataset: str = "jira") -> list[int]:
    return [row[0] for row in query(database, "select id from issues order by id", dataset)]


@pytest.mark.parametrize("stem", ["main", "pg_catalog", "temp", "memory"])
def test_file_named_like_builtin_schema(emu: Emulator, tmp_path: Path, stem: str) -> None:
    database = tmp_path / f"{stem}.duckdb"
    run_into(emu, database, tmp_path / "p")
    assert stored_ids(database) == sorted(issue["id"] for issue in emu.truth())


@pytest.mark.parametrize(
    "stem", ["System", "information_schema", "MAIN", "Main", "Temp", "TEMP", "Temp.x", "TEMP.db"]
)
def test_builtin_catalog_file_name_rejected(emu: Emulator, tmp_path: Path, stem: str) -> None:
    database = tmp_path / f"{stem}.duckdb"
    result = run_cli(
        emulator_run_args(emu, database, tmp_path / "p"), env={"JIRA_TOKEN": emu.scoped_token}
    )
    assert result.exit_code == 2, result.output
    # DuckDB names the database after the file name up to the first dot.
    assert f"would name the database `{stem.split('.')[0]}`" in result.stderr
    assert "Choose another file name" in result.stderr
    assert not database.exists()
    assert emu.requests == []


def test_catalog_clash_ignores_case(emu: Emulator, tmp_path: Path) -> None:
    # `Jira.duckdb` with the dataset `jira`: DuckDB compares the two names without case.
    database = tmp_path / "Jira.duckdb"
    run_into(emu, database, tmp_path / "p")
    assert stored_ids(database) == sorted(issue["id"] for issue in emu.truth())


def test_configured_statements_still_run(emu: Emulator, tmp_path: Path) -> None:
    database = tmp_path / "jira.duckdb"
    extra = tmp_path / "extra.duckdb"
    statements = f"[\"ATTACH IF NOT EXISTS '{extra}' AS extra\"]"
    run_into(emu, database, tmp_path / "p", DESTINATION__DUCKDB__CREDENTIALS__STATEMENTS=statements)
    assert extra.exists()
    assert len(stored_ids(database)) == len(emu.truth())


def test_configured_local_config_still_applies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    monkeypatch.setenv(
        "DESTINATION__DUCKDB__CREDENTIALS__LOCAL_CONFIG", '{"preserve_insertion_order": false}'
    )
    database = tmp_path / "jira.duckdb"
    options = RunOptions(
        pipeline_name="local_config", duckdb_path=str(database), pipelines_dir=str(tmp_path / "p")
    )
    with runner.make_pipeline(options).sql_client() as client:
        rows = client.execute_sql(
            "select current_setting('preserve_insertion_order'), "
            "(select count(*) from duckdb_databases() where path = %s)",
            str(database.resolve()),
        )
    assert rows[0][0] is False
    assert rows[0][1] == 1


def test_views_are_not_counted(emu: Emulator, tmp_path: Path) -> None:
    # The reporting layer adds views to the dataset. Counting one ran its query, and a view
    # that fails stopped a run that had stored its data.
    database = tmp_path / "jira.duckdb"
    run_into(emu, database, tmp_path / "p")
    connection = duckdb.connect(str(database))
    connection.execute("create view jira.jira.failing_view as select error('counted')")
    connection.close()
    output = run_into(emu, database, tmp_path / "p")
    assert "failing_view" not in output
    assert "issues" in output
