"""SIGTERM while DuckDB runs a statement: DuckDB stops it with "Query interrupted"."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from pipelines.emulator import Emulator
from tests.helpers import emulator_run_args, query

START = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
# A configured statement that runs for minutes, so the signal arrives while it runs.
SLOW_STATEMENT = "SELECT count(*) FROM range(100000000000) t(x) WHERE x % 7 = 3"


def test_sigterm_in_statement_exits_130(tmp_path: Path) -> None:
    db = tmp_path / "jira.duckdb"
    with Emulator(issues=5, seed=5, start=START) as emu:
        env = {k: v for k, v in os.environ.items() if not k.startswith("JIRA_")}
        env |= {
            "JIRA_TOKEN": emu.scoped_token,
            "RUNTIME__DLTHUB_TELEMETRY": "false",
            "DESTINATION__DUCKDB__CREDENTIALS__STATEMENTS": json.dumps([SLOW_STATEMENT]),
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "pipelines.cli", *emulator_run_args(emu, db, tmp_path / "p")],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(tmp_path / "err.txt").open("wb"),
        )
        # The check of the configured settings opens a copy of the new file in a folder of
        # its own beside it, and runs the statement there before Jira is read.
        deadline = time.monotonic() + 60
        while not any(path.name.startswith(".jira-etl-settings-") for path in tmp_path.iterdir()):
            assert process.poll() is None, (tmp_path / "err.txt").read_text()
            assert time.monotonic() < deadline, "the run never checked the DuckDB settings"
            time.sleep(0.05)
        time.sleep(1)
        process.send_signal(signal.SIGTERM)
        exit_code = process.wait(timeout=60)
        requests = list(emu.requests)

    stderr = (tmp_path / "err.txt").read_text()
    assert exit_code == 130, stderr
    assert "Query interrupted" in stderr
    assert "The run was interrupted before it read or loaded anything." in stderr
    assert requests == []


# A statement that runs at once until a load has finished, and for minutes after, so it stops
# the first query the run makes on a new connection after its load.
SLOW_AFTER_LOAD = (
    "SELECT count(*) FROM (SELECT CASE WHEN (SELECT coalesce(sum(estimated_size), 0) "
    "FROM duckdb_tables() WHERE table_name = '_dlt_loads') > 0 THEN 100000000000 ELSE 1 END "
    "AS n) s, range(s.n) t(x) WHERE x % 7 = 3"
)


def test_sigterm_after_load_names_signal(tmp_path: Path) -> None:
    db = tmp_path / "jira.duckdb"
    with Emulator(issues=5, seed=5, start=START) as emu:
        env = {k: v for k, v in os.environ.items() if not k.startswith("JIRA_")}
        env |= {"JIRA_TOKEN": emu.scoped_token, "RUNTIME__DLTHUB_TELEMETRY": "false"}
        args = emulator_run_args(emu, db, tmp_path / "p")
        process = subprocess.Popen(
            [sys.executable, "-m", "pipelines.cli", *args],
            env=env
            | {"DESTINATION__DUCKDB__CREDENTIALS__STATEMENTS": json.dumps([SLOW_AFTER_LOAD])},
            stdout=subprocess.DEVNULL,
            stderr=(tmp_path / "err.txt").open("wb"),
        )
        loaded = tmp_path / "p" / "jira_jira" / "load" / "loaded"
        deadline = time.monotonic() + 60
        while not (loaded.is_dir() and any(loaded.iterdir())):
            assert process.poll() is None, (tmp_path / "err.txt").read_text()
            assert time.monotonic() < deadline, "the run never finished its load"
            time.sleep(0.05)
        time.sleep(1)
        process.send_signal(signal.SIGTERM)
        exit_code = process.wait(timeout=60)
        again = subprocess.run(
            [sys.executable, "-m", "pipelines.cli", *args], env=env, capture_output=True, text=True
        )
        truth = {issue["id"] for issue in emu.truth()}

    stderr = (tmp_path / "err.txt").read_text()
    assert exit_code == 130, stderr
    assert "Traceback" not in stderr
    assert "stopped the query" in stderr
    assert "another program holds the DuckDB file" not in stderr
    assert again.returncode == 0, again.stderr
    stored = {row[0] for row in query(db, "select id from issues")}
    assert stored == truth
