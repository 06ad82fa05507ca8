"""End to end through the CLI: the emulator over real HTTP, a real DuckDB file.

Expected values come from the emulator's own truth (`Emulator.truth()`), never from the loader.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from pipelines.emulator import Emulator
from tests.helpers import query, run_cli

# Just after the minute starts, so a test's edits stay in the cursor's minute; in Los Angeles
# this is one minute before the switch to daylight-saving time (2026-03-08 02:00 PST).
START = dt.datetime(2026, 3, 8, 9, 59, 2, tzinfo=dt.UTC)


def cloud_args(emu: Emulator, db: Path, pipelines_dir: Path, *extra: str) -> list[str]:
    return [
        "run",
        "--auth",
        "bearer",
        "--site-url",
        emu.site_url,
        "--gateway-url",
        emu.gateway_url,
        "--duckdb-path",
        str(db),
        "--pipelines-dir",
        str(pipelines_dir),
        *extra,
    ]


def cloud_env(emu: Emulator) -> dict[str, str]:
    return {"JIRA_TOKEN": emu.scoped_token}


def loaded_issues(db: Path) -> dict[int, tuple]:
    rows = query(db, "select id, key, updated_at, summary from issues")
    return {row[0]: row[1:] for row in rows}


def truth_issues(emu: Emulator) -> dict[int, tuple]:
    return {t["id"]: (t["key"], t["updated"], t["summary"]) for t in emu.truth()}


def loaded_labels(db: Path) -> set[tuple[int, str]]:
    return set(query(db, "select issue_id, label from issue_labels"))


def truth_labels(emu: Emulator) -> set[tuple[int, str]]:
    return {(t["id"], label) for t in emu.truth() for label in t["labels"]}


def stored_cursor(pipelines_dir: Path, name: str = "jira_jira") -> str | None:
    state = json.loads((pipelines_dir / name / "state.json").read_text())
    return state["sources"]["jira"].get("issues_cursor")


@pytest.fixture
def emu():
    with Emulator(issues=120, seed=11, time_zone="America/Los_Angeles", start=START) as server:
        yield server


def test_first_run_loads_every_issue(emu: Emulator, tmp_path: Path) -> None:
    db, pdir = tmp_path / "jira.duckdb", tmp_path / "pipelines"
    result = run_cli(cloud_args(emu, db, pdir), env=cloud_env(emu))
    assert result.exit_code == 0, result.output
    assert loaded_issues(db) == truth_issues(emu)
    assert loaded_labels(db) == truth_labels(emu)
    duplicates = query(db, "select id from issues group by id having count(*) > 1")
    assert duplicates == []
    newest = max(t["updated"] for t in emu.truth())
    assert dt.datetime.fromisoformat(stored_cursor(pdir).replace("Z", "+00:00")) == newest


def test_second_run_loads_exactly_the_changes(emu: Emulator, tmp_path: Path) -> None:
    db, pdir = tmp_path / "jira.duckdb", tmp_path / "pipelines"
    # An edit just before the first run puts the cursor at the emulator's clock.
    emu.edit_issue("ABC-3", summary="edited before the first run")
    first = run_cli(cloud_args(emu, db, pdir, "--lookback", "0"), env=cloud_env(emu))
    assert first.exit_code == 0, first.output
    cursor_before = stored_cursor(pdir)

    labelled = next(t for t in emu.truth() if len(t["labels"]) >= 2)
    emu.advance(1)
    emu.edit_issue(labelled["key"], labels=labelled["labels"][:1])
    emu.edit_issue("ABC-5", summary="edited in the cursor's minute")
    created = emu.create_issue("ABC", summary="created after the first run")
    changed_updates = [
        t["updated"] for t in emu.truth() if t["key"] in (labelled["key"], "ABC-5", created["key"])
    ]
    cursor_instant = dt.datetime.fromisoformat(cursor_before.replace("Z", "+00:00"))
    assert all(
        u.replace(second=0, microsecond=0) == cursor_instant.replace(second=0, microsecond=0)
        for u in changed_updates
    ), "edits left the cursor's minute"

    second = run_cli(cloud_args(emu, db, pdir, "--lookback", "0"), env=cloud_env(emu))
    assert second.exit_code == 0, second.output
    # Exactly the three changed issues, plus the issue the cursor sits on (>= bound).
    assert "issues read: 4 " in second.stdout, second.stdout
    assert loaded_issues(db) == truth_issues(emu)
    assert loaded_labels(db) == truth_labels(emu)
    removed = labelled["labels"][1]
    assert (labelled["id"], removed) not in loaded_labels(db)
    assert query(db, "select count(*) from issues")[0][0] == 121


def test_overlap_rereads_without_duplicates(emu: Emulator, tmp_path: Path) -> None:
    db, pdir = tmp_path / "jira.duckdb", tmp_path / "pipelines"
    assert run_cli(cloud_args(emu, db, pdir), env=cloud_env(emu)).exit_code == 0
    emu.edit_issue("XYZ-2", summary="second edit")
    emu.edit_issue("ABC-2", labels=[])
    result = run_cli(cloud_args(emu, db, pdir, "--lookback", "60"), env=cloud_env(emu))
    assert result.exit_code == 0, result.output
    assert loaded_issues(db) == truth_issues(emu)
    assert loaded_labels(db) == truth_labels(emu)
    assert query(db, "select count(*) - count(distinct id) from issues") == [(0,)]
    per_issue = query(
        db,
        "select count(*) from (select issue_id, label from issue_labels "
        "group by all having count(*) > 1)",
    )
    assert per_issue == [(0,)]


def test_profile_zone_change_between_runs_loses_nothing(emu: Emulator, tmp_path: Path) -> None:
    db, pdir = tmp_path / "jira.duckdb", tmp_path / "pipelines"
    assert run_cli(cloud_args(emu, db, pdir, "--lookback", "0"), env=cloud_env(emu)).exit_code == 0
    emu.set_time_zone("Asia/Kolkata")
    emu.advance(2)
    emu.edit_issue("ABC-7", summary="edited after a zone change")
    result = run_cli(cloud_args(emu, db, pdir, "--lookback", "0"), env=cloud_env(emu))
    assert result.exit_code == 0, result.output
    assert loaded_issues(db) == truth_issues(emu)


def test_user_jql_filters_and_combines(emu: Emulator, tmp_path: Path) -> None:
    db, pdir = tmp_path / "jira.duckdb", tmp_path / "pipelines"
    result = run_cli(
        cloud_args(emu, db, pdir, "--jql", "project = XYZ OR project = XYZ"), env=cloud_env(emu)
    )
    assert result.exit_code == 0, result.output
    expected = {i: v for i, v in truth_issues(emu).items() if v[0].startswith("XYZ-")}
    assert expected
    assert loaded_issues(db) == expected


def test_jql_matching_nothing_succeeds_and_says_so(emu: Emulator, tmp_path: Path) -> None:
    db, pdir = tmp_path / "jira.duckdb", tmp_path / "pipelines"
    result = run_cli(cloud_args(emu, db, pdir, "--jql", 'summary ~ "qqqzzz"'), env=cloud_env(emu))
    assert result.exit_code == 0, result.output
    assert "issues read: 0" in result.stdout
    assert "No issue matched" in result.stdout


def test_summary_counts_new_and_updated(emu: Emulator, tmp_path: Path) -> None:
    db, pdir = tmp_path / "jira.duckdb", tmp_path / "pipelines"
    first = run_cli(cloud_args(emu, db, pdir, "--lookback", "0"), env=cloud_env(emu))
    assert first.exit_code == 0, first.output
    assert "issues new: 120, updated: 0" in first.stdout
    emu.advance(1)
    emu.edit_issue("ABC-2", summary="changed")
    emu.create_issue("XYZ", summary="brand new")
    second = run_cli(cloud_args(emu, db, pdir, "--lookback", "0"), env=cloud_env(emu))
    assert second.exit_code == 0, second.output
    # The edited issue and the issue at the cursor were stored before; one issue is new.
    assert "issues new: 1, updated: 2" in second.stdout
    # A full refresh drops the tables with its load, so every issue it reads is new.
    third = run_cli(cloud_args(emu, db, pdir, "--full-refresh"), env=cloud_env(emu))
    assert third.exit_code == 0, third.output
    assert "issues new: 121, updated: 0" in third.stdout
