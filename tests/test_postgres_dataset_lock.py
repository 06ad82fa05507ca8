"""Two runs with different pipelines folders that load one PostgreSQL dataset."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import psycopg2

from pipelines.emulator import Emulator
from tests.helpers import (
    POSTGRES_DSN,
    emulator_run_args,
    postgres_schema,
    run_cli,
    start_run_process,
)

START = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)


def lock_holders(dataset: str) -> list[int]:
    """Return the sessions that hold the advisory lock of `dataset`, read from pg_locks."""
    with psycopg2.connect(POSTGRES_DSN) as connection, connection.cursor() as cursor:
        cursor.execute(
            "select pid from pg_locks where locktype = 'advisory' and granted "
            "and classid = hashtext('jira-etl')::oid and objid = hashtext(%s)::oid",
            (dataset,),
        )
        return [row[0] for row in cursor.fetchall()]


def label_rows(dataset: str) -> list[tuple[int, str]]:
    with psycopg2.connect(POSTGRES_DSN) as connection, connection.cursor() as cursor:
        cursor.execute(f'select issue_id, label from "{dataset}".issue_labels')
        return [(int(row[0]), row[1]) for row in cursor.fetchall()]


def test_second_folder_waits_out_the_run(tmp_path: Path) -> None:
    with (
        postgres_schema("dataset_lock") as dataset,
        Emulator(issues=30, seed=5, start=START) as emu,
    ):
        extra = ("--destination", "postgres", "--dataset", dataset)
        env = {"JIRA_TOKEN": emu.scoped_token, "DESTINATION__POSTGRES__CREDENTIALS": POSTGRES_DSN}
        first_args = emulator_run_args(emu, tmp_path / "a.duckdb", tmp_path / "cron", *extra)
        second_args = emulator_run_args(emu, tmp_path / "b.duckdb", tmp_path / "user", *extra)
        # The first run's search waits, so its lock is still taken when the second run starts.
        emu.add_fault(r"/search/jql$", None, times=1, delay_seconds=6)
        first = start_run_process(first_args, env, tmp_path / "first.txt")
        deadline = time.monotonic() + 60
        while not lock_holders(dataset):
            assert first.poll() is None, (tmp_path / "first.txt").read_text()
            assert time.monotonic() < deadline, "the first run never locked the dataset"
            time.sleep(0.05)
        second = run_cli(second_args, env=env)
        first_exit = first.wait(timeout=120)
        emu.clear_faults()
        third = run_cli(second_args, env=env)
        expected = sorted((int(i["id"]), label) for i in emu.truth() for label in i["labels"])
        labels = label_rows(dataset)
        holders_after = lock_holders(dataset)

    assert second.exit_code == 3, second.output
    assert f"Another run is loading dataset `{dataset}` in this PostgreSQL database" in (
        second.output
    )
    assert first_exit == 0, (tmp_path / "first.txt").read_text()
    assert third.exit_code == 0, third.output
    assert sorted(labels) == expected
    assert holders_after == []
