"""Under failure: 429, 5xx, dropped and slow responses, retries that run out, SIGKILL mid-run.

Every test ends by comparing the loaded issues and labels with the emulator's truth.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines.emulator import Emulator
from tests.helpers import REPO_ROOT, query, run_cli, snapshot

START = dt.datetime(2026, 6, 1, 8, 0, 2, tzinfo=dt.UTC)
SEARCH = r"/search/jql$"


def args(emu: Emulator, tmp_path: Path, *extra: str) -> list[str]:
    return [
        "run",
        "--site-url",
        emu.site_url,
        "--gateway-url",
        emu.gateway_url,
        "--duckdb-path",
        str(tmp_path / "jira.duckdb"),
        "--pipelines-dir",
        str(tmp_path / "pipelines"),
        "--tables",
        "issue_comments",
        "--page-size",
        "10",
        *extra,
    ]


def env(emu: Emulator) -> dict[str, str]:
    return {"JIRA_TOKEN": emu.scoped_token}


def assert_matches_truth(emu: Emulator, tmp_path: Path) -> None:
    db = tmp_path / "jira.duckdb"
    loaded = query(db, "select id, key, summary, updated_at from issues where not is_deleted")
    truth = [(t["id"], t["key"], t["summary"], t["updated"]) for t in emu.truth()]
    assert sorted(loaded) == truth
    labels = set(query(db, "select issue_id, label from issue_labels"))
    assert labels == {(t["id"], label) for t in emu.truth() for label in t["labels"]}
    assert query(db, "select count(*) - count(distinct id) from issues") == [(0,)]


def cursor(tmp_path: Path) -> str | None:
    state = json.loads((tmp_path / "pipelines" / "jira_jira" / "state.json").read_text())
    return state["sources"]["jira"].get("issues_cursor")


@pytest.fixture
def emu():
    with Emulator(issues=45, seed=21, start=START) as server:
        yield server


def test_throttling_errors_and_drops_retried(emu: Emulator, tmp_path: Path) -> None:
    emu.add_fault(SEARCH, 429, times=3, retry_after=0, html=True)
    emu.add_fault(SEARCH, 503, every=2, times=1, retry_after=0)
    emu.add_fault(r"/issue/bulkfetch$|/comment$", 500, times=1)
    emu.add_fault(r"/comment$", None, drop=True, times=1)
    emu.add_fault(r"/field$", 502, times=1, html=True)
    result = run_cli(args(emu, tmp_path), env=env(emu))
    assert result.exit_code == 0, result.output
    statuses = [r["status"] for r in emu.requests]
    assert statuses.count(429) == 3
    assert statuses.count(0) == 1  # the dropped connection
    assert sorted(s for s in statuses if s >= 500) == [500, 502, 503]
    assert_matches_truth(emu, tmp_path)


def test_slow_response_is_retried(emu: Emulator, tmp_path: Path) -> None:
    emu.add_fault(SEARCH, None, delay_seconds=2.5, times=1)
    result = run_cli(args(emu, tmp_path, "--timeout", "1"), env=env(emu))
    assert result.exit_code == 0, result.output
    assert_matches_truth(emu, tmp_path)


def test_exhausted_retries_then_next_run_completes(emu: Emulator, tmp_path: Path) -> None:
    assert run_cli(args(emu, tmp_path), env=env(emu)).exit_code == 0
    emu.advance(30)
    emu.edit_issue("ABC-2", summary="changed while Jira fails")
    before, cursor_before = snapshot(tmp_path / "jira.duckdb"), cursor(tmp_path)
    emu.add_fault(SEARCH, 503, times=None)
    failed = run_cli(args(emu, tmp_path, "--max-retries", "3"), env=env(emu))
    assert failed.exit_code == 1, failed.output
    assert "503" in failed.stderr and "Nothing was loaded" in failed.stderr, failed.stderr
    assert snapshot(tmp_path / "jira.duckdb") == before
    assert cursor(tmp_path) == cursor_before
    emu.clear_faults()
    assert run_cli(args(emu, tmp_path), env=env(emu)).exit_code == 0
    assert_matches_truth(emu, tmp_path)


@pytest.mark.parametrize(("attempts", "counted"), [("1", "1 attempt "), ("2", "2 attempts ")])
def test_failure_counts_attempts(
    emu: Emulator, tmp_path: Path, attempts: str, counted: str
) -> None:
    emu.add_fault(SEARCH, 503, times=None)
    failed = run_cli(args(emu, tmp_path, "--max-retries", attempts), env=env(emu))
    assert failed.exit_code == 1, failed.output
    assert "503 from " in failed.stderr, failed.stderr
    assert f"after {counted}(waits in seconds: " in failed.stderr, failed.stderr


def test_long_retry_after_fails_clearly(emu: Emulator, tmp_path: Path) -> None:
    emu.add_fault(SEARCH, 429, times=1, retry_after=3600)
    failed = run_cli(args(emu, tmp_path, "--max-retry-wait", "5"), env=env(emu))
    assert failed.exit_code == 1, failed.output
    assert "3600" in failed.stderr, failed.stderr
    assert run_cli(args(emu, tmp_path), env=env(emu)).exit_code == 0
    assert_matches_truth(emu, tmp_path)


def test_killed_runs_finished_by_next(emu: Emulator, tmp_path: Path) -> None:
    # Slow requests stretch extraction so the kills land in extract, normalize and load.
    emu.latency_ms = 15
    base = {k: v for k, v in os.environ.items() if not k.startswith(("JIRA_", "SOURCES__"))}
    base.update(env(emu), RUNTIME__DLTHUB_TELEMETRY="false", JIRA_MIN_RETRY_WAIT="0.05")
    command = [sys.executable, "-m", "pipelines.cli", *args(emu, tmp_path)]
    for delay in (0.8, 2.0, 3.2, 4.4, 5.6):
        emu.advance(20)
        emu.edit_issue(emu.truth()[int(delay * 5)]["id"], labels=[f"kill{int(delay * 10)}"])
        emu.create_issue("XYZ", summary=f"created before the kill at {delay}")
        process = subprocess.Popen(
            command, env=base, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        time.sleep(delay)
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait()
    emu.latency_ms = 0
    result = run_cli(args(emu, tmp_path), env=env(emu))
    assert result.exit_code == 0, result.output
    assert_matches_truth(emu, tmp_path)
