"""A full refresh works whatever tables the earlier runs selected."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pipelines.emulator import Emulator
from tests.helpers import emulator_run_args, query, run_cli

START = dt.datetime(2025, 2, 3, 9, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize("tables", ["sprints,issue_changelog", "statuses"])
def test_full_refresh_after_selected_tables(tmp_path: Path, tables: str) -> None:
    database, pipelines = tmp_path / "jira.duckdb", tmp_path / "p"
    with Emulator(issues=60, seed=3, start=START) as emu:
        env = {"JIRA_TOKEN": emu.scoped_token}
        args = emulator_run_args(emu, database, pipelines, "--tables", tables)
        first = run_cli(args, env=env)
        assert first.exit_code == 0, first.output
        refresh = run_cli([*args, "--full-refresh"], env=env)
        assert refresh.exit_code == 0, refresh.output
        again = run_cli(args, env=env)
        assert again.exit_code == 0, again.output
        truth = sorted(int(issue["id"]) for issue in emu.truth())
    assert [row[0] for row in query(database, "select id from issues order by id")] == truth
