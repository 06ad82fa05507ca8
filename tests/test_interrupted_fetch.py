"""Ctrl-C while bulk fetches wait on a slow Jira: the run exits at once with status 130.

Each bulk fetch of the parallel reader sends a changelog request after its issues. A run that
waits for the running fetches before it exits goes on fetching on a slow site for up to two
request timeouts a fetch.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from pipelines.emulator import Emulator
from tests.helpers import emulator_run_args

# Each request to the emulator takes this long once the id search has returned.
SLOW_REQUEST_SECONDS = 20


def test_ctrl_c_during_slow_fetch_exits_at_once(tmp_path: Path) -> None:
    with Emulator(issues=300, seed=23) as emu:
        args = emulator_run_args(emu, tmp_path / "jira.duckdb", tmp_path / "p")
        env = {k: v for k, v in os.environ.items() if not k.startswith("JIRA_")}
        env |= {"JIRA_TOKEN": emu.scoped_token, "RUNTIME__DLTHUB_TELEMETRY": "false"}
        err_path = tmp_path / "err.txt"
        process = subprocess.Popen(
            [sys.executable, "-m", "pipelines.cli", *args],
            env=env,
            stdout=(tmp_path / "out.txt").open("wb"),
            stderr=err_path.open("wb"),
            # A test runner's worker may ignore SIGINT, and the run would inherit that.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509
        )
        try:
            deadline = time.monotonic() + 60
            while "search/jql -> 200" not in err_path.read_text():
                assert process.poll() is None, err_path.read_text()
                assert time.monotonic() < deadline, "the id search never returned"
                time.sleep(0.02)
            emu.latency_ms = SLOW_REQUEST_SECONDS * 1000
            # Long enough for the bulk fetches to be sent, far shorter than one of them.
            time.sleep(1.5)
            assert process.poll() is None, err_path.read_text()
            interrupted = time.monotonic()
            process.send_signal(signal.SIGINT)
            process.wait(timeout=4 * SLOW_REQUEST_SECONDS)
            waited = time.monotonic() - interrupted
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            emu.latency_ms = 0
        message = err_path.read_text()
        assert process.returncode == 130, message
        assert waited < SLOW_REQUEST_SECONDS / 2, message
        assert "interrupted by signal 2" in message, message
        assert "Traceback" not in message, message
        assert "changelog/bulkfetch" not in message, message
