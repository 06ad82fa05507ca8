"""A dlt error reaches the log as one line with its reason, and as a traceback only at DEBUG.

dlt gives its logger a handler of its own once a pipeline starts, so each case runs in a new
Python process that configures logging as the CLI does, starts a pipeline, then logs through
dlt's logger.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

REASON = 'IO Error: Could not write file "/data/jira.duckdb": No space left on device'
SECRET = "s3cr3t-token-value"

SCRIPT = textwrap.dedent(
    """
    import sys

    import dlt
    from dlt.common import logger

    from pipelines.logs import configure_logging, register_secret

    level, pipelines_dir = sys.argv[1], sys.argv[2]
    register_secret({secret!r})
    configure_logging(level)
    dlt.pipeline("log_lines", destination="duckdb", pipelines_dir=pipelines_dir)
    assert logger.LOGGER is not None, "dlt started no logger"
    assert not logger.LOGGER.propagate, "dlt's logger has no handler of its own"
    try:
        raise OSError({reason!r} + "\\nwhile writing table issues, token {secret}")
    except OSError:
        logger.exception("Transient exception in job issues.parquet")
    """
).format(reason=REASON, secret=SECRET)


def log_failed_job(tmp_path: Path, level: str) -> str:
    env = {**os.environ, "RUNTIME__LOG_LEVEL": "INFO", "RUNTIME__DLTHUB_TELEMETRY": "false"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, level, str(tmp_path / "pipelines")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert done.returncode == 0, done.stderr
    return done.stderr


def test_dlt_job_error_on_one_line(tmp_path: Path) -> None:
    lines = [line for line in log_failed_job(tmp_path, "INFO").splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].endswith(
        f"Transient exception in job issues.parquet: OSError: {REASON} "
        "while writing table issues, token ***"
    ), lines[0]


def test_dlt_traceback_kept_at_debug(tmp_path: Path) -> None:
    err = log_failed_job(tmp_path, "DEBUG")
    assert "Traceback (most recent call last)" in err
    assert REASON in err
    assert SECRET not in err
