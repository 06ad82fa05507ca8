"""Values removed in Jira disappear from the child tables after the next run; others stay."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pipelines.emulator import Emulator
from tests.helpers import query, run_cli

START = dt.datetime(2026, 9, 1, 7, 0, 1, tzinfo=dt.UTC)
PLATFORMS = "customfield_10041"


def test_removed_component_and_option_disappear(tmp_path: Path) -> None:
    db = tmp_path / "jira.duckdb"
    with Emulator(issues=40, seed=12, start=START) as emu:
        args = [
            "run",
            "--site-url",
            emu.site_url,
            "--gateway-url",
            emu.gateway_url,
            "--duckdb-path",
            str(db),
            "--pipelines-dir",
            str(tmp_path / "p"),
            "--skip-tables",
            "issue_changelog,issue_comments,worklogs",
        ]
        env = {"JIRA_TOKEN": emu.scoped_token}
        assert run_cli(args, env=env).exit_code == 0
        target = next(t for t in emu.truth() if len(t["components"]) >= 2)
        issue_id = target["id"]
        platforms_before = query(
            db,
            "select value from issue_field_values where issue_id = "
            f"{issue_id} and field_id = '{PLATFORMS}' order by value",
        )
        untouched = next(t for t in emu.truth() if t["id"] != issue_id and t["labels"])
        untouched_rows = query(
            db, f"select label from issue_labels where issue_id = {untouched['id']} order by label"
        )
        emu.advance(1)
        emu.edit_issue(target["key"], components=["API"], **{PLATFORMS: [10311]})
        result = run_cli(args, env=env)
        assert result.exit_code == 0, result.output
    components = query(
        db, f"select component_name from issue_components where issue_id = {issue_id}"
    )
    assert components == [("API",)]
    platforms = query(
        db,
        "select value_id, value from issue_field_values where issue_id = "
        f"{issue_id} and field_id = '{PLATFORMS}'",
    )
    assert platforms == [("10311", "macOS")]
    assert platforms_before != [("macOS",)]
    assert (
        query(
            db, f"select label from issue_labels where issue_id = {untouched['id']} order by label"
        )
        == untouched_rows
    )
    assert untouched_rows == sorted((label,) for label in untouched["labels"])
