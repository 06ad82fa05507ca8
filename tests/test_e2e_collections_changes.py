"""Collections follow Jira through the CLI: deleted comments and worklogs disappear, moves keep ids."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pipelines.emulator import Emulator
from tests.helpers import emulator_run_args, query, run_cli

START = dt.datetime(2026, 7, 1, 9, 0, 1, tzinfo=dt.UTC)


def args(emu: Emulator, tmp_path: Path) -> list[str]:
    return [
        "run",
        "--site-url",
        emu.site_url,
        "--gateway-url",
        emu.gateway_url,
        "--duckdb-path",
        str(tmp_path / "jira.duckdb"),
        "--pipelines-dir",
        str(tmp_path / "p"),
        "--lookback",
        "0",
    ]


@pytest.fixture
def emu():
    with Emulator(issues=25, seed=9, start=START) as server:
        yield server


def run_ok(emu: Emulator, tmp_path: Path) -> None:
    result = run_cli(args(emu, tmp_path), env={"JIRA_TOKEN": emu.scoped_token})
    assert result.exit_code == 0, result.output


def test_deleted_comment_and_worklog_disappear(emu: Emulator, tmp_path: Path) -> None:
    db = tmp_path / "jira.duckdb"
    run_ok(emu, tmp_path)
    comments = emu.comments_of("ABC-1")
    worklogs = emu.worklogs_of("ABC-1")
    assert len(comments) == 45
    assert len(worklogs) == 32
    gone_comment, gone_worklog = comments[0]["id"], worklogs[-1]["id"]
    emu.advance(1)
    emu.delete_comment(gone_comment)
    emu.delete_worklog(gone_worklog)
    added = emu.add_comment("ABC-1", "a comment written after the first run")
    run_ok(emu, tmp_path)
    issue_id = next(t["id"] for t in emu.truth() if t["key"] == "ABC-1")
    stored_comments = {
        r[0] for r in query(db, f"select id from issue_comments where issue_id = {issue_id}")
    }
    stored_worklogs = {
        r[0] for r in query(db, f"select id from worklogs where issue_id = {issue_id}")
    }
    assert stored_comments == {int(c["id"]) for c in emu.comments_of("ABC-1")}
    assert int(gone_comment) not in stored_comments
    assert int(added["id"]) in stored_comments
    assert stored_worklogs == {int(w["id"]) for w in emu.worklogs_of("ABC-1")}
    assert int(gone_worklog) not in stored_worklogs
    text = query(db, f"select body_text from issue_comments where id = {int(added['id'])}")
    assert text == [("a comment written after the first run",)]


def test_moved_issue_keeps_one_row_and_its_history(emu: Emulator, tmp_path: Path) -> None:
    db = tmp_path / "jira.duckdb"
    run_ok(emu, tmp_path)
    issue_id = next(t["id"] for t in emu.truth() if t["key"] == "ABC-2")
    histories_before = query(
        db, f"select count(*) from issue_changelog where issue_id = {issue_id}"
    )[0][0]
    emu.advance(1)
    moved = emu.move_issue("ABC-2", "XYZ")
    run_ok(emu, tmp_path)
    rows = query(db, f"select key, project_key from issues where id = {issue_id}")
    assert rows == [(moved["key"], "XYZ")]
    assert query(db, "select count(*) from issues where key = 'ABC-2'") == [(0,)]
    keys = query(
        db,
        f"select from_string, to_string from issue_changelog "
        f"where issue_id = {issue_id} and field = 'Key'",
    )
    assert ("ABC-2", moved["key"]) in keys
    after = query(db, f"select count(*) from issue_changelog where issue_id = {issue_id}")[0][0]
    move_items = emu.store.histories(emu.store.get(moved["key"]))[-1]["items"]
    assert [item["field"] for item in move_items] == ["Key", "project"]
    # One row per changed item: the move adds its Key and project items.
    assert after == histories_before + len(move_items)


def test_issue_read_twice_in_a_run_is_not_doubled(tmp_path: Path) -> None:
    db = tmp_path / "jira.duckdb"
    with Emulator(issues=40, seed=17, start=START) as emu:
        emu.script.edit_between_pages(2)
        result = run_cli(
            [*args(emu, tmp_path), "--strategy", "sequential", "--page-size", "7"],
            env={"JIRA_TOKEN": emu.scoped_token},
        )
        assert result.exit_code == 0, result.output
        edited = set(emu.script.edited)
        assert edited, "the emulator edited nothing between pages"
        comments = {(c["id"]) for t in emu.truth() for c in emu.comments_of(t["id"])}
    assert query(db, "select count(*) - count(distinct id) from issue_comments") == [(0,)]
    assert query(db, "select count(*) from issue_comments where id > 0") == [(len(comments),)]
    duplicates = query(
        db,
        "select count(*) from (select history_id, item_position from issue_changelog "
        "group by all having count(*) > 1)",
    )
    assert duplicates == [(0,)]
    doubled_labels = query(
        db,
        "select count(*) from (select issue_id, label from issue_labels group by all "
        "having count(*) > 1)",
    )
    assert doubled_labels == [(0,)]


def test_deleted_issues_cost_no_worklog_reads(tmp_path: Path) -> None:
    """The worklog feed's start never moves back, and deleted issues' worklogs are not read."""
    with Emulator(issues=25, seed=9) as emu:
        # The default lookback, as a scheduled run has.
        command = emulator_run_args(emu, tmp_path / "jira.duckdb", tmp_path / "p")
        env = {"JIRA_TOKEN": emu.scoped_token}
        assert run_cli(command, env=env).exit_code == 0
        deleted = [t["id"] for t in emu.truth() if emu.worklogs_of(t["key"])][:3]
        assert len(deleted) == 3
        emu.advance(60)
        for issue_id in deleted:
            emu.delete_issue(issue_id)
        starts = []
        for run in range(3):
            emu.advance(120)
            emu.requests.clear()
            assert run_cli(command, env=env).exit_code == 0
            feed = [r for r in emu.requests if r["path"].endswith("/worklog/deleted")]
            starts.append(int(feed[0]["query"].removeprefix("since=")))
            reads = [r["path"] for r in emu.requests if r["path"].endswith("/worklog")]
            deleted_reads = [p for p in reads if any(f"/issue/{i}/" in p for i in deleted)]
            # The first run after the deletes reads them once; its sweep marks them deleted.
            assert len(deleted_reads) == (3 if run == 0 else 0), deleted_reads
        marked = query(tmp_path / "jira.duckdb", "select id from issues where is_deleted")
        assert sorted(row[0] for row in marked) == sorted(deleted)
        assert starts == sorted(starts)


def test_moved_epic_references_take_new_key(tmp_path: Path) -> None:
    db = tmp_path / "jira.duckdb"
    with Emulator(issues=120, seed=9, start=START) as emu:
        run_ok(emu, tmp_path)
        truth = {t["id"]: t for t in emu.truth()}
        # An epic with children that are not sub-tasks, and an issue linked to it.
        epic_id = next(
            t["parent_id"]
            for t in truth.values()
            if t["parent_id"]
            and t["issue_type"] != "Sub-task"
            and emu.store.links.get(t["parent_id"])
        )
        children = {i for i, t in truth.items() if t["parent_id"] == epic_id}
        linked = {other for _, _, other in emu.store.links[epic_id]}
        emu.advance(1)
        moved = emu.move_issue(epic_id, "XYZ")
        run_ok(emu, tmp_path)
        after = {t["id"]: t for t in emu.truth()}
    # Neither the children nor the linked issues were edited, so no run reads them again.
    for issue_id in children | linked:
        assert after[issue_id]["updated"] == truth[issue_id]["updated"]
    assert {after[i]["parent_key"] for i in children} == {moved["key"]}
    stored = dict(query(db, "select id, parent_key from issues"))
    assert stored == {i: t["parent_key"] for i, t in after.items()}
    links = query(
        db,
        f"select distinct linked_issue_key from issue_links where linked_issue_id = {epic_id}",
    )
    assert links == [(moved["key"],)]
    linking = {
        r[0]
        for r in query(db, f"select issue_id from issue_links where linked_issue_id = {epic_id}")
    }
    assert linking == linked


def test_parent_left_filter_keeps_jira_key(tmp_path: Path) -> None:
    db = tmp_path / "jira.duckdb"
    with Emulator(issues=120, seed=9, start=START) as emu:
        command = [*args(emu, tmp_path), "--jql", "project = ABC"]
        env = {"JIRA_TOKEN": emu.scoped_token}
        assert run_cli(command, env=env).exit_code == 0
        truth = {t["id"]: t for t in emu.truth()}
        child = next(
            t
            for t in truth.values()
            if t["project_key"] == "ABC"
            and t["issue_type"] != "Sub-task"
            and t["parent_id"]
            and truth[t["parent_id"]]["project_key"] == "ABC"
        )
        epic = truth[child["parent_id"]]
        emu.advance(1)
        moved = emu.move_issue(epic["id"], "XYZ")
        emu.edit_issue(child["key"], summary="edited after its epic moved")
        second = run_cli(command, env=env)
        assert second.exit_code == 0, second.output
    # The epic left the filter, so its row is marked deleted under its old key. The child,
    # read again, carries the key Jira gives now.
    assert query(db, f"select key, is_deleted from issues where id = {epic['id']}") == [
        (epic["key"], True)
    ]
    assert query(db, f"select parent_key from issues where id = {child['id']}") == [(moved["key"],)]
