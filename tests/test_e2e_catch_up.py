"""Issues that match the filter with an `updated` before the cursor are read by id.

The window search returns issues updated since the cursor. An issue that only starts to match
later without being edited, such as one in a project the account may browse only now, is
listed by the delete sweep, and the next run reads it by id.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pipelines.emulator import Emulator
from tests.helpers import emulator_run_args, query, run_cli

START = dt.datetime(2026, 10, 5, 6, 0, 1, tzinfo=dt.UTC)


def load_before_project_visible(
    emu: Emulator, tmp_path: Path
) -> tuple[list[str], dict[str, str], set[int]]:
    """Load while one project is hidden from the account, then show it again.

    Returns the run's arguments, its environment and the ids of that project's issues.
    """
    hidden = sorted({issue["project_key"] for issue in emu.truth()})[0]
    emu.revoke_project(hidden)
    args = emulator_run_args(emu, tmp_path / "jira.duckdb", tmp_path / "p")
    env = {"JIRA_TOKEN": emu.scoped_token}
    assert run_cli(args, env=env).exit_code == 0
    emu.restore_project(hidden)
    return args, env, {issue["id"] for issue in emu.truth() if issue["project_key"] == hidden}


def stored_issues(db: Path) -> dict[int, tuple[str, str]]:
    return {row[0]: (row[1], row[2]) for row in query(db, "select id, key, summary from issues")}


def test_project_visible_later_is_loaded_next_run(tmp_path: Path) -> None:
    db = tmp_path / "jira.duckdb"
    with Emulator(issues=60, seed=3, start=START) as emu:
        args, env, late = load_before_project_visible(emu, tmp_path)
        emu.advance(600)
        truth = {issue["id"]: (issue["key"], issue["summary"]) for issue in emu.truth()}
        labels = sorted((issue["id"], label) for issue in emu.truth() for label in issue["labels"])

        found = run_cli(args, env=env)
        assert found.exit_code == 0, found.output
        assert f"issues the filter matches that the tables lack: {len(late)}," in found.stdout
        assert not late & set(stored_issues(db))

        caught = run_cli(args, env=env)
        assert caught.exit_code == 0, caught.output
        assert f"of which read by id: {len(late)} that the last sweep listed" in caught.stdout
        assert "that the tables lack:" not in caught.stdout

        again = run_cli(args, env=env)
        assert again.exit_code == 0, again.output
        assert "read by id" not in again.stdout
    assert stored_issues(db) == truth
    assert sorted(query(db, "select issue_id, label from issue_labels")) == labels


def test_start_date_bounds_sweep_and_catch_up(tmp_path: Path) -> None:
    db = tmp_path / "jira.duckdb"
    with Emulator(issues=60, seed=3, start=START) as emu:
        updated = sorted(issue["updated"] for issue in emu.truth())
        start = updated[len(updated) // 2]
        after_start = {issue["id"] for issue in emu.truth() if issue["updated"] >= start}
        args = emulator_run_args(emu, db, tmp_path / "p")
        env = {"JIRA_TOKEN": emu.scoped_token}
        first = run_cli([*args, "--start-date", start.isoformat()], env=env)
        assert first.exit_code == 0, first.output
        emu.advance(600)
        # Later runs leave the start date out, as its help advises.
        for _ in range(2):
            later = run_cli(args, env=env)
            assert later.exit_code == 0, later.output
            assert "that the tables lack:" not in later.stdout
            assert "read by id" not in later.stdout
    assert set(stored_issues(db)) == after_start


def test_run_without_sweep_reads_stored_ids_once(tmp_path: Path) -> None:
    db = tmp_path / "jira.duckdb"
    with Emulator(issues=40, seed=5, start=START) as emu:
        args, env, late = load_before_project_visible(emu, tmp_path)
        found = run_cli(args, env=env)
        assert found.exit_code == 0, found.output
        # The window's lookback may read a few of them.
        missing = late - set(stored_issues(db))
        assert missing
        assert f"that the tables lack: {len(missing)}," in found.stdout

        skipping = [*args, "--skip-delete-sweep"]
        caught = run_cli(skipping, env=env)
        assert caught.exit_code == 0, caught.output
        assert f"of which read by id: {len(missing)} " in caught.stdout
        # Without a sweep, nothing new is known, so the next run reads no issue by id.
        again = run_cli(skipping, env=env)
        assert again.exit_code == 0, again.output
        assert "read by id" not in again.stdout
        truth = {issue["id"] for issue in emu.truth()}
    assert set(stored_issues(db)) == truth


@pytest.mark.parametrize(
    ("first_start", "later_start"),
    [(10, 40), (None, 30)],
    ids=["later_start_date", "added_start_date"],
)
def test_start_date_marks_none_deleted(
    tmp_path: Path, first_start: int | None, later_start: int
) -> None:
    db = tmp_path / "jira.duckdb"
    with Emulator(issues=60, seed=3, start=START) as emu:
        updated = sorted(issue["updated"] for issue in emu.truth())
        args = emulator_run_args(emu, db, tmp_path / "p")
        env = {"JIRA_TOKEN": emu.scoped_token}
        first_args = list(args)
        if first_start is not None:
            first_args += ["--start-date", updated[first_start].isoformat()]
        first = run_cli(first_args, env=env)
        assert first.exit_code == 0, first.output
        emu.advance(600)
        # The sweep of this run lists only issues updated since the later date.
        later = run_cli([*args, "--start-date", updated[later_start].isoformat()], env=env)
        assert later.exit_code == 0, later.output
        assert "deleted issues: 0 marked" in later.stdout
        earliest = updated[first_start] if first_start is not None else updated[0]
        loaded = {issue["id"] for issue in emu.truth() if issue["updated"] >= earliest}
    assert query(db, "select count(*) from issues where is_deleted") == [(0,)]
    assert set(stored_issues(db)) == loaded


def test_issue_edited_while_project_hidden_is_read_again(tmp_path: Path) -> None:
    db = tmp_path / "jira.duckdb"
    with Emulator(issues=40, seed=5, start=START) as emu:
        args = emulator_run_args(emu, db, tmp_path / "p")
        env = {"JIRA_TOKEN": emu.scoped_token}
        assert run_cli(args, env=env).exit_code == 0
        hidden = sorted({issue["project_key"] for issue in emu.truth()})[0]
        edited = next(issue for issue in emu.truth() if issue["project_key"] == hidden)
        emu.revoke_project(hidden)
        emu.edit_issue(edited["id"], summary="Edited while the project was hidden")
        emu.advance(1800)
        # An edit elsewhere moves the cursor past the hidden edit.
        visible = next(issue for issue in emu.truth() if issue["project_key"] != hidden)
        emu.edit_issue(visible["id"], summary="Edited later in a visible project")
        # The run while hidden keeps the project's issues as they are.
        assert run_cli(args, env=env).exit_code == 0
        emu.restore_project(hidden)
        for _ in range(2):
            result = run_cli(args, env=env)
            assert result.exit_code == 0, result.output
        truth = {issue["id"]: (issue["key"], issue["summary"]) for issue in emu.truth()}
    assert truth[edited["id"]][1] == "Edited while the project was hidden"
    assert stored_issues(db) == truth
