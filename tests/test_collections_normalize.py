"""Row builders of the collection and reference tables, on recorded Jira payloads."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pipelines.errors import PayloadError
from pipelines.normalize import collections as rows_of
from pipelines.normalize.fields import FieldCatalog
from pipelines.source_collections import replacement_table
from tests.deep_json import (
    nested_lists,
    nested_lists_json,
    quoted_doc,
    quoted_doc_json,
    quoted_doc_levels,
)


def load(samples_dir: Path, name: str) -> Any:
    return json.loads((samples_dir / name).read_text(encoding="utf-8"))


def test_changelog_first_history_row(samples_dir: Path) -> None:
    logs = load(samples_dir, "devlake_issue_changelogs_v3.json")
    history = logs[0]["values"][0]
    rows = rows_of.changelog_rows(13383, history)
    assert len(rows) == 1
    row = rows[0]
    assert row["issue_id"] == 13383
    assert row["history_id"] == 57278
    assert row["item_position"] == 0
    # 2021-01-25T11:09:27.985+0800
    assert row["created_at"] == datetime(2021, 1, 25, 3, 9, 27, 985000, tzinfo=UTC)
    # The recorded author has an empty accountId and no key or name.
    assert row["author_account_id"] is None
    assert row["field"] == "description"
    assert row["field_id"] == "description"
    assert row["field_type"] == "jira"
    assert row["from_value"] is None
    assert row["from_string"] is None
    assert row["to_string"].startswith("平均域的显示需要配合 [~accountid:acc-0021]")


def test_changelog_item_with_deep_value(samples_dir: Path) -> None:
    history = load(samples_dir, "devlake_issue_changelogs_v3.json")[0]["values"][0]
    history["items"][0]["to"] = {"data": nested_lists(1000)}
    (row,) = rows_of.changelog_rows(13383, history)
    assert row["to_value"] == '{"data": ' + nested_lists_json(1000) + "}"


def test_changelog_rows_cover_every_item(samples_dir: Path) -> None:
    logs = load(samples_dir, "devlake_issue_changelogs_v3.json")
    assert [len(group["values"]) for group in logs] == [100, 100, 79]
    for group in logs:
        issue_id = int(group["issueId"])
        rows = [r for h in group["values"] for r in rows_of.changelog_rows(issue_id, h)]
        expected = sum(len(h["items"]) for h in group["values"])
        assert len(rows) == expected
        keys = {(r["history_id"], r["item_position"]) for r in rows}
        assert len(keys) == len(rows)


def test_comment_row_from_sample(samples_dir: Path) -> None:
    comment = load(samples_dir, "airbyte_issue_comments_v3.json")["comments"][0]
    row = rows_of.comment_row(10625, comment)
    assert row["id"] == 10755
    assert row["issue_id"] == 10625
    assert row["author_account_id"] == "acc-0001"
    assert row["update_author_account_id"] == "acc-0001"
    # 2022-05-17T04:06:55.076-0700
    assert row["created_at"] == datetime(2022, 5, 17, 11, 6, 55, 76000, tzinfo=UTC)
    assert row["updated_at"] == row["created_at"]
    assert row["body_text"] == "Closed"
    assert json.loads(row["body_adf"])["content"][0]["content"][0]["text"] == "Closed"
    assert row["visibility_type"] is None
    assert row["visibility_value"] is None


def test_comment_row_with_deep_body(samples_dir: Path) -> None:
    # 1,022 levels: a comment page of 1,024, with the comment and its list above the body.
    comment = load(samples_dir, "airbyte_issue_comments_v3.json")["comments"][0]
    comment["body"] = quoted_doc(1022)
    row = rows_of.comment_row(10625, comment)
    assert row["body_text"] == "> " * quoted_doc_levels(1022) + "deep"
    assert row["body_adf"] == quoted_doc_json(1022, item=", ", key=": ")


def test_comment_row_with_wiki_body() -> None:
    comment = {
        "id": "7",
        "author": {"key": "JIRAUSER1", "name": "bob"},
        "body": "h1. Title\n*bold*",
        "created": "2024-03-01T10:00:00.000+0100",
        "updated": "2024-03-01T10:00:00.000+0100",
        "visibility": {"type": "role", "value": "Developers"},
    }
    row = rows_of.comment_row(1, comment)
    assert row["author_account_id"] == "JIRAUSER1"
    assert row["body_text"] == "h1. Title\n*bold*"
    assert row["body_adf"] is None
    assert row["visibility_type"] == "role"
    assert row["visibility_value"] == "Developers"


def test_worklog_row_from_sample(samples_dir: Path) -> None:
    worklog = load(samples_dir, "airbyte_issue_worklogs_v3.json")["worklogs"][0]
    row = rows_of.worklog_row(worklog)
    assert row["id"] == 100028
    assert row["issue_id"] == 10002
    assert row["author_account_id"] == "acc-0004"
    assert row["started_at"] == datetime(2021, 1, 17, 12, 34, tzinfo=UTC)
    assert row["time_spent_seconds"] == 12000
    assert row["comment_text"] == "I did some work here."
    assert row["created_at"] is None
    assert row["updated_at"] == datetime(2021, 1, 18, 23, 45, tzinfo=UTC)


def test_worklog_row_rejects_text_seconds() -> None:
    with pytest.raises(PayloadError, match="timeSpentSeconds"):
        rows_of.worklog_row({"id": "1", "issueId": "2", "timeSpentSeconds": "3h"})


def test_user_rows_from_sample(samples_dir: Path) -> None:
    users = load(samples_dir, "airbyte_users_v3.json")
    rows = [rows_of.user_row(u) for u in users]
    assert [r["account_id"] for r in rows] == ["acc-0002", "acc-0003"]
    assert rows[0]["account_type"] == "atlassian"
    assert rows[0]["display_name"] is None
    assert rows[0]["is_active"] is None


def test_field_rows_from_sample(samples_dir: Path) -> None:
    fields = load(samples_dir, "airbyte_fields_v3.json")
    rows = rows_of.field_rows(fields, FieldCatalog.from_fields(fields))
    by_id = {r["field_id"]: r for r in rows}
    assert list(by_id) == ["statuscategorychangedate", "issuetype", "parent"]
    status_changed = by_id["statuscategorychangedate"]
    assert status_changed["name"] == "Status Category Changed"
    assert status_changed["is_custom"] is False
    assert status_changed["schema_type"] == "datetime"
    assert status_changed["column_name"] is None
    assert by_id["issuetype"]["is_custom"] is True
    assert by_id["issuetype"]["column_name"] == "issue_type_id"
    assert by_id["parent"]["schema_type"] is None
    assert by_id["parent"]["column_name"] == "parent_id"


def test_custom_field_row_names_its_column() -> None:
    fields = [
        {
            "id": "customfield_10016",
            "name": "Story point estimate",
            "custom": True,
            "schema": {
                "type": "number",
                "custom": "com.pyxis.greenhopper.jira:jsw-story-points",
                "customId": 10016,
            },
        }
    ]
    row = rows_of.field_rows(fields, FieldCatalog.from_fields(fields))[0]
    assert row["column_name"] == "story_point_estimate"
    assert row["schema_custom"] == "com.pyxis.greenhopper.jira:jsw-story-points"


def test_reference_rows() -> None:
    status = rows_of.status_row(
        {
            "id": "3",
            "name": "In Progress",
            "statusCategory": {"key": "indeterminate", "name": "In Progress"},
        }
    )
    assert status == {
        "id": 3,
        "name": "In Progress",
        "status_category": "indeterminate",
        "status_category_name": "In Progress",
    }
    version = rows_of.version_row(
        {
            "id": "10001",
            "name": "1.0",
            "released": True,
            "archived": False,
            "releaseDate": "2024-02-29",
        },
        project_id=10000,
    )
    assert version["project_id"] == 10000
    assert version["release_date"].isoformat() == "2024-02-29"
    assert (
        rows_of.issue_type_row({"id": "10003", "name": "Sub-task", "subtask": True})["is_subtask"]
        is True
    )
    assert (
        rows_of.project_row({"id": "10000", "key": "ABC", "name": "Alpha"})["is_archived"] is False
    )


def test_replacement_marks_empty_issues() -> None:
    rows = [{"id": 5, "issue_id": 1}]
    table = replacement_table("worklogs", rows, complete=[1, 2])
    assert table is not None
    assert table.column("issue_id").to_pylist() == [1, 2]
    assert table.column("id").to_pylist() == [5, -2]
    assert table.column("_jira_clear").to_pylist() == [False, True]


def test_replacement_leaves_unread_issues() -> None:
    assert replacement_table("issue_comments", [], complete=[]) is None


# Values of the wrong type. Each payload is a recorded one with one value changed, and the
# message must name the issue or the record, the Jira field, the column and the JSON type.


def test_changelog_field_number_names_issue(samples_dir: Path) -> None:
    group = load(samples_dir, "devlake_issue_changelogs_v3.json")[0]
    issue_id = int(group["issueId"])
    history = group["values"][0]
    history["items"][0]["field"] = 7
    rows = rows_of.changelog_rows(issue_id, history)
    issues = [{"id": issue_id, "key": "DL-7"}]
    with pytest.raises(PayloadError) as raised:
        replacement_table("issue_changelog", rows, [issue_id], issues)
    message = str(raised.value)
    assert raised.value.issue_key == "DL-7"
    assert message.startswith("Issue `DL-7`, table `issue_changelog`: "), message
    assert "field `items[].field` (column `issue_changelog.field`)" in message
    assert f"of changelog history `{history['id']}`" in message
    assert "has value `7` (a JSON number), expected a string." in message
    assert "check for a proxy or an app that changes the responses" in message
    assert "add `--skip-tables issue_changelog`" in message
    assert "run once with `--full-refresh`" in message
    assert "Expected bytes" not in message


def test_comment_visibility_object_names_issue(samples_dir: Path) -> None:
    comments = load(samples_dir, "airbyte_issue_comments_v3.json")["comments"]
    comments[1]["visibility"] = {"type": {"name": "role"}, "value": "Developers"}
    rows = [rows_of.comment_row(10625, comment) for comment in comments]
    with pytest.raises(PayloadError) as raised:
        rows_of.rows_to_arrow("issue_comments", rows, issues=[{"id": 10625, "key": "AB-1"}])
    message = str(raised.value)
    assert message.startswith("Issue `AB-1`, table `issue_comments`: "), message
    assert "field `visibility.type` (column `issue_comments.visibility_type`)" in message
    assert f"of comment `{comments[1]['id']}`" in message
    assert 'has value `{"name": "role"}` (a JSON object), expected a string.' in message


def test_collection_row_without_key_names_issue_id(samples_dir: Path) -> None:
    worklog = load(samples_dir, "airbyte_issue_worklogs_v3.json")["worklogs"][0]
    worklog["timeSpentSeconds"] = 2**70
    row = rows_of.worklog_row(worklog)
    with pytest.raises(PayloadError) as raised:
        rows_of.rows_to_arrow("worklogs", [row])
    message = str(raised.value)
    assert message.startswith(f"Issue `{worklog['issueId']}`, table `worklogs`: "), message
    assert "field `timeSpentSeconds` (column `worklogs.time_spent_seconds`)" in message
    assert f"of worklog `{worklog['id']}`" in message
    assert f"has value `{2**70}` (a JSON number), expected an integer." in message
    # Worklogs changed meanwhile come back through the worklog change feed.
    assert "--full-refresh" not in message


def test_comment_visibility_text_rejected(samples_dir: Path) -> None:
    comment = load(samples_dir, "airbyte_issue_comments_v3.json")["comments"][0]
    comment["visibility"] = "public"
    with pytest.raises(PayloadError) as raised:
        rows_of.comment_row(10625, comment)
    message = str(raised.value)
    assert "Invalid `visibility` `public`" in message
    assert f"`issue_comments` object `{comment['id']}`" in message
    assert "expected an object" in message


def test_project_key_number_names_record(samples_dir: Path) -> None:
    issues = load(samples_dir, "pragati_search_jql_page_v3.json")["issues"]
    projects = {issue["fields"]["project"]["id"]: issue["fields"]["project"] for issue in issues}
    assert len(projects) >= 1
    wrong = next(iter(projects.values()))
    wrong["key"] = 7
    rows = [rows_of.project_row(project) for project in projects.values()]
    with pytest.raises(PayloadError) as raised:
        rows_of.rows_to_arrow("projects", rows, endpoint="/rest/api/3/project/search")
    message = str(raised.value)
    assert message.startswith(
        f"Table `projects`, record with id `{wrong['id']}` from `/rest/api/3/project/search`: "
    ), message
    assert "field `key` (column `projects.key`) has value `7` (a JSON number)" in message
    assert "expected a string." in message
    assert message.endswith("To load the other tables meanwhile, add `--skip-tables projects`.")
    assert raised.value.issue_key is None


def test_status_category_name_names_record(samples_dir: Path) -> None:
    status = load(samples_dir, "pragati_search_jql_page_v3.json")["issues"][0]["fields"]["status"]
    status["statusCategory"]["name"] = ["To Do"]
    with pytest.raises(PayloadError) as raised:
        rows_of.rows_to_arrow(
            "statuses", [rows_of.status_row(status)], endpoint="/rest/api/2/status"
        )
    message = str(raised.value)
    assert f"record with id `{status['id']}` from `/rest/api/2/status`" in message
    assert "field `statusCategory.name` (column `statuses.status_category_name`)" in message
    assert 'has value `["To Do"]` (a JSON array), expected a string.' in message


def test_status_category_text_rejected(samples_dir: Path) -> None:
    status = load(samples_dir, "pragati_search_jql_page_v3.json")["issues"][0]["fields"]["status"]
    status["statusCategory"] = "new"
    with pytest.raises(PayloadError) as raised:
        rows_of.status_row(status)
    message = str(raised.value)
    assert "Invalid `statusCategory` `new`" in message
    assert f"`statuses` object `{status['id']}`" in message


def test_user_active_text_names_record(samples_dir: Path) -> None:
    users = load(samples_dir, "airbyte_users_v3.json")
    users[1]["active"] = "yes"
    rows = [rows_of.user_row(user) for user in users]
    with pytest.raises(PayloadError) as raised:
        rows_of.rows_to_arrow("users", rows, endpoint="/rest/api/3/users/search")
    message = str(raised.value)
    assert f"record with account_id `{users[1]['accountId']}`" in message
    assert "field `active` (column `users.is_active`)" in message
    assert "has value `yes` (a JSON string), expected true or false." in message


def test_field_schema_type_number_names_record(samples_dir: Path) -> None:
    fields = load(samples_dir, "airbyte_fields_v3.json")
    fields[2]["schema"] = {"type": 7}
    rows = rows_of.field_rows(fields, FieldCatalog.from_fields(fields))
    with pytest.raises(PayloadError) as raised:
        rows_of.rows_to_arrow("fields", rows, endpoint="/rest/api/3/field")
    message = str(raised.value)
    assert f"record with field_id `{fields[2]['id']}` from `/rest/api/3/field`" in message
    assert "field `schema.type` (column `fields.schema_type`) has value `7`" in message


def test_version_row_names_its_project_endpoint() -> None:
    rows = [rows_of.version_row({"id": "10001", "name": 1.5}, project_id=10000)]
    endpoint = "/rest/api/3/project/{project_id}/versions"
    with pytest.raises(PayloadError) as raised:
        rows_of.rows_to_arrow("versions", rows, endpoint=endpoint)
    assert "from `/rest/api/3/project/10000/versions`" in str(raised.value)


def test_rows_to_arrow_keeps_valid_rows(samples_dir: Path) -> None:
    users = load(samples_dir, "airbyte_users_v3.json")
    table = rows_of.rows_to_arrow("users", [rows_of.user_row(user) for user in users])
    assert table.column("account_id").to_pylist() == [user["accountId"] for user in users]
    assert table.schema == rows_of.table_schema("users")
