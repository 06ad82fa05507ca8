"""The record of each run and `jira-etl status`: last outcome, cursor, rows, pending loads."""

from __future__ import annotations

import json
import logging
import os
import socket
from dataclasses import fields, is_dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dlt

from pipelines.logs import mask

logger = logging.getLogger("jira_etl.status")


def record_path(pipelines_dir: str | Path, pipeline_name: str) -> Path:
    return Path(pipelines_dir) / f"{pipeline_name}.last_run.json"


def write_run_record(
    pipelines_dir: str | Path,
    pipeline_name: str,
    *,
    outcome: str,
    started_at: datetime,
    error: str | None = None,
    summary: Any = None,
    duckdb_path: str | None = None,
) -> None:
    """Store the outcome of a run beside dlt's pipeline folder, replacing the file atomically.

    `outcome` is `success`, `failed`, or `running` for a run that has just taken the lock. A
    run that is killed leaves its `running` record, which `run_did_not_finish` recognizes.
    """
    path = record_path(pipelines_dir, pipeline_name)
    previous = read_run_record(pipelines_dir, pipeline_name) or {}
    # The message may quote a server's response. Registered credentials are masked here as in
    # the log, because `jira-etl status` prints the record.
    error = mask(error) if error else error
    record = {
        "pipeline_name": pipeline_name,
        "outcome": outcome,
        "started_at": started_at.isoformat(),
        "finished_at": None if outcome == "running" else datetime.now(UTC).isoformat(),
        "error": error,
        "duckdb_path": str(Path(duckdb_path).resolve()) if duckdb_path else None,
        "summary": _plain_summary(summary),
        "last_success_at": previous.get("last_success_at"),
        "last_error": previous.get("last_error"),
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "pid_namespace": _pid_namespace(),
    }
    if outcome == "success":
        record["last_success_at"] = record["finished_at"]
    elif outcome == "failed":
        record["last_error"] = {"at": record["finished_at"], "message": error}
    temporary = path.with_suffix(".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(json.dumps(record, indent=2, default=str))
        os.replace(temporary, path)
    except OSError as exc:
        # The run keeps its outcome and exit status. Only `jira-etl status` misses it.
        temporary.unlink(missing_ok=True)
        logger.warning("Could not write the run record %s: %s", path, exc)


def run_did_not_finish(record: dict[str, Any]) -> bool:
    """Return True when `record` is of a run on this host whose process ended without an outcome.

    Such a run was killed (SIGKILL, the out-of-memory killer, a lost machine) or crashed before
    it could record one. A record written on another host, or in a container with its own
    process ids, is taken as still running.
    """
    if record.get("outcome") != "running" or record.get("host") != socket.gethostname():
        return False
    if record.get("pid_namespace") != _pid_namespace():
        return False
    pid = record.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    # NOTE: a new process that was given the same id makes the run look alive.
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _pid_namespace() -> str:
    """Return the id of this process's process id namespace, or "" where Linux's /proc is absent."""
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""


def _plain_summary(summary: Any) -> Any:
    if not is_dataclass(summary):
        return summary
    # The reader holds threads and locks; the record keeps only plain figures.
    return {f.name: getattr(summary, f.name) for f in fields(summary) if f.name != "reader"}


def read_run_record(pipelines_dir: str | Path, pipeline_name: str) -> dict[str, Any] | None:
    path = record_path(pipelines_dir, pipeline_name)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def pipeline_status(pipeline: dlt.Pipeline) -> dict[str, Any]:
    """Collect what `status` shows for one pipeline from its local state and record."""
    state = pipeline.state.get("sources", {}).get("jira", {}) if pipeline.state else {}
    pending_extracted = list(pipeline.list_extracted_load_packages())
    pending_normalized = list(pipeline.list_normalized_load_packages())
    return {
        "pipeline_name": pipeline.pipeline_name,
        "dataset": pipeline.dataset_name,
        "cursor": state.get("issues_cursor"),
        "pending_packages": len(pending_extracted) + len(pending_normalized),
        # dlt saves the cursor with the extracted package, so it holds only once that loads.
        "cursor_loaded": not (pending_extracted or pending_normalized),
        # A run saves the source's state with its first load, so none means no run loaded yet.
        "has_state": bool(state),
        "record": read_run_record(pipeline.pipelines_dir, pipeline.pipeline_name),
    }
