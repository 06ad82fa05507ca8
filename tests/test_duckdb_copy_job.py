"""DuckDB loads read their files by a path that may contain quotes and semicolons."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pipelines.emulator import Emulator
from pipelines.emulator import reference as ref
from tests.helpers import emulator_run_args, query, run_cli

START = dt.datetime(2026, 4, 6, 9, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize("folder", ["it's here", "a;b 'c' \"d\""])
def test_pipelines_dir_with_quote_loads(tmp_path: Path, folder: str) -> None:
    database = tmp_path / "jira.duckdb"
    pipelines = tmp_path / folder / "pipelines"
    with Emulator(issues=30, seed=3, start=START) as emu:
        env = {"JIRA_TOKEN": emu.scoped_token}
        args = emulator_run_args(emu, database, pipelines)
        first = run_cli(args, env=env)
        assert first.exit_code == 0, first.output
        emu.advance(60)
        changed = emu.truth()[4]
        emu.edit_issue(changed["id"], summary="edited after the first run")
        second = run_cli(args, env=env)
        assert second.exit_code == 0, second.output
        truth = sorted((int(issue["id"]), issue["summary"]) for issue in emu.truth())
    assert query(database, "select id, summary from issues order by id") == truth
    # `statuses` is replaced on each run, through dlt's copy into a staging table.
    assert query(database, "select id from statuses order by id") == sorted(
        (status.id,) for status in ref.STATUSES
    )
