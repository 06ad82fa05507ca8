""".env lines whose name is not a setting: the message names the line without its value."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import run_cli

SECRET = "ATATT3xFfGF0-pasted-Zq8sKd93LmNpQrSt"


def status_with_env(tmp_path: Path, line: str):  # type: ignore[no-untyped-def]
    (tmp_path / ".env").write_text(line + "\n")
    args = ["status", "--duckdb-path", str(tmp_path / "jira.duckdb")]
    return run_cli([*args, "--pipelines-dir", str(tmp_path / "p")], cwd=tmp_path)


@pytest.mark.parametrize("separator", [":", "-", " "])
def test_wrong_separator_hides_value(tmp_path: Path, separator: str) -> None:
    result = status_with_env(tmp_path, f"JIRA_TOKEN{separator}{SECRET}")
    assert result.exit_code == 2, result.stderr
    assert "Invalid line 1 in `.env` starting with `JIRA_TOKEN`:" in result.stderr
    assert SECRET[:12] not in result.output
    assert SECRET[-12:] not in result.output


def test_missing_equals_sign_hides_value(tmp_path: Path) -> None:
    result = status_with_env(tmp_path, f"JIRA_TOKEN{SECRET.replace('-', '_')}")
    assert result.exit_code == 2, result.stderr
    assert "is the `=` after JIRA_TOKEN missing?" in result.stderr
    assert SECRET[:12] not in result.output
    assert SECRET[-12:] not in result.output


def test_short_suffix_is_a_misspelling(tmp_path: Path) -> None:
    result = status_with_env(tmp_path, "JIRA_JQLS=project = ABC")
    assert result.exit_code == 2, result.stderr
    assert "Unknown setting JIRA_JQLS on line 1" in result.stderr
    assert "Did you mean JIRA_JQL?" in result.stderr


def test_lower_case_name_is_rejected(tmp_path: Path) -> None:
    result = status_with_env(tmp_path, "jira_dataset=other")
    assert result.exit_code == 2, result.stderr
    assert "Unknown setting jira_dataset on line 1" in result.stderr
    assert "Did you mean JIRA_DATASET?" in result.stderr


def test_help_shown_despite_unknown_name(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("JIRA_DATSET=other\n")
    result = run_cli(["run", "--help"], cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert "JIRA_DATASET" in result.stdout
    assert "Unknown setting" not in result.output
