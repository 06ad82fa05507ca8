"""Deleted issues: the sweep after each run marks loaded issues that left the filter.

Expected values come from the emulator's truth and from the ids the test deletes itself.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pipelines.emulator import Emulator
from tests.helpers import query, run_cli

START = dt.datetime(2026, 5, 4, 12, 0, 2, tzinfo=dt.UTC)


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
        "sprints",
        *extra,
    ]


def load(emu: Emulator, tmp_path: Path, *extra: str) -> str:
    result = run_cli(args(emu, tmp_path, *extra), env={"JIRA_TOKEN": emu.scoped_token})
    assert result.exit_code == 0, result.output
    return result.output


def deleted_ids(tmp_path: Path) -> set[int]:
    rows = query(tmp_path / "jira.duckdb", "select id from issues where is_deleted")
    return {row[0] for row in rows}


def live_ids(tmp_path: Path) -> set[int]:
    rows = query(tmp_path / "jira.duckdb", "select id from issues where not is_deleted")
    return {row[0] for row in rows}


@pytest.fixture
def emu():
    with Emulator(issues=40, seed=5, start=START) as server:
        yield server


def test_deleted_issue_is_marked(emu: Emulator, tmp_path: Path) -> None:
    load(emu, tmp_path)
    before = {t["id"] for t in emu.truth()}
    gone = emu.truth()[3]
    emu.delete_issue(gone["id"])
    # Jira deletes an issue's sub-tasks with it.
    removed = before - {t["id"] for t in emu.truth()}
    assert gone["id"] in removed
    emu.advance(60)
    output = load(emu, tmp_path)
    assert deleted_ids(tmp_path) == removed
    assert live_ids(tmp_path) == {t["id"] for t in emu.truth()}
    deleted_at = query(
        tmp_path / "jira.duckdb", f"select deleted_at from issues where id = {gone['id']}"
    )
    assert deleted_at[0][0] is not None
    assert f"deleted issues: {len(removed)} marked, 0 present again" in output
    assert "not checked" not in output


def test_skip_delete_sweep_marks_nothing(emu: Emulator, tmp_path: Path) -> None:
    load(emu, tmp_path)
    emu.delete_issue(emu.truth()[0]["id"])
    first_requests = len(emu.requests)
    output = load(emu, tmp_path, "--skip-delete-sweep")
    assert deleted_ids(tmp_path) == set()
    assert "deleted issues: not checked (--skip-delete-sweep)" in output
    later = emu.requests[first_requests:]
    searches = [r for r in later if r["path"].endswith("/search/jql")]
    assert searches
    assert not any("ORDER BY id ASC" in r["body"] for r in searches)


def test_moved_out_issue_marked_then_unmarked(emu: Emulator, tmp_path: Path) -> None:
    in_abc = [t for t in emu.truth() if t["key"].startswith("ABC-")]
    load(emu, tmp_path, "--jql", "project = ABC")
    moved = emu.move_issue(in_abc[0]["id"], "XYZ")
    emu.advance(60)
    load(emu, tmp_path, "--jql", "project = ABC")
    assert deleted_ids(tmp_path) == {moved["id"]}
    emu.advance(60)
    emu.move_issue(moved["id"], "ABC")
    emu.advance(60)
    load(emu, tmp_path, "--jql", "project = ABC")
    assert deleted_ids(tmp_path) == set()
    rows = query(
        tmp_path / "jira.duckdb", f"select deleted_at from issues where id = {moved['id']}"
    )
    assert rows == [(None,)]


def test_revoked_project_is_not_deleted(emu: Emulator, tmp_path: Path) -> None:
    load(emu, tmp_path)
    before = live_ids(tmp_path)
    emu.revoke_project("XYZ")
    emu.advance(60)
    output = load(emu, tmp_path)
    assert deleted_ids(tmp_path) == set()
    assert live_ids(tmp_path) == before
    assert "no longer visible" in output


def test_sweep_that_fails_marks_nothing(emu: Emulator, tmp_path: Path) -> None:
    load(emu, tmp_path)
    emu.delete_issue(emu.truth()[1]["id"])
    # The project list the sweep reads first keeps failing until every retry is used up.
    emu.add_fault(r"/project/search$", 503, times=None)
    output = load(emu, tmp_path, "--max-retries", "2")
    assert deleted_ids(tmp_path) == set()
    assert "delete sweep could not complete" in output
    assert "deleted issues: not checked in this run (the sweep failed: " in output
    assert "/project/search" in output
    assert "deleted issues: 0 marked" not in output


def test_keyset_sweep_survives_deletes(emu: Emulator, tmp_path: Path) -> None:
    """Keyset paging lists each live issue even when earlier ids vanish between requests."""
    load(emu, tmp_path)
    ids = [t["id"] for t in emu.truth()]
    emu.advance(60)
    # Search pages of at most 5 ids: the emulator caps id-only pages at the size asked for.
    from pipelines.client.factory import open_jira_client
    from pipelines.client.search import IssueSearch
    from pipelines.client.transport import RetryPolicy
    from pipelines.sweep import list_issue_ids

    settings = {
        "auth": "bearer",
        "token": emu.scoped_token,
        "site_url": emu.site_url,
        "gateway_url": emu.gateway_url,
        "retry": RetryPolicy(max_attempts=1),
    }
    client = open_jira_client(settings)
    search = IssueSearch(client)
    real_ids = search.ids
    calls = 0

    def small_pages(jql: str, *, page_size: int = 5000):  # noqa: ANN202
        nonlocal calls
        calls += 1
        if calls == 2:
            emu.delete_issue(ids[0])
            emu.delete_issue(ids[1])
        return real_ids(jql, page_size=5)

    search.ids = small_pages  # type: ignore[method-assign]
    try:
        listed = list_issue_ids(search, None)
    finally:
        client.close()
    # The two ids were listed before they were deleted; every live issue is listed too.
    assert listed.tolist() == sorted(ids)
    assert calls >= 40 // 5


def test_cloud_sweep_pages_carry_ids_only(emu: Emulator) -> None:
    from pipelines.client.factory import open_jira_client
    from pipelines.client.search import IssueSearch

    settings = {
        "auth": "bearer",
        "token": emu.scoped_token,
        "site_url": emu.site_url,
        "gateway_url": emu.gateway_url,
    }
    client = open_jira_client(settings)
    try:
        pages = list(IssueSearch(client).ids("project = ABC ORDER BY id ASC", page_size=5000))
    finally:
        client.close()
    issues = [issue for page in pages for issue in page]
    # The emulator's ABC issues, listed by the emulator itself, are the expected ids.
    expected = sorted(r.id for r in emu.store.records.values() if r.key.startswith("ABC-"))
    assert [int(issue["id"]) for issue in issues] == expected
    assert all(issue.keys() == {"id"} for issue in issues)


def test_sweep_marks_and_unmarks_on_postgres(emu: Emulator, tmp_path: Path) -> None:
    import uuid

    import psycopg2

    dsn = "postgresql://postgres:trust-auth-ignores-this@127.0.0.1:5432/test"
    schema = f"jira_sweep_{uuid.uuid4().hex[:10]}"
    extra = ("--destination", "postgres", "--dataset", schema)
    env = {"JIRA_TOKEN": emu.scoped_token, "DESTINATION__POSTGRES__CREDENTIALS": dsn}

    def pg_load(*more: str) -> None:
        result = run_cli(args(emu, tmp_path, *extra, *more), env=env)
        assert result.exit_code == 0, result.output

    def pg_deleted() -> set[int]:
        with psycopg2.connect(dsn) as connection, connection.cursor() as cursor:
            cursor.execute(f'select id from "{schema}".issues where is_deleted')
            return {row[0] for row in cursor.fetchall()}

    try:
        pg_load("--jql", "project = ABC")
        moved = next(t for t in emu.truth() if t["key"].startswith("ABC-"))
        emu.move_issue(moved["id"], "XYZ")
        emu.advance(60)
        pg_load("--jql", "project = ABC")
        assert pg_deleted() == {moved["id"]}
        emu.move_issue(moved["id"], "ABC")
        emu.advance(60)
        pg_load("--jql", "project = ABC")
        assert pg_deleted() == set()
    finally:
        with psycopg2.connect(dsn) as connection, connection.cursor() as cursor:
            cursor.execute(f'drop schema if exists "{schema}" cascade')
            cursor.execute(f'drop schema if exists "{schema}_staging" cascade')


def test_sweep_on_data_center(tmp_path: Path) -> None:
    with Emulator(issues=30, seed=6, flavor="dc", start=START) as dc:
        command = [
            "run",
            "--auth",
            "pat",
            "--base-url",
            dc.site_url,
            "--duckdb-path",
            str(tmp_path / "jira.duckdb"),
            "--pipelines-dir",
            str(tmp_path / "pipelines"),
            "--tables",
            "sprints",
        ]
        assert run_cli(command, env={"JIRA_TOKEN": dc.pat}).exit_code == 0
        gone = dc.truth()[7]
        dc.delete_issue(gone["id"])
        dc.advance(60)
        result = run_cli(command, env={"JIRA_TOKEN": dc.pat})
        assert result.exit_code == 0, result.output
        assert deleted_ids(tmp_path) == {gone["id"]}
        assert live_ids(tmp_path) == {t["id"] for t in dc.truth()}


def test_marking_compares_in_chunks(
    emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Loaded issues are compared with the sweep a few at a time, with the same outcome."""
    import duckdb
    import numpy as np

    from pipelines import sweep as sweep_module
    from pipelines.runner import RunOptions, make_pipeline
    from pipelines.sweep import SweepResult, mark_deleted

    load(emu, tmp_path)
    truth = emu.truth()
    all_ids = sorted(t["id"] for t in truth)
    projects = {t["id"]: t["project_id"] for t in truth}
    hidden_project = projects[all_ids[0]]
    unlisted_visible = [i for i in all_ids[5:12] if projects[i] != hidden_project]
    listed_again = [i for i in all_ids[20:26] if projects[i] != hidden_project]
    unlisted_hidden = [i for i in all_ids[30:] if projects[i] == hidden_project][:2]
    assert unlisted_visible
    assert listed_again
    assert unlisted_hidden
    path = tmp_path / "jira.duckdb"
    with duckdb.connect(str(path)) as connection:
        listed = ", ".join(str(i) for i in listed_again)
        connection.execute('use "jira"."jira"')
        connection.execute(f"update issues set is_deleted = true where id in ({listed})")
    unlisted = set(unlisted_visible) | set(unlisted_hidden)
    result = SweepResult(
        ids=np.array([i for i in all_ids if i not in unlisted], dtype=np.int64),
        project_ids={p for p in projects.values() if p != hidden_project},
        complete=True,
    )
    monkeypatch.setattr(sweep_module, "COMPARE_CHUNK", 7)
    pipeline = make_pipeline(
        RunOptions(duckdb_path=str(path), pipelines_dir=str(tmp_path / "pipelines"))
    )
    with pipeline.sql_client() as client:
        outcome = mark_deleted(client, result, dt.datetime.now(dt.UTC))
    assert sorted(outcome.marked) == sorted(unlisted_visible)
    assert sorted(outcome.unmarked) == sorted(listed_again)
    assert outcome.hidden_projects == {hidden_project: len(unlisted_hidden)}
    assert deleted_ids(tmp_path) == set(unlisted_visible)


def test_empty_listing_marks_nothing(emu: Emulator, tmp_path: Path) -> None:
    import numpy as np

    from pipelines.runner import RunOptions, make_pipeline
    from pipelines.sweep import SweepResult, mark_deleted

    load(emu, tmp_path)
    loaded = live_ids(tmp_path)
    # The precondition: the load left live issues that an empty listing would mark.
    assert len(loaded) == 40
    result = SweepResult(
        ids=np.empty(0, dtype=np.int64),
        project_ids={t["project_id"] for t in emu.truth()},
        complete=True,
    )
    path = tmp_path / "jira.duckdb"
    pipeline = make_pipeline(
        RunOptions(duckdb_path=str(path), pipelines_dir=str(tmp_path / "pipelines"))
    )
    with pipeline.sql_client() as client:
        outcome = mark_deleted(client, result, dt.datetime.now(dt.UTC))
    assert outcome.marked == []
    assert outcome.doubt == "the sweep listed no issue for the filter"
    assert deleted_ids(tmp_path) == set()
    assert live_ids(tmp_path) == loaded


@pytest.mark.parametrize(
    ("listed", "complete"),
    [
        (list(range(1, 11)), True),  # every issue read is listed
        (list(range(1, 7)), True),  # 4 of 10 missing: deletions are possible
        (list(range(1, 5)), False),  # 6 of 10 missing
        ([], False),  # an empty listing
    ],
)
def test_sweep_lacking_read_issues(listed: list[int], complete: bool) -> None:
    import numpy as np

    from pipelines.sweep import SweepResult, doubt_sweep

    sweep = SweepResult(ids=np.array(listed, dtype=np.int64), complete=True)
    doubt_sweep(sweep, np.arange(1, 11, dtype=np.int64))
    assert sweep.complete is complete
    assert (sweep.error is None) is complete
