"""JQL evaluation and JQL errors of the emulator, checked against its truth."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import httpx
import pytest

from pipelines.emulator import Emulator
from pipelines.emulator import reference as ref


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(issues=200, seed=21, start=dt.datetime(2024, 3, 1, tzinfo=dt.UTC)) as emu:
        yield emu


def keys(emu: Emulator, jql: str) -> list[str]:
    response = httpx.post(
        emu.site_url + "/rest/api/3/search/jql",
        auth=(emu.email, emu.classic_token),
        json={"jql": jql, "fields": ["key"], "maxResults": 1000},
    )
    assert response.status_code == 200, response.text
    return [issue["key"] for issue in response.json()["issues"]]


def error(emu: Emulator, jql: str) -> list[str]:
    response = httpx.post(
        emu.site_url + "/rest/api/3/search/jql",
        auth=(emu.email, emu.classic_token),
        json={"jql": jql},
    )
    assert response.status_code == 400
    body = response.json()
    assert body["errors"] == {}
    return body["errorMessages"]


def test_boolean_filters_match_truth(emu: Emulator) -> None:
    truth = emu.truth()
    expected = {
        i["key"]
        for i in truth
        if i["project_key"] in ("ABC", "OPS")
        and not (i["status_category"] == "done" or "backend" in i["labels"])
    }
    jql = 'project in (ABC, "OPS") AND NOT (statusCategory = Done OR labels = backend)'
    assert set(keys(emu, jql)) == expected


def test_not_equal_skips_empty_values(emu: Emulator) -> None:
    truth = emu.truth()
    expected = {i["key"] for i in truth if i["labels"] and "ux" not in i["labels"]}
    assert set(keys(emu, "labels != ux")) == expected
    unassigned = {i["key"] for i in truth if i["assignee_account_id"] is None}
    assert set(keys(emu, "assignee is EMPTY")) == unassigned


def test_unresolved_and_resolution_empty(emu: Emulator) -> None:
    expected = {i["key"] for i in emu.truth() if i["resolution"] is None}
    assert set(keys(emu, "resolution = Unresolved")) == expected
    assert set(keys(emu, "resolution is EMPTY")) == expected


def test_order_by_updated_desc_then_id(emu: Emulator) -> None:
    truth = [i for i in emu.truth() if i["project_key"] == "XYZ"]
    expected = [i["key"] for i in sorted(truth, key=lambda i: (-i["updated"].timestamp(), i["id"]))]
    assert keys(emu, "project = XYZ ORDER BY updated DESC") == expected


def test_default_order_is_created_desc(emu: Emulator) -> None:
    truth = [i for i in emu.truth() if i["project_key"] == "ABC"]
    expected = [i["key"] for i in sorted(truth, key=lambda i: i["created"], reverse=True)]
    assert keys(emu, "project = ABC") == expected


def test_summary_contains(emu: Emulator) -> None:
    word = emu.truth()[0]["summary"].split()[1].lower()
    expected = {i["key"] for i in emu.truth() if word in i["summary"].lower()}
    assert set(keys(emu, f'summary ~ "{word}"')) == expected


def test_relative_dates(emu: Emulator) -> None:
    now = emu.now()
    expected = {i["key"] for i in emu.truth() if i["updated"] >= now - dt.timedelta(days=7)}
    assert set(keys(emu, "updated >= -7d")) == expected
    assert set(keys(emu, "updated >= -1w")) == expected


def test_missing_parenthesis_error(emu: Emulator) -> None:
    assert error(emu, "project = ABC AND (status = Done") == [
        "Error in the JQL Query: Expecting ')' before the end of the query."
    ]


def test_unknown_field_error(emu: Emulator) -> None:
    assert error(emu, "foo = bar") == [
        "Field 'foo' does not exist or you do not have permission to view it."
    ]


def test_unknown_value_error(emu: Emulator) -> None:
    assert error(emu, "project = NOPE") == [
        "The value 'NOPE' does not exist for the field 'project'."
    ]


def test_invalid_date_error(emu: Emulator) -> None:
    message = error(emu, 'updated > "01/02/2024"')[0]
    assert message.startswith("Date value '01/02/2024' for field 'updated' is invalid.")


def test_unsupported_operator_error(emu: Emulator) -> None:
    assert error(emu, "labels > x") == ["The operator '>' is not supported by the 'labels' field."]


def test_edit_and_move_are_searchable(emu: Emulator) -> None:
    issue = emu.truth()[3]
    emu.edit_issue(issue["key"], status="Done", labels=["moved-test"])
    moved = emu.move_issue(issue["key"], "OPS")
    assert moved["id"] == issue["id"]
    assert moved["key"].startswith("OPS-")
    assert keys(emu, "labels = moved-test AND statusCategory = done") == [moved["key"]]
    assert keys(emu, f"key = {issue['key']}") == [moved["key"]]
    response = httpx.get(
        f"{emu.site_url}/rest/api/3/issue/{moved['id']}",
        auth=(emu.email, emu.classic_token),
        params={"expand": "changelog"},
    )
    items = [item for h in response.json()["changelog"]["histories"] for item in h["items"]]
    key_items = [item for item in items if item["field"] == "Key"]
    assert key_items[0]["fromString"] == issue["key"]
    assert key_items[0]["toString"] == moved["key"]


def test_moved_issue_takes_new_project_sprints(emu: Emulator) -> None:
    boards = {project.key: project.board_id for project in ref.PROJECTS}
    sprints_of = {
        key: {sprint.id for sprint in ref.SPRINTS if sprint.board_id == board}
        for key, board in boards.items()
    }
    issue = next(
        i
        for i in emu.truth()
        if i["project_key"] == "ABC" and i["sprint_ids"] and i["parent_id"] is None
    )
    assert set(issue["sprint_ids"]) <= sprints_of["ABC"]
    target = next(key for key, ids in sprints_of.items() if ids and key != "ABC")
    moved = emu.move_issue(issue["key"], target)
    assert moved["sprint_ids"]
    assert set(moved["sprint_ids"]) <= sprints_of[target]
    # The issue served by the API agrees with the truth.
    response = httpx.get(
        f"{emu.site_url}/rest/api/3/issue/{moved['id']}",
        auth=(emu.email, emu.classic_token),
    )
    served = response.json()["fields"][ref.CF_SPRINT]
    assert sorted(sprint["id"] for sprint in served) == sorted(moved["sprint_ids"])


def test_subtasks_follow_parent_move_delete() -> None:
    with Emulator(issues=150, seed=21, start=dt.datetime(2024, 3, 1, tzinfo=dt.UTC)) as emu:
        truth = emu.truth()
        subtasks: dict[int, list[dict]] = {}
        for issue in truth:
            if issue["issue_type"] == "Sub-task":
                subtasks.setdefault(issue["parent_id"], []).append(issue)
        parent_id, moving = next((p, s) for p, s in subtasks.items() if len(s) > 1)
        parent = next(issue for issue in truth if issue["id"] == parent_id)
        target = next(p.key for p in ref.PROJECTS if p.key != parent["project_key"])
        moved = emu.move_issue(parent_id, target)
        after = {issue["id"]: issue for issue in emu.truth()}
        for subtask in moving:
            now = after[subtask["id"]]
            assert now["project_key"] == target
            assert now["key"].startswith(f"{target}-")
            assert now["key"] != subtask["key"]
            assert now["parent_key"] == moved["key"]
            assert now["updated"] > subtask["updated"]
            # The search finds a sub-task by its old key too, as Jira does after a move.
            assert keys(emu, f"key = {subtask['key']}") == [now["key"]]
        emu.delete_issue(moved["key"])
        left = {issue["id"] for issue in emu.truth()}
        assert parent_id not in left
        assert not left & {subtask["id"] for subtask in moving}
        assert len(left) == len(truth) - 1 - len(moving)


def test_control_api_edit(emu: Emulator) -> None:
    issue = emu.truth()[7]
    response = httpx.post(
        emu.site_url + "/_emulator/edit",
        json={"issue": issue["key"], "changes": {"summary": "via control"}},
    )
    assert response.status_code == 200
    assert response.json()["summary"] == "via control"
    assert keys(emu, 'summary ~ "via control"') == [issue["key"]]
