"""A load job that ran but was not recorded runs again without doubling rows.

The run is killed (os._exit, as kill -9 leaves it) right after a load job's rows were committed
to the destination and before dlt recorded the job as done. The next run loads the pending
package again, job included, and each table must then hold each row once.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pipelines.emulator import Emulator
from tests.helpers import REPO_ROOT, emulator_run_args, query, run_cli

START = dt.datetime(2025, 2, 3, 9, 0, tzinfo=dt.UTC)

EXIT_AFTER_JOB = textwrap.dedent(
    """
    import os, sys
    from dlt.common.storages.load_package import PackageStorage

    record = PackageStorage.save_pending_transition

    def save_pending_transition(self, load_id, file_name, *args, **kwargs):
        # The job committed its rows; dlt is about to write down that it is done.
        if file_name.startswith(os.environ["EXIT_AFTER_TABLE"] + "."):
            os._exit(9)
        return record(self, load_id, file_name, *args, **kwargs)

    PackageStorage.save_pending_transition = save_pending_transition
    from pipelines.cli import main

    sys.argv[0] = "jira-etl"
    main()
    """
)

# Each child table with the columns that tell its rows apart; the rows hold no other key.
CHILD_ROWS = {
    "issue_labels": "issue_id, label",
    "issue_components": "issue_id, component_id",
    "issue_fix_versions": "issue_id, version_id",
    "issue_field_values": "issue_id, field_id, position",
    "issue_sprints": "issue_id, position",
    "issue_links": "issue_id, link_id, direction",
}


def run_until_job_done(args: list[str], env: dict[str, str], table: str) -> int:
    environment = {**os.environ, **env, "EXIT_AFTER_TABLE": table}
    environment["RUNTIME__DLTHUB_TELEMETRY"] = "false"
    done = subprocess.run(
        [sys.executable, "-c", EXIT_AFTER_JOB, *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=str(REPO_ROOT),
        timeout=180,
    )
    return done.returncode


def stored(database: Path, table: str) -> list[tuple]:
    return query(database, f"select {CHILD_ROWS[table]} from {table} order by {CHILD_ROWS[table]}")


@pytest.mark.parametrize("table", sorted(CHILD_ROWS))
def test_job_rerun_after_kill_keeps_one_row_each(tmp_path: Path, table: str) -> None:
    database, pipelines = tmp_path / "jira.duckdb", tmp_path / "p"
    with Emulator(issues=120, seed=11, start=START) as emu:
        env = {"JIRA_TOKEN": emu.scoped_token}
        args = emulator_run_args(emu, database, pipelines, "--lookback", "0")
        assert run_cli(args, env=env).exit_code == 0
        for issue in emu.truth()[:40]:
            emu.edit_issue(issue["key"], labels=["rerun", f"n{issue['id']}"])
        emu.advance(60)
        assert run_until_job_done(args, env, table) == 9
        again = run_cli(args, env=env)
        assert again.exit_code == 0, again.output
        fresh_database = tmp_path / "fresh.duckdb"
        fresh = run_cli(emulator_run_args(emu, fresh_database, tmp_path / "fresh"), env=env)
        assert fresh.exit_code == 0, fresh.output
    rows = stored(database, table)
    assert len(rows) == len(set(rows)), f"{len(rows) - len(set(rows))} rows doubled"
    assert rows == stored(fresh_database, table)
