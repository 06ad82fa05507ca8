"""Invalid option values get a message that names the unit, not click's generic one."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import run_cli


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("5m", "`5m` is not a number of minutes; write 5 for five minutes."),
        ("-1", "`-1` is not a number of minutes from 0 to 5,256,000 (ten years)."),
        ("inf", "`inf` is not a number of minutes from 0 to 5,256,000 (ten years)."),
    ],
)
def test_invalid_lookback_is_explained(tmp_path: Path, value: str, problem: str) -> None:
    args = ["run", "--lookback", value, "--duckdb-path", str(tmp_path / "jira.duckdb")]
    result = run_cli(args, cwd=tmp_path)
    assert result.exit_code == 2, result.output
    assert problem in result.stderr
