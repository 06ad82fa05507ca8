"""A load job that ran but was not recorded runs again without doubling rows.

The run is killed (os._exit, as kill -9 leaves it) right after a load job's rows were committed
to the destination and before dlt recorded the job as done. The next run loads the pending
package again, job included, and each table must then hold each row once.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from pipelines.emulator import Emulator
from tests.helpers import (
    POSTGRES_DSN,
    REPO_ROOT,
    emulator_run_args,
    postgres_schema,
    query,
    run_cli,
)

START = dt.datetime(2025, 2, 3, 9, 0, tzinfo=dt.UTC)

EXIT_AFTER_JOB = textwrap.dedent(
    """
    import os, sys
    from dlt.common.storages.load_package import PackageStorage

    record = PackageStorage.save_pending_transition

    def save_pending_transition(self, load_id, file_name, *args, **kwargs):
        # The job committed its rows; dlt is about to write down that it is done.
        suffix = os.environ.get("EXIT_AFTER_SUFFIX", "")
        if file_name.startswith(os.environ["EXIT_AFTER_TABLE"] + ".") and file_name.endswith(
            suffix
        ):
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
    environment.setdefault("EXIT_AFTER_SUFFIX", "")
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


def load_edit_kill_and_rerun(
    emu: Emulator, args: list[str], env: dict[str, str], table: str
) -> None:
    """Load, edit 40 issues, kill the next run after `table`'s job, then run again."""
    assert run_cli(args, env=env).exit_code == 0
    for issue in emu.truth()[:40]:
        emu.edit_issue(issue["key"], labels=["rerun", f"n{issue['id']}"])
    emu.advance(60)
    assert run_until_job_done(args, env, table) == 9
    again = run_cli(args, env=env)
    assert again.exit_code == 0, again.output


def stored(database: Path, table: str) -> list[tuple]:
    return query(database, f"select {CHILD_ROWS[table]} from {table} order by {CHILD_ROWS[table]}")


@pytest.mark.parametrize("table", sorted(CHILD_ROWS))
def test_job_rerun_after_kill_keeps_one_row_each(tmp_path: Path, table: str) -> None:
    database, pipelines = tmp_path / "jira.duckdb", tmp_path / "p"
    with Emulator(issues=120, seed=11, start=START) as emu:
        # DuckDB merges each table from the part's files in one SQL job, the job that
        # commits the table's rows.
        env = {"JIRA_TOKEN": emu.scoped_token, "EXIT_AFTER_SUFFIX": ".sql"}
        args = emulator_run_args(emu, database, pipelines, "--lookback", "0")
        load_edit_kill_and_rerun(emu, args, env, table)
        fresh_database = tmp_path / "fresh.duckdb"
        fresh = run_cli(emulator_run_args(emu, fresh_database, tmp_path / "fresh"), env=env)
        assert fresh.exit_code == 0, fresh.output
    rows = stored(database, table)
    assert len(rows) == len(set(rows)), f"{len(rows) - len(set(rows))} rows doubled"
    assert rows == stored(fresh_database, table)


def test_failure_after_pending_load_names_it(tmp_path: Path) -> None:
    database, pipelines = tmp_path / "jira.duckdb", tmp_path / "p"
    with Emulator(issues=60, seed=11, start=START) as emu:
        env = {"JIRA_TOKEN": emu.scoped_token, "EXIT_AFTER_SUFFIX": ".sql"}
        args = emulator_run_args(emu, database, pipelines, "--lookback", "0")
        assert run_cli(args, env=env).exit_code == 0
        edited = emu.truth()[3]["id"]
        emu.edit_issue(edited, summary="Loaded from the pending package")
        emu.advance(60)
        assert run_until_job_done(args, env, "issue_labels") == 9
        # The next run loads the pending package, then fails on its own search.
        emu.add_fault(r"/search/jql$", 400, times=None)
        failed = run_cli(args, env=env)
    assert failed.exit_code == 1, failed.output
    assert "loaded the load packages a previous run had left pending" in failed.stderr
    assert "Nothing else was loaded" in failed.stderr
    assert "Nothing was loaded" not in failed.stderr
    summary = query(database, f"select summary from issues where id = {edited}")
    assert summary == [("Loaded from the pending package",)]


@pytest.fixture
def pg_schema() -> Iterator[str]:
    with postgres_schema("jira_rerun") as name:
        yield name


@pytest.mark.parametrize("table", ["_dlt_pipeline_state", "issue_labels"])
def test_postgres_job_rerun_after_kill_loads(tmp_path: Path, pg_schema: str, table: str) -> None:
    # PostgreSQL keeps `_dlt_id` unique in dlt's state table, so the state row written twice
    # failed every later run.
    pipelines = tmp_path / "p"
    with Emulator(issues=120, seed=11, start=START) as emu:
        env = {"JIRA_TOKEN": emu.scoped_token, "DESTINATION__POSTGRES__CREDENTIALS": POSTGRES_DSN}
        args = emulator_run_args(emu, tmp_path / "unused.duckdb", pipelines, "--lookback", "0")
        args += ["--destination", "postgres", "--dataset", pg_schema]
        load_edit_kill_and_rerun(emu, args, env, table)
        truth = sorted((int(issue["id"]), issue["summary"]) for issue in emu.truth())
        labels = sorted(
            (int(issue["id"]), label) for issue in emu.truth() for label in issue["labels"]
        )
    with psycopg2.connect(POSTGRES_DSN) as connection, connection.cursor() as cursor:
        cursor.execute(f'set search_path to "{pg_schema}"')
        cursor.execute("select id, summary from issues order by id")
        assert cursor.fetchall() == truth
        cursor.execute("select issue_id, label from issue_labels order by issue_id, label")
        assert cursor.fetchall() == labels
        cursor.execute(
            "select count(*) from _dlt_pipeline_state group by _dlt_id having count(*) > 1"
        )
        assert cursor.fetchall() == []


EXIT_AFTER_MERGE_JOB_WRITTEN = textwrap.dedent(
    """
    import os, sys
    from dlt.load.load import Load

    create = Load.create_followup_jobs

    def create_followup_jobs(self, load_id, state, job, schema):
        created = create(self, load_id, state, job, schema)
        # The merge job of the table is in the package and has not run yet.
        if created[1] and job.job_file_info().table_name == os.environ["EXIT_AFTER_TABLE"]:
            os._exit(9)
        return created

    Load.create_followup_jobs = create_followup_jobs
    from pipelines.cli import main

    sys.argv[0] = "jira-etl"
    main()
    """
)


def test_merge_without_its_files_explains_recovery(tmp_path: Path) -> None:
    database, pipelines = tmp_path / "jira.duckdb", tmp_path / "p"
    with Emulator(issues=80, seed=11, start=START) as emu:
        env = {"JIRA_TOKEN": emu.scoped_token}
        args = emulator_run_args(emu, database, pipelines, "--lookback", "0")
        assert run_cli(args, env=env).exit_code == 0
        for issue in emu.truth()[:20]:
            emu.edit_issue(issue["key"], summary=f"edited {issue['id']}")
        emu.advance(60)
        killed = subprocess.run(
            [sys.executable, "-c", EXIT_AFTER_MERGE_JOB_WRITTEN, *args],
            capture_output=True,
            text=True,
            env={
                **os.environ,
                **env,
                "EXIT_AFTER_TABLE": "issues",
                "RUNTIME__DLTHUB_TELEMETRY": "false",
            },
            cwd=str(REPO_ROOT),
            timeout=180,
        )
        assert killed.returncode == 9, killed.stderr
        files = list(pipelines.rglob("load/normalized/*/*_jobs/issues.*.parquet"))
        # The precondition: the pending package contains the files the merge job would read.
        assert files
        for path in files:
            path.unlink()
        failed = run_cli(args, env=env)
        assert failed.exit_code == 1, failed.output
        working_folder = pipelines / "jira_jira"
        assert f"Delete dlt's working folder of this pipeline, {working_folder}," in failed.output
        assert "--full-refresh" in failed.output
        assert "the next run loads it first" not in failed.output
        # The way out that the message gives.
        shutil.rmtree(working_folder)
        refreshed = run_cli([*args, "--full-refresh"], env=env)
        assert refreshed.exit_code == 0, refreshed.output
        truth = sorted((int(issue["id"]), issue["summary"]) for issue in emu.truth())
    assert query(database, "select id, summary from issues order by id") == truth
