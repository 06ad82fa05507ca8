"""`--log-format json`: every stderr line of a run is one JSON object, and the token never shows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pipelines.emulator import Emulator
from tests.helpers import CliResult, emulator_run_args, run_cli

LOG_KEYS = {"time", "level", "logger", "message"}


@pytest.fixture
def emu():
    with Emulator(issues=15, seed=9) as server:
        yield server


def json_run(
    emu: Emulator, folder: Path, *extra: str, token: str | None = None, level: str = "INFO"
) -> CliResult:
    folder.mkdir(parents=True, exist_ok=True)
    return run_cli(
        [
            "--log-format",
            "json",
            "--log-level",
            level,
            "run",
            "--site-url",
            emu.site_url,
            "--gateway-url",
            emu.gateway_url,
            "--duckdb-path",
            str(folder / "jira.duckdb"),
            "--pipelines-dir",
            str(folder / "pipelines"),
            *extra,
        ],
        env={"JIRA_TOKEN": token or emu.scoped_token},
    )


def parse_lines(stderr: str) -> list[dict[str, Any]]:
    """Parse each stderr line as JSON; fail on the first line that is not a log object."""
    entries = []
    for line in stderr.splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            pytest.fail(f"stderr line is not JSON: {line!r}")
        assert isinstance(entry, dict), line
        assert entry.keys() >= LOG_KEYS, line
        entries.append(entry)
    return entries


def test_successful_run_logs_only_json(emu, tmp_path) -> None:
    result = json_run(emu, tmp_path)

    assert result.exit_code == 0, result.output
    entries = parse_lines(result.stderr)
    assert entries
    assert {entry["level"] for entry in entries} <= {"debug", "info", "warning", "error"}
    assert any(entry["logger"] == "jira_etl.sweep" for entry in entries)
    # The summary stays human-readable on stdout.
    assert "issues read: 15" in result.stdout


def test_time_is_utc_iso8601(emu, tmp_path) -> None:
    result = json_run(emu, tmp_path)

    assert result.exit_code == 0, result.output
    for entry in parse_lines(result.stderr):
        assert entry["time"].endswith("+00:00"), entry


def test_failed_run_logs_json_error(emu, tmp_path) -> None:
    emu.add_fault(r"search/jql", 500, times=10)

    result = json_run(emu, tmp_path, "--max-retries", "2")

    assert result.exit_code == 1, result.output
    entries = parse_lines(result.stderr)
    errors = [entry for entry in entries if entry["level"] == "error"]
    assert errors, result.stderr
    assert any("500" in entry["message"] for entry in errors), errors


def test_token_never_logged(emu, tmp_path) -> None:
    rejected_token = "ATATT3xFfGF0-rejected-0123456789abcdef"
    ok = json_run(emu, tmp_path / "ok", level="DEBUG")
    rejected = json_run(emu, tmp_path / "rejected", token=rejected_token, level="DEBUG")
    emu.add_fault(r"search/jql", 500, times=10)
    failed = json_run(emu, tmp_path / "failed", "--max-retries", "2", level="DEBUG")

    assert ok.exit_code == 0, ok.output
    assert rejected.exit_code != 0, rejected.output
    assert failed.exit_code == 1, failed.output
    for result in (ok, failed):
        assert emu.scoped_token not in result.output
    assert rejected_token not in rejected.output


def test_debug_run_logs_dlt_lines_as_json(emu, tmp_path) -> None:
    result = json_run(emu, tmp_path, level="DEBUG")

    assert result.exit_code == 0, result.output
    entries = parse_lines(result.stderr)
    # At debug level dlt logs its own steps, through the same JSON lines.
    assert any(entry["logger"].startswith("dlt") for entry in entries)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--lookback", "abc"], "`abc` is not a number of minutes"),
        (["--no-such-option"], "No such option '--no-such-option'."),
    ],
    ids=["invalid value", "unknown option"],
)
def test_usage_error_logs_json(emu, tmp_path, extra: list[str], expected: str) -> None:
    result = json_run(emu, tmp_path, *extra)

    assert result.exit_code == 2, result.output
    entries = parse_lines(result.stderr)
    assert len(entries) == 1, entries
    assert entries[0]["event"] == "run_failed"
    assert entries[0]["exit_status"] == 2
    assert expected in entries[0]["message"]
    assert "See `jira-etl run --help`." in entries[0]["message"]
    assert emu.requests == []


def test_env_file_sets_log_format(emu, tmp_path) -> None:
    (tmp_path / ".env").write_text(f"JIRA_LOG_FORMAT=json\nJIRA_TOKEN={emu.scoped_token}\n")
    args = emulator_run_args(emu, tmp_path / "jira.duckdb", tmp_path / "pipelines")
    result = run_cli(args, cwd=tmp_path)

    assert result.exit_code == 0, result.output
    entries = parse_lines(result.stderr)
    assert entries[-1]["event"] == "run_finished"
    assert emu.scoped_token not in result.stderr


def test_invalid_env_file_logs_json(emu, tmp_path) -> None:
    env_file = tmp_path / "settings.env"
    env_file.write_text("JIRA_TOKENN=misspelled\n")
    result = run_cli(
        ["--log-format", "json", "--env-file", str(env_file), "run"],
        env={"JIRA_TOKEN": emu.scoped_token},
    )

    assert result.exit_code == 2, result.output
    entries = parse_lines(result.stderr)
    assert len(entries) == 1, entries
    assert entries[0]["event"] == "run_failed"
    assert entries[0]["exit_status"] == 2
    assert "JIRA_TOKENN" in entries[0]["message"]
    assert emu.requests == []
