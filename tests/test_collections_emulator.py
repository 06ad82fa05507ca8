"""Complete collections and reference tables loaded from the emulator into DuckDB."""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import Any

import dlt
import duckdb
import pytest

from pipelines.client.auth import build_auth
from pipelines.client.connection import resolve_connection
from pipelines.client.transport import JiraClient
from pipelines.collections.agile import read_board_sprints, read_boards
from pipelines.emulator import Emulator
from pipelines.normalize.timestamps import parse_instant
from pipelines.source import jira_source

os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"

COLLECTIONS = ["issue_changelog", "issue_comments", "worklogs"]


def build_source(
    emu: Emulator, token: str, tables: list[str] | None = None, auth: str = "bearer"
) -> Any:
    """Build `jira_source` with the collection and reference resources added."""
    connection = {
        "token": token,
        "auth": auth,
        "site_url": emu.site_url,
        "gateway_url": emu.gateway_url if auth == "bearer" else None,
    }
    return jira_source(
        **connection,
        lookback_minutes=0,
        max_retries=2,
        min_retry_wait_seconds=0.01,
        tables=tables,
    )


def make_pipeline(tmp_path: Path, name: str = "collections") -> Any:
    return dlt.pipeline(
        pipeline_name=name,
        destination=dlt.destinations.duckdb(str(tmp_path / f"{name}.duckdb")),
        dataset_name="jira",
        pipelines_dir=str(tmp_path / f"dlt-{name}"),
    )


def query(pipeline: Any, sql: str) -> list[tuple[Any, ...]]:
    path = pipeline.destination_client().config.credentials.database
    with duckdb.connect(path, read_only=True) as con:
        con.execute(f'USE "{Path(path).stem}"."jira"')
        return con.execute(sql).fetchall()


def issue_id(emu: Emulator, key: str) -> int:
    return next(int(i["id"]) for i in emu.truth() if i["key"] == key)


def test_large_issue_loads_everything(tmp_path: Path) -> None:
    with Emulator(issues=20, seed=7) as emu:
        abc1 = issue_id(emu, "ABC-1")
        oldest = min(h["created"] for h in emu.store.histories(emu.store.get("ABC-1")))
        pipeline = make_pipeline(tmp_path)
        pipeline.run(build_source(emu, emu.scoped_token, tables=COLLECTIONS))
    histories = query(
        pipeline, f"select count(distinct history_id) from issue_changelog where issue_id={abc1}"
    )
    assert histories == [(250,)]
    comments = query(pipeline, f"select count(*) from issue_comments where issue_id={abc1}")
    assert comments == [(45,)]
    worklogs = query(pipeline, f"select count(*) from worklogs where issue_id={abc1}")
    assert worklogs == [(32,)]
    first = query(
        pipeline,
        f"select epoch_ms(min(created_at)) from issue_changelog where issue_id={abc1}",
    )
    assert first == [(oldest,)]


def test_second_run_rereads_changed_only(tmp_path: Path) -> None:
    with Emulator(issues=20, seed=7) as emu:
        pipeline = make_pipeline(tmp_path)
        pipeline.run(build_source(emu, emu.scoped_token, tables=COLLECTIONS))
        cursor = parse_instant(pipeline.state["sources"]["jira"]["issues_cursor"])
        emu.advance(600)
        edited = issue_id(emu, "ABC-3")
        emu.edit_issue("ABC-3", summary="Renamed during the test")
        expected = {int(i["id"]) for i in emu.truth() if i["updated"] >= cursor}
        first_run_requests = len(emu.requests)
        pipeline.run(build_source(emu, emu.scoped_token, tables=COLLECTIONS))
        second_run = emu.requests[first_run_requests:]
    per_issue = {
        int(match[1])
        for r in second_run
        if (match := re.search(r"/issue/(\d+)/(comment|worklog|changelog)$", r["path"]))
    }
    assert per_issue <= expected
    bulk = [json.loads(r["body"]) for r in second_run if r["path"].endswith("changelog/bulkfetch")]
    bulk_ids = {int(i) for body in bulk for i in body["issueIdsOrKeys"]}
    assert edited in bulk_ids
    assert bulk_ids <= expected
    newest = query(
        pipeline,
        f"select field_id, to_string from issue_changelog where issue_id={edited} "
        "order by created_at desc, history_id desc limit 1",
    )
    assert newest == [("summary", "Renamed during the test")]
    histories = query(
        pipeline, f"select count(distinct history_id) from issue_changelog where issue_id={edited}"
    )
    assert histories == [(len(emu.store.histories(emu.store.get("ABC-3"))),)]
    doubled = query(
        pipeline,
        "select count(*) from (select issue_id, history_id, item_position from issue_changelog "
        "group by all having count(*) > 1)",
    )
    assert doubled == [(0,)]
    doubled_comments = query(
        pipeline,
        "select count(*) from (select id from issue_comments group by id having count(*) > 1)",
    )
    assert doubled_comments == [(0,)]
    doubled_worklogs = query(
        pipeline, "select count(*) from (select id from worklogs group by id having count(*) > 1)"
    )
    assert doubled_worklogs == [(0,)]


def test_sprint_shapes_give_same_rows(tmp_path: Path) -> None:
    loaded = {}
    for flavor in ("cloud", "dc"):
        with Emulator(issues=30, seed=7, flavor=flavor) as emu:
            token, auth = (emu.scoped_token, "bearer") if flavor == "cloud" else (emu.pat, "pat")
            pipeline = make_pipeline(tmp_path, f"sprints_{flavor}")
            pipeline.run(build_source(emu, token, tables=COLLECTIONS, auth=auth))
        loaded[flavor] = query(
            pipeline,
            "select id, name, state, board_id, goal, start_at, end_at, completed_at "
            "from sprints order by id",
        )
    assert loaded["cloud"]
    assert loaded["cloud"] == loaded["dc"]


def test_missing_agile_scope_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with Emulator(issues=10, seed=7) as emu:
        limited = "limited-token-without-agile-scopes"
        emu.add_token(limited, {"read:jira-work", "read:jira-user"})
        pipeline = make_pipeline(tmp_path)
        with caplog.at_level(logging.WARNING, logger="jira_etl.collections"):
            pipeline.run(build_source(emu, limited, tables=["sprints"]))
    assert "read:board-scope:jira-software" in caplog.text
    issues = query(pipeline, "select count(*) from issues")
    assert issues == [(10,)]


def test_kanban_board_has_no_sprints(caplog: pytest.LogCaptureFixture) -> None:
    with Emulator(issues=30, seed=7) as emu:
        auth = build_auth("bearer", emu.scoped_token)
        connection = resolve_connection(auth, site_url=emu.site_url, gateway_url=emu.gateway_url)
        with JiraClient(connection) as client, caplog.at_level(logging.INFO, "jira_etl.agile"):
            boards = {board["id"]: board["type"] for board in read_boards(client)}
            scrum = read_board_sprints(client, 1)
            kanban = read_board_sprints(client, 3)
    assert boards[1] == "scrum"
    assert boards[3] == "kanban"
    assert scrum
    assert all(sprint["originBoardId"] == 1 for sprint in scrum)
    assert kanban == []
    assert "Board 3 has no sprints (400, as for a Kanban board); skipped." in caplog.text
