"""Recorded Jira payloads replayed over real HTTP load through the CLI into DuckDB.

The emulator's replay server on 127.0.0.1 serves the field catalog and the search with the
recorded files, byte for byte. Expected values were read from the JSON by hand.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipelines.emulator.replay import ReplayServer
from tests.helpers import query, run_cli
from tests.test_normalize_issues import DEVLAKE_FIELDS, MATTERMOST_FIELDS, PRAGATI_FIELDS

SKIP_OTHER_TABLES = (
    "issue_changelog,issue_comments,worklogs,users,projects,statuses,priorities,issue_types,"
    "resolutions,versions,components,fields,sprints"
)


def load_json(samples_dir: Path, name: str) -> Any:
    return json.loads((samples_dir / name).read_text(encoding="utf-8"))


@pytest.fixture
def replay() -> Iterator[Any]:
    servers: list[ReplayServer] = []

    def start(fields: list[dict[str, Any]], page: dict[str, Any]) -> ReplayServer:
        server = ReplayServer(page, fields).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def load(server: ReplayServer, tmp_path: Path, auth: str = "basic") -> Any:
    args = [
        "run",
        "--auth",
        auth,
        "--base-url",
        server.url,
        "--email",
        "user-1@example.com",
        "--skip-tables",
        SKIP_OTHER_TABLES,
        "--max-retries",
        "1",
        "--duckdb-path",
        str(tmp_path / "jira.duckdb"),
        "--pipelines-dir",
        str(tmp_path / "p"),
    ]
    return run_cli(args, env={"JIRA_TOKEN": "replay-token"})


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def test_pragati_search_page_loads(samples_dir: Path, replay: Any, tmp_path: Path) -> None:
    page = load_json(samples_dir, "pragati_search_jql_page_v3.json")
    result = load(replay(PRAGATI_FIELDS, page), tmp_path)
    assert result.exit_code == 0, result.output
    db = tmp_path / "jira.duckdb"
    assert query(db, "select count(*) from issues") == [(50,)]
    row = query(
        db,
        "select key, updated_at, created_at, status, status_category, issue_type, "
        "parent_key, start_date, rank, developer from issues where id = 10213",
    )[0]
    assert row[0] == "TMSP-64"
    assert row[1] == utc("2024-07-26T10:52:27.715")  # 16:22:27.715 at +05:30
    assert row[2] == utc("2024-07-26T10:52:23.916")
    assert row[3:7] == ("To Do", "new", "Sub-task", "TMSP-63")
    assert row[7] == dt.date(2024, 7, 31)
    assert row[8] == "0|i0019z:"
    assert row[9] == "user-6"
    members = query(
        db,
        "select value_id from issue_field_values where issue_id = 10213 "
        "and field_id = 'customfield_10070'",
    )
    assert ("acc-0005",) in members


def test_airbyte_issue_loads(samples_dir: Path, replay: Any, tmp_path: Path) -> None:
    page = {
        "issues": load_json(samples_dir, "airbyte_search_issues_v3.json")["issues"],
        "isLast": True,
    }
    fields = load_json(samples_dir, "airbyte_fields_v3.json")
    result = load(replay(fields, page), tmp_path)
    assert result.exit_code == 0, result.output
    db = tmp_path / "jira.duckdb"
    row = query(
        db,
        "select key, updated_at, created_at, status, issue_type, priority, "
        "assignee_account_id, project_key from issues where id = 10627",
    )[0]
    assert row[0] == "TESTKEY13-1"
    assert row[1] == utc("2022-12-08T10:22:18.889")  # 02:22:18.889 at -08:00
    assert row[2] == utc("2022-06-09T23:29:31.871")  # 16:29:31.871 at -07:00
    assert row[3:] == ("To Do", "Epic", "Low", "acc-0001", "TESTKEY13")
    assert query(db, "select label from issue_labels where issue_id = 10627") == [("test",)]


def test_devlake_board_issues_load_on_data_center(
    samples_dir: Path, replay: Any, tmp_path: Path
) -> None:
    page = load_json(samples_dir, "devlake_board_issues_v2.json")
    page["total"] = len(page["issues"])
    result = load(replay(DEVLAKE_FIELDS, page), tmp_path, auth="pat")
    assert result.exit_code == 0, result.output
    db = tmp_path / "jira.duckdb"
    assert query(db, "select count(*) from issues") == [(33,)]
    row = query(
        db,
        "select key, updated_at, status, issue_type, assignee_account_id, "
        "description_adf from issues where id = 10063",
    )[0]
    assert row[0] == "EE-1"
    assert row[1] == utc("2021-03-28T08:06:08.713")  # 16:06:08.713 at +08:00
    assert row[2:5] == ("已完成", "故事", "acc-0011")
    assert row[5] is None
    labels = sorted(query(db, "select label from issue_labels where issue_id = 10063"))
    assert labels == [("Saas",), ("frontEnd",)]


def test_mattermost_webhook_issue_loads(samples_dir: Path, replay: Any, tmp_path: Path) -> None:
    issue = load_json(samples_dir, "mattermost_webhook_issue_created.json")["issue"]
    result = load(replay(MATTERMOST_FIELDS, {"issues": [issue], "isLast": True}), tmp_path)
    assert result.exit_code == 0, result.output
    db = tmp_path / "jira.duckdb"
    row = query(
        db,
        "select key, updated_at, status, issue_type, project_key, "
        "assignee_account_id from issues where id = 10509",
    )[0]
    assert row[0] == "KT-22"
    assert row[1] == utc("2019-08-27T19:43:24.193")  # 12:43:24.193 at -07:00
    assert row[2:] == ("To Do", "Task", "KT", "acc-0022")
    labels = sorted(query(db, "select label from issue_labels where issue_id = 10509"))
    assert labels == [("Label1",), ("Label2",)]


@pytest.mark.parametrize(
    ("sample", "key", "missing"),
    [
        # Hand-written fixtures without the fields a real search returns when asked.
        ("mattermost_search_jql_last.json", "TES-42", "updated"),
        ("jiracli_search.json", "TEST-1", "id"),
    ],
)
def test_trimmed_fixtures_fail_naming_the_issue(
    samples_dir: Path, replay: Any, tmp_path: Path, sample: str, key: str, missing: str
) -> None:
    page = load_json(samples_dir, sample)
    result = load(replay([], page), tmp_path)
    assert result.exit_code == 1, result.output
    assert f"Issue {key}" in result.stderr
    assert f"`{missing}`" in result.stderr
    # The failed first run created the file and loaded no table, so it removed the file.
    assert not (tmp_path / "jira.duckdb").exists()
