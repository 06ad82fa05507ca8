"""A dlt error reaches the log as one line with its reason, and as a traceback only at DEBUG."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import duckdb
import pytest

from pipelines.logs import configure_logging, register_secret

REASON = 'IO Error: Could not write file "/data/jira.duckdb": No space left on device'


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    dlt_level = logging.getLogger("dlt").level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger("dlt").setLevel(dlt_level)


def log_failed_job() -> None:
    try:
        raise duckdb.IOException(f"{REASON}\nwhile writing table issues")
    except duckdb.IOException:
        logging.getLogger("dlt").exception("Transient exception in job issues.parquet")


def test_dlt_job_error_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO")
    log_failed_job()
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].endswith(
        f"Transient exception in job issues.parquet: IOException: {REASON} "
        "while writing table issues"
    )


def test_dlt_job_error_masks_secret_in_reason(capsys: pytest.CaptureFixture[str]) -> None:
    register_secret("s3cr3t-token-value")
    configure_logging("INFO")
    try:
        raise ValueError("rejected s3cr3t-token-value")
    except ValueError:
        logging.getLogger("dlt").exception("Job failed")
    err = capsys.readouterr().err
    assert "s3cr3t-token-value" not in err
    assert "Job failed: ValueError: rejected ***" in err


def test_dlt_traceback_kept_at_debug(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("DEBUG")
    log_failed_job()
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert REASON in err
