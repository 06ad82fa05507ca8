"""`jira-etl status` while a run is going and after the run was killed with SIGKILL."""

from __future__ import annotations

import datetime as dt
import json
import signal
import subprocess
import time
from pathlib import Path

from pipelines.emulator import Emulator
from tests.helpers import emulator_run_args, run_cli, start_run_process

START = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)


def recorded_outcome(record_file: Path) -> str | None:
    try:
        return json.loads(record_file.read_text()).get("outcome")
    except (OSError, ValueError):
        return None


def status_command(tmp_path: Path) -> list[str]:
    """Return the arguments of `jira-etl status` for the run of the tests below."""
    return [
        "status",
        "--duckdb-path",
        str(tmp_path / "jira.duckdb"),
        "--pipelines-dir",
        str(tmp_path / "p"),
    ]


def start_slow_run(
    emu: Emulator, args: list[str], env: dict[str, str], tmp_path: Path, record_file: Path
) -> subprocess.Popen[bytes]:
    """Start a run whose search waits 5 s, and return once it has recorded its start."""
    emu.edit_issue(emu.truth()[3]["id"], summary="Edited before the stopped run")
    emu.add_fault(r"/search/jql$", None, times=1, delay_seconds=5)
    process = start_run_process(args, env, tmp_path / "err.txt")
    deadline = time.monotonic() + 60
    while recorded_outcome(record_file) != "running":
        assert process.poll() is None, (tmp_path / "err.txt").read_text()
        assert time.monotonic() < deadline, "the run never recorded its start"
        time.sleep(0.05)
    return process


def test_killed_run_shown_as_unfinished(tmp_path: Path) -> None:
    record_file = tmp_path / "p" / "jira_jira.last_run.json"
    status_args = status_command(tmp_path)
    with Emulator(issues=20, seed=5, start=START) as emu:
        args = emulator_run_args(emu, tmp_path / "jira.duckdb", tmp_path / "p")
        env = {"JIRA_TOKEN": emu.scoped_token}
        first = run_cli(args, env=env)
        assert first.exit_code == 0, first.output
        assert run_cli(status_args).exit_code == 0

        # The search waits, so the run is still reading Jira when it is killed.
        process = start_slow_run(emu, args, env, tmp_path, record_file)
        during = run_cli(status_args)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        after_kill = run_cli(status_args)

        emu.clear_faults()
        again = run_cli(args, env=env)
        after_success = run_cli(status_args)

    assert during.exit_code == 0, during.output
    assert "last run: running since" in during.stdout
    assert f"process {process.pid}" in during.stdout

    assert after_kill.exit_code == 1, after_kill.output
    assert "last run: did not finish." in after_kill.stdout
    assert f"process {process.pid} ended without recording an outcome" in after_kill.stdout

    assert again.exit_code == 0, again.output
    assert after_success.exit_code == 0, after_success.output
    assert "last run: success at" in after_success.stdout


def test_terminated_run_shown_as_failed(tmp_path: Path) -> None:
    record_file = tmp_path / "p" / "jira_jira.last_run.json"
    status_args = status_command(tmp_path)
    with Emulator(issues=20, seed=5, start=START) as emu:
        args = emulator_run_args(emu, tmp_path / "jira.duckdb", tmp_path / "p")
        env = {"JIRA_TOKEN": emu.scoped_token}
        first = run_cli(args, env=env)
        assert first.exit_code == 0, first.output

        process = start_slow_run(emu, args, env, tmp_path, record_file)
        process.send_signal(signal.SIGTERM)
        exit_status = process.wait(timeout=60)
        after = run_cli(status_args)

    assert exit_status == 130, (tmp_path / "err.txt").read_text()
    assert recorded_outcome(record_file) == "failed"
    assert after.exit_code == 1, after.output
    assert "last run: failed at" in after.stdout
    assert "did not finish" not in after.stdout
