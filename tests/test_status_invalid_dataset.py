"""`jira-etl status` reports an invalid setting as a usage error, like `run`."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import run_cli


def test_status_with_invalid_dataset_exits_2(tmp_path: Path) -> None:
    args = ["status", "--dataset", "1", "--duckdb-path", str(tmp_path / "jira.duckdb")]
    result = run_cli([*args, "--pipelines-dir", str(tmp_path / "p")], cwd=tmp_path)
    assert result.exit_code == 2, result.stderr
    assert "Error: Invalid --dataset `1`" in result.stderr
    assert "Traceback" not in result.stderr
