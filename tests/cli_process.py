"""Run `jira-etl` in a new process forked from one that has imported it already.

A `jira-etl run` spends about 1.5 s of CPU importing dlt, DuckDB, pyarrow and pandas, and
the tests start several hundred runs. Each run here is still its own process, with its own
arguments, environment, working directory, output files and exit status, but it is forked
from a server process (multiprocessing's `forkserver`) that imported those modules once.

Python reads some variables only when it starts or imports a module (`PYTHON*`, `TZ`, the
locale, dlt's `DLT_*`). A run whose environment differs from the server's in one of them
starts a new interpreter instead, as does a run when the server cannot start.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

# The modules a run imports; the server imports them once.
PRELOAD = [
    "pipelines.cli",
    "pipelines.commands",
    "pipelines.runner",
    "pipelines.reporting.cli",
    "pipelines.emulator",
    "pandas",
    "dlt.destinations.impl.duckdb.duck",
    "dlt.destinations.impl.duckdb.sql_client",
    "dlt.destinations.impl.postgres.postgres",
    "dlt.sources.helpers.requests",
]
# Variables read when Python starts or a module is imported, named exactly or by prefix.
START_VARIABLES = ("TZ", "HOME", "LANG", "JIRA_SQL_DIR")
START_PREFIXES = ("PYTHON", "LC_", "DLT_")

_lock = threading.Lock()
_context: Any = None
_server_env: dict[str, str] = {}


def _started_variables(env: dict[str, str]) -> dict[str, str]:
    return {
        key: value
        for key, value in env.items()
        if key in START_VARIABLES or key.startswith(START_PREFIXES)
    }


def _server() -> Any:
    """Return the forkserver context, set up on the first call; None where it is unavailable."""
    global _context, _server_env
    with _lock:
        if _context is None:
            if "forkserver" not in multiprocessing.get_all_start_methods():
                _context = False
            else:
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(PRELOAD)
                _server_env = _started_variables(dict(os.environ))
                _context = context
        return _context or None


def _child(args: list[str], env: dict[str, str], cwd: str, out: str, err: str) -> None:
    """Run `jira-etl ARGS` in this forked process, as `python -m pipelines.cli` would."""
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    # `pipelines.cli` sets this default when imported, which happened before the fork.
    os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
    for path, descriptor in ((out, 1), (err, 2)):
        opened = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(opened, descriptor)
        os.close(opened)
    sys.argv = ["jira-etl", *args]
    try:
        from pipelines.cli import main

        main()
    finally:
        # An interpreter that exits waits for its threads, then runs the exit handlers.
        threading._shutdown()  # type: ignore[attr-defined]
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()


def run_forked(
    args: list[str], env: dict[str, str], cwd: str, timeout: float
) -> subprocess.CompletedProcess[str]:
    """Run `jira-etl ARGS` with `env` in `cwd`, and return its status and output.

    Raises:
        subprocess.TimeoutExpired: the run did not end within `timeout` seconds; it was killed.
    """
    command = [sys.executable, "-m", "pipelines.cli", *args]
    context = _server()
    if context is None or _started_variables(env) != _server_env:
        return subprocess.run(
            command, capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout
        )
    with tempfile.TemporaryDirectory(prefix="jira-etl-cli-") as folder:
        out, err = str(Path(folder) / "stdout"), str(Path(folder) / "stderr")
        process = context.Process(target=_child, args=(args, env, cwd, out, err))
        process.start()
        process.join(timeout)
        if process.exitcode is None:
            process.kill()
            process.join()
            raise subprocess.TimeoutExpired(command, timeout)
        stdout = Path(out).read_text(errors="replace")
        stderr = Path(err).read_text(errors="replace")
    return subprocess.CompletedProcess(command, process.exitcode, stdout, stderr)
