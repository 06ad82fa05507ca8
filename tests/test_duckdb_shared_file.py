"""Two pipelines whose runs overlap in one DuckDB file: the second names the first run."""

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
from tests.helpers import emulator_run_args, run_cli, snapshot

START = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
# Runs for minutes each time the first run opens the file, which it keeps locked meanwhile.
SLOW_STATEMENT = "SELECT count(*) FROM range(100000000000) t(x) WHERE x % 7 = 3"


def has_open(pid: int, path: Path) -> bool:
    """Return True when process `pid` has `path` open, read from /proc without opening it."""
    folder = Path(f"/proc/{pid}/fd")
    try:
        descriptors = list(folder.iterdir())
    except OSError:
        return False
    for descriptor in descriptors:
        try:
            if os.readlink(descriptor) == str(path):
                return True
        except OSError:
            continue
    return False


def test_overlapping_run_named_in_error(tmp_path: Path) -> None:
    db = tmp_path / "shared.duckdb"
    with Emulator(issues=8, seed=5, start=START) as emu:
        token = {"JIRA_TOKEN": emu.scoped_token}
        first_args = emulator_run_args(emu, db, tmp_path / "p", "--dataset", "jira_core")
        second_args = emulator_run_args(emu, db, tmp_path / "p", "--dataset", "jira_ops")
        assert run_cli(first_args, env=token).exit_code == 0
        assert run_cli(second_args, env=token).exit_code == 0
        before = snapshot(db, "jira_ops")

        env = {k: v for k, v in os.environ.items() if not k.startswith("JIRA_")}
        env |= token | {
            "RUNTIME__DLTHUB_TELEMETRY": "false",
            "DESTINATION__DUCKDB__CREDENTIALS__STATEMENTS": json.dumps([SLOW_STATEMENT]),
        }
        first = subprocess.Popen(
            [sys.executable, "-m", "pipelines.cli", *first_args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while not has_open(first.pid, db):
                assert first.poll() is None, "the first run ended before it opened the file"
                assert time.monotonic() < deadline, "the first run never opened the file"
                time.sleep(0.05)
            second = run_cli(second_args, env=token)
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=60)

    assert second.exit_code == 1, second.output
    assert f"Another jira-etl run, process {first.pid}, is writing to this file." in second.stderr
    assert "Give each pipeline its own --duckdb-path" in second.stderr
    assert "close it" not in second.stderr
    assert snapshot(db, "jira_ops") == before
