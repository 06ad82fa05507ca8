"""`jira-etl status` while another process, such as a BI tool, keeps the DuckDB file open."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import duckdb

from pipelines.emulator import Emulator
from tests.helpers import emulator_run_args, run_cli

START = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
# Opens the file read-only, prints `open`, and keeps it open until its standard input closes.
HOLDER = (
    "import sys, duckdb\n"
    "connection = duckdb.connect(sys.argv[1], read_only=True)\n"
    "print('open', flush=True)\n"
    "sys.stdin.read()\n"
)


def table_counts(path: Path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as connection:
        names = connection.execute(
            "select table_name from information_schema.tables "
            "where table_schema = 'jira' and table_type = 'BASE TABLE'"
        ).fetchall()
        return {
            name: connection.execute(f'select count(*) from "jira"."jira"."{name}"').fetchone()[0]
            for (name,) in names
            if not name.startswith("_dlt")
        }


def test_status_counts_rows_beside_reader(tmp_path: Path) -> None:
    db = tmp_path / "jira.duckdb"
    pdir = tmp_path / "p"
    with Emulator(issues=12, seed=5, start=START) as emu:
        result = run_cli(emulator_run_args(emu, db, pdir), env={"JIRA_TOKEN": emu.scoped_token})
    assert result.exit_code == 0, result.output
    expected = table_counts(db)
    assert expected["issues"] == 12

    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        status = run_cli(["status", "--duckdb-path", str(db), "--pipelines-dir", str(pdir)])
    finally:
        holder.communicate(timeout=30)

    assert status.exit_code == 0, status.output
    assert "rows: unavailable" not in status.stdout
    for table, count in expected.items():
        assert f"  {table}: {count} rows\n" in status.stdout, table
