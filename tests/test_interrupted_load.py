"""Ctrl-C or SIGTERM during dlt's load step: the run exits 130 once the load is stored.

dlt intercepts SIGINT while it loads and acts on it between rounds of load jobs. A signal that
arrived during the last round, with one load job at a time, was dropped when the step ended,
and the interrupted run went on and exited 0.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import psycopg2
import pytest
from dlt.common.runtime import signals

from pipelines.emulator import Emulator
from pipelines.runner import step_signals, stop_if_signalled
from tests.helpers import POSTGRES_DSN, emulator_run_args, postgres_schema, run_cli


@pytest.fixture
def pg_schema() -> Iterator[str]:
    with postgres_schema("jira_interrupt") as name:
        yield name


def waiting_backends(cursor: psycopg2.extensions.cursor) -> int:
    cursor.execute(
        "select count(*) from pg_stat_activity "
        "where wait_event_type = 'Lock' and pid <> pg_backend_pid()"
    )
    return int(cursor.fetchone()[0])


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM])
def test_signal_during_load_stops_after_load(
    tmp_path: Path, pg_schema: str, signal_number: int
) -> None:
    with Emulator(issues=40, seed=17) as emu:
        args = emulator_run_args(emu, tmp_path / "jira.duckdb", tmp_path / "p")
        args += ["--destination", "postgres", "--dataset", pg_schema]
        env = {
            "JIRA_TOKEN": emu.scoped_token,
            "DESTINATION__POSTGRES__CREDENTIALS": POSTGRES_DSN,
            # One load job at a time: dlt then runs every job in one round of its load step.
            "LOAD__WORKERS": "1",
        }
        first = run_cli(args, env=env)
        assert first.exit_code == 0, first.stderr
        edited = emu.truth()[5]["id"]
        emu.edit_issue(edited, summary="Edited while the table was locked")

        child_env = {k: v for k, v in os.environ.items() if not k.startswith("JIRA_")}
        child_env |= env | {"RUNTIME__DLTHUB_TELEMETRY": "false"}
        locker = psycopg2.connect(POSTGRES_DSN)
        try:
            with locker.cursor() as cursor:
                # The last round of the load step records the load in `_dlt_loads`, and waits.
                cursor.execute(f'lock table "{pg_schema}"._dlt_loads in share mode')
                # The run logs each request, more than a pipe holds, so its output goes to files.
                process = subprocess.Popen(
                    [sys.executable, "-m", "pipelines.cli", *args],
                    env=child_env,
                    stdout=(tmp_path / "out.txt").open("wb"),
                    stderr=(tmp_path / "err.txt").open("wb"),
                    # A test runner's worker may ignore SIGINT, and the run would inherit that.
                    preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509
                )
                # Outside a transaction, so that each query reads the current activity.
                with closing(psycopg2.connect(POSTGRES_DSN)) as watcher:
                    watcher.autocommit = True
                    watch = watcher.cursor()
                    deadline = time.monotonic() + 120
                    while waiting_backends(watch) == 0:
                        assert process.poll() is None, (tmp_path / "err.txt").read_text()
                        assert time.monotonic() < deadline, "the load never waited on the lock"
                        time.sleep(0.05)
                process.send_signal(signal_number)
                time.sleep(0.5)
        finally:
            locker.rollback()
            locker.close()
        process.wait(timeout=120)
        message = (tmp_path / "err.txt").read_text()
        assert process.returncode == 130, message
        assert "interrupted during its last load, which finished" in message, message
        assert "Traceback" not in message

        with psycopg2.connect(POSTGRES_DSN) as connection, connection.cursor() as cursor:
            cursor.execute(f'select summary from "{pg_schema}".issues where id = %s', (edited,))
            assert cursor.fetchall() == [("Edited while the table was locked",)]
            cursor.execute(f'select count(*), count(distinct id) from "{pg_schema}".issues')
            assert cursor.fetchone() == (40, 40)

        after = run_cli(args, env=env)
        assert after.exit_code == 0, after.stderr


def test_step_signal_outlasts_dlt_step() -> None:
    # dlt's own interception, as in its normalize and load steps, nested in ours.
    with step_signals() as received, signals.intercepted_signals():
        os.kill(os.getpid(), signal.SIGINT)
        deadline = time.monotonic() + 5
        while not signals.was_signal_received() and time.monotonic() < deadline:
            time.sleep(0.01)
    assert received.code == signal.SIGINT
    assert signal.getsignal(signal.SIGINT) is not signals._signal_receiver
    with pytest.raises(Exception, match="interrupted by signal 2 after it normalized") as caught:
        stop_if_signalled(received, "after it normalized the fetched issues", pending=True)
    assert caught.value.interrupted is True  # type: ignore[attr-defined]
    assert caught.value.pending_load is True  # type: ignore[attr-defined]


def test_step_without_signal_goes_on() -> None:
    with step_signals() as received:
        pass
    assert received.code == 0
    stop_if_signalled(received, "after it normalized the fetched issues")
