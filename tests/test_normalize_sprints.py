"""Sprint values: Cloud objects, legacy `Sprint@...[...]` strings, and both shapes agreeing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipelines.normalize.sprints import parse_sprint
from tests.deep_json import nested_lists


def test_mattermost_legacy_string(samples_dir: Path) -> None:
    payload = json.loads((samples_dir / "mattermost_webhook_issue_created.json").read_text())
    (value,) = payload["issue"]["fields"]["customfield_10021"]
    assert value.startswith("com.atlassian.greenhopper.service.sprint.Sprint@")
    assert parse_sprint(value) == {
        "id": 1,
        "name": "SCRUM1 Sprint 1",
        "state": "active",
        "board_id": 2,
        "goal": "",
        "start_at": datetime(2019, 5, 23, 14, 2, 10, 170000, tzinfo=UTC),
        "end_at": datetime(2019, 6, 6, 14, 2, 0, tzinfo=UTC),
        "completed_at": None,
    }


def test_devlake_cloud_objects(samples_dir: Path) -> None:
    payload = json.loads((samples_dir / "devlake_board_issues_v2.json").read_text())
    by_key = {issue["key"]: issue for issue in payload["issues"]}
    (closed,) = by_key["EE-1"]["fields"]["customfield_10020"]
    assert parse_sprint(closed) == {
        "id": 7,
        "name": "EE Sprint 7",
        "state": "closed",
        "board_id": 8,
        "goal": "",
        "start_at": datetime(2020, 6, 12, 0, 38, 51, 882000, tzinfo=UTC),
        "end_at": datetime(2020, 6, 26, 0, 38, 0, tzinfo=UTC),
        "completed_at": datetime(2020, 6, 22, 5, 59, 58, 980000, tzinfo=UTC),
    }
    (active,) = by_key["K5-2"]["fields"]["customfield_10020"]
    parsed = parse_sprint(active)
    assert parsed["id"] == 175
    assert parsed["board_id"] == 92
    assert parsed["state"] == "active"
    assert parsed["completed_at"] is None


def test_agile_sprint_uses_origin_board() -> None:
    # The agile API's `sprint` field names the board `originBoardId`.
    value = {"id": 175, "state": "active", "name": "K5 Sprint 1", "originBoardId": 92, "goal": ""}
    assert parse_sprint(value)["board_id"] == 92


def test_object_and_legacy_string_agree() -> None:
    cloud = {
        "id": 266,
        "name": "Sprint 4, [hardening]",
        "state": "closed",
        "boardId": 174,
        "goal": "ship a=b, then c, name=x",
        "startDate": "2015-01-05T10:45:00.000Z",
        "endDate": "2015-01-19T10:45:00.000Z",
        "completeDate": "2015-01-20T09:00:12.345Z",
    }
    legacy = (
        "com.atlassian.greenhopper.service.sprint.Sprint@1a2b[id=266,rapidViewId=174,"
        "state=CLOSED,name=Sprint 4, [hardening],goal=ship a=b, then c, name=x,"
        "startDate=2015-01-05T11:45:00.000+01:00,endDate=2015-01-19T10:45:00.000Z,"
        "completeDate=2015-01-20T09:00:12.345Z,sequence=266]"
    )
    from_cloud = parse_sprint(cloud)
    from_legacy = parse_sprint(legacy)
    assert from_legacy == from_cloud
    assert from_legacy["goal"] == "ship a=b, then c, name=x"
    assert from_legacy["name"] == "Sprint 4, [hardening]"
    assert from_legacy["start_at"] == datetime(2015, 1, 5, 10, 45, tzinfo=UTC)


def test_legacy_null_values_become_none() -> None:
    legacy = (
        "com.atlassian.greenhopper.service.sprint.Sprint@5f1a[id=12,rapidViewId=<null>,"
        "state=FUTURE,name=Next,goal=<null>,startDate=<null>,endDate=<null>,"
        "completeDate=<null>,sequence=12]"
    )
    assert parse_sprint(legacy) == {
        "id": 12,
        "name": "Next",
        "state": "future",
        "board_id": None,
        "goal": None,
        "start_at": None,
        "end_at": None,
        "completed_at": None,
    }


def test_legacy_goal_with_fake_date_key() -> None:
    legacy = (
        "com.atlassian.greenhopper.service.sprint.Sprint@9[id=3,rapidViewId=1,state=ACTIVE,"
        "name=S3,goal=finish,startDate=soon,startDate=2020-01-01T00:00:00.000Z,"
        "endDate=<null>,completeDate=<null>,sequence=3]"
    )
    parsed = parse_sprint(legacy)
    assert parsed["goal"] == "finish,startDate=soon"
    assert parsed["start_at"] == datetime(2020, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "bad",
    [
        "not a sprint",
        "com.atlassian.greenhopper.service.sprint.Sprint@1[rapidViewId=1,name=x]",
        {"name": "no id"},
        {"id": "seven"},
        42,
        {"id": 1, "startDate": "tomorrow"},
    ],
)
def test_invalid_sprint_raises(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_sprint(bad)  # type: ignore[arg-type]


def test_deep_sprint_id_is_quoted() -> None:
    with pytest.raises(ValueError) as caught:
        parse_sprint({"id": {"deep": nested_lists(1000)}, "name": "S1"})
    quoted = ('{"deep": ' + "[" * 100)[:77] + "..."
    assert str(caught.value) == f"Invalid sprint id `{quoted}`: expected an integer."


def test_deep_sprint_goal_is_quoted() -> None:
    with pytest.raises(ValueError) as caught:
        parse_sprint({"id": 7, "name": "S1", "goal": nested_lists(1000)})
    quoted = "[" * 77 + "..."
    assert str(caught.value) == f"Invalid sprint goal `{quoted}`: expected a string."
