"""normalize_issues on recorded search pages, with expected values read from the JSON."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from pipelines.errors import PayloadError
from pipelines.normalize.columns import CHILD_TABLE_NAMES, ISSUE_COLUMNS
from pipelines.normalize.fields import FieldCatalog
from pipelines.normalize.issues import normalize_issues
from tests.deep_json import (
    nested_lists,
    nested_lists_json,
    quoted_doc,
    quoted_doc_json,
    quoted_doc_levels,
)

PLUGIN = "com.atlassian.jira.plugin.system.customfieldtypes:"
GREENHOPPER = "com.pyxis.greenhopper.jira:"


def custom(field_id: str, name: str, schema_type: str, custom_type: str, **extra: Any) -> dict:
    number = int(field_id.removeprefix("customfield_"))
    schema = {"type": schema_type, "custom": custom_type, "customId": number, **extra}
    return {"id": field_id, "name": name, "custom": True, "schema": schema}


def load(samples_dir: Path, name: str) -> Any:
    return json.loads((samples_dir / name).read_text())


def rows_of(batch: Any, table: str, issue_id: int) -> list[dict[str, Any]]:
    return [row for row in batch.tables[table] if row["issue_id"] == issue_id]


# The pragati site has no field list in the sample; these entries follow its values.
PRAGATI_FIELDS = [
    custom("customfield_10015", "Start date", "date", PLUGIN + "datepicker"),
    custom("customfield_10019", "Rank", "any", GREENHOPPER + "gh-lexo-rank"),
    custom("customfield_10020", "Sprint", "array", GREENHOPPER + "gh-sprint", items="json"),
    custom("customfield_10016", "Story point estimate", "number", GREENHOPPER + "jsw-story-points"),
    custom("customfield_10070", "Team members", "array", PLUGIN + "multiuserpicker", items="user"),
    custom("customfield_10072", "Developer", "string", PLUGIN + "textfield"),
    custom("customfield_10018", "Parent Link", "any", "com.atlassian.jpo:jpo-custom-field-parent"),
]


@pytest.fixture(scope="module")
def pragati(samples_dir: Path) -> tuple[Any, FieldCatalog]:
    catalog = FieldCatalog.from_fields(PRAGATI_FIELDS)
    issues = load(samples_dir, "pragati_search_jql_page_v3.json")["issues"]
    return normalize_issues(issues, catalog), catalog


def test_pragati_issue_rows(pragati: tuple[Any, FieldCatalog]) -> None:
    batch, catalog = pragati
    assert len(batch.tables["issues"]) == 50
    assert batch.issue_ids[:3] == [10213, 10212, 10204]
    first = batch.tables["issues"][0]
    expected_columns = list(ISSUE_COLUMNS) + [s.column for s in catalog.custom_columns()]
    assert list(first) == expected_columns
    assert first["id"] == 10213
    assert first["key"] == "TMSP-64"
    assert first["project_key"] == "TMSP"
    assert first["issue_type"] == "Sub-task"
    assert first["is_subtask"] is True
    assert first["status"] == "To Do"
    assert first["status_category"] == "new"
    assert first["parent_id"] == 10212
    assert first["parent_key"] == "TMSP-63"
    assert first["assignee_account_id"] is None
    assert first["reporter_account_id"] == "acc-0006"
    # 2024-07-26T16:22:23.916+0530 in UTC.
    assert first["created_at"] == datetime(2024, 7, 26, 10, 52, 23, 916000, tzinfo=UTC)
    assert first["due_date"] == date(2024, 7, 30)
    assert first["start_date"] == date(2024, 7, 31)
    assert first["developer"] == "user-6"
    assert first["rank"] == "0|i0019z:"
    assert first["story_point_estimate"] is None
    assert first["is_deleted"] is False


def test_pragati_story_and_links(pragati: tuple[Any, FieldCatalog]) -> None:
    batch, _catalog = pragati
    by_key = {row["key"]: row for row in batch.tables["issues"]}
    story = by_key["TMSP-63"]
    assert story["status"] == "In Progress"
    assert story["status_category"] == "indeterminate"
    assert story["parent_key"] is None
    linked = by_key["TMSP-23"]
    assert linked["assignee_account_id"] == "acc-0006"
    assert linked["priority"] == "High"
    assert linked["description_text"] == "clone "
    assert json.loads(linked["description_adf"])["content"][0]["type"] == "paragraph"
    assert by_key["TMSP-25"]["developer"] == "First name"
    assert rows_of(batch, "issue_links", 10131) == [
        {
            "issue_id": 10131,
            "link_id": 10059,
            "link_type": "Cloners",
            "direction": "inward",
            "linked_issue_id": 10133,
            "linked_issue_key": "KAN-14",
        }
    ]


def test_pragati_child_tables(pragati: tuple[Any, FieldCatalog]) -> None:
    batch, _catalog = pragati
    assert batch.tables["issue_labels"] == []
    assert batch.tables["issue_components"] == []
    assert batch.tables["issue_sprints"] == []
    # Every issue lists the same four people in customfield_10070.
    assert len(batch.tables["issue_field_values"]) == 200
    assert rows_of(batch, "issue_field_values", 10213) == [
        {
            "issue_id": 10213,
            "field_id": "customfield_10070",
            "field_column": "team_members",
            "position": position,
            "value_id": f"acc-000{n}",
            "value": f"user-{n}",
        }
        for position, n in enumerate([5, 6, 7, 8])
    ]
    for table in CHILD_TABLE_NAMES:
        assert len(batch.complete[table]) == 50, table


def test_airbyte_issue(samples_dir: Path) -> None:
    catalog = FieldCatalog.from_fields(
        [
            custom("customfield_10012", "Epic Status", "option", PLUGIN + "select"),
            custom("customfield_10011", "Epic Name", "string", GREENHOPPER + "gh-epic-label"),
            custom("customfield_10009", "Target end", "datetime", PLUGIN + "datetime"),
            custom(
                "customfield_10003", "Approvers", "array", PLUGIN + "multiuserpicker", items="user"
            ),
        ]
    )
    issues = load(samples_dir, "airbyte_search_issues_v3.json")["issues"]
    batch = normalize_issues(issues, catalog)

    (row,) = batch.tables["issues"]
    assert row["id"] == 10627
    assert row["key"] == "TESTKEY13-1"
    assert row["project_id"] == 10016
    assert row["issue_type"] == "Epic"
    assert row["priority_id"] == 4
    assert row["assignee_account_id"] == "acc-0001"
    # 2022-06-09T16:29:31.871-0700 and 2022-12-08T02:22:18.889-0800 in UTC.
    assert row["created_at"] == datetime(2022, 6, 9, 23, 29, 31, 871000, tzinfo=UTC)
    assert row["updated_at"] == datetime(2022, 12, 8, 10, 22, 18, 889000, tzinfo=UTC)
    assert row["description_text"] == "Test issue"
    assert row["epic_status"] == "To Do"
    assert row["epic_name"] == "EPIC NAME TEXT"
    assert row["target_end"] == datetime(2022, 12, 9, 8, 0, tzinfo=UTC)

    assert batch.tables["issue_labels"] == [{"issue_id": 10627, "label": "test"}]
    assert batch.tables["issue_components"] == [
        {"issue_id": 10627, "component_id": 10065, "component_name": "Component 0"}
    ]
    assert rows_of(batch, "issue_field_values", 10627) == [
        {
            "issue_id": 10627,
            "field_id": "customfield_10003",
            "field_column": "approvers",
            "position": 0,
            "value_id": "acc-0001",
            "value": "user-1",
        }
    ]


DEVLAKE_FIELDS = [
    custom("customfield_10020", "Sprint", "array", GREENHOPPER + "gh-sprint", items="json"),
    custom("customfield_10015", "Start date", "date", PLUGIN + "datepicker"),
    custom("customfield_10060", "计划完成日期", "date", PLUGIN + "datepicker"),
    custom("customfield_10014", "Epic Link", "any", GREENHOPPER + "gh-epic-link"),
]


def test_devlake_board_issues(samples_dir: Path) -> None:
    catalog = FieldCatalog.from_fields(DEVLAKE_FIELDS)
    batch = normalize_issues(load(samples_dir, "devlake_board_issues_v2.json")["issues"], catalog)
    assert len(batch.tables["issues"]) == 33
    by_key = {row["key"]: row for row in batch.tables["issues"]}
    first = by_key["EE-1"]
    assert first["id"] == 10063
    assert first["status"] == "已完成"
    assert first["status_id"] == 10068
    assert first["status_category"] == "new"
    assert first["resolution"] == "完成"
    assert first["assignee_account_id"] == "acc-0011"
    # 2020-06-12T08:13:13.360+0800 in UTC.
    assert first["created_at"] == datetime(2020, 6, 12, 0, 13, 13, 360000, tzinfo=UTC)
    assert first["resolved_at"] == datetime(2020, 6, 19, 6, 31, 18, 495000, tzinfo=UTC)
    assert first["description_text"] is None
    assert by_key["EE-19"]["customfield_10060"] == date(2020, 6, 18)
    assert by_key["EE-19"]["start_date"] == date(2020, 6, 12)
    assert by_key["K5-2"]["epic_link"] == "K5-1"
    assert by_key["K5-2"]["parent_key"] == "K5-1"
    assert by_key["EE-14"]["time_original_estimate_seconds"] == 14400
    assert by_key["EE-14"]["time_estimate_seconds"] == 0
    assert by_key["EE-14"]["time_spent_seconds"] == 36000

    assert len(batch.tables["issue_labels"]) == 18
    assert rows_of(batch, "issue_labels", 10063) == [
        {"issue_id": 10063, "label": "frontEnd"},
        {"issue_id": 10063, "label": "Saas"},
    ]
    assert len(batch.tables["issue_fix_versions"]) == 20
    assert rows_of(batch, "issue_fix_versions", 10063) == [
        {"issue_id": 10063, "version_id": 10026, "version_name": "v2.7.0"}
    ]

    assert len(batch.tables["issue_sprints"]) == 30
    assert rows_of(batch, "issue_sprints", 10063) == [
        {"issue_id": 10063, "sprint_id": 7, "position": 0}
    ]
    sprints = {row["id"]: row for row in batch.tables["sprints"]}
    assert sorted(sprints) == [7, 17, 175]
    assert sprints[17]["name"] == "EE Sprint 9"
    assert sprints[175]["board_id"] == 92


def test_devlake_wiki_description_passes_through(samples_dir: Path) -> None:
    issue = copy.deepcopy(load(samples_dir, "devlake_board_issues_v2.json")["issues"][0])
    issue["fields"]["description"] = "h2. Plan\n* step [~accountid:acc-0011]"
    batch = normalize_issues([issue], FieldCatalog.from_fields(DEVLAKE_FIELDS))
    (row,) = batch.tables["issues"]
    assert row["description_text"] == "h2. Plan\n* step [~accountid:acc-0011]"
    assert row["description_adf"] is None


MATTERMOST_FIELDS = [
    custom("customfield_10070", "MJK - Date Time", "datetime", PLUGIN + "datetime"),
    custom("customfield_10071", "MJK - Labels", "array", PLUGIN + "labels", items="string"),
    custom("customfield_10072", "MJK - Number", "number", PLUGIN + "float"),
    custom("customfield_10073", "MJK - Radio Buttons", "option", PLUGIN + "radiobuttons"),
    custom("customfield_10074", "MJK - Select List", "option", PLUGIN + "select"),
    custom(
        "customfield_10075", "MJK - Checkboxes", "array", PLUGIN + "multicheckboxes", items="option"
    ),
    custom("customfield_10076", "MJK - Select List 3", "option", PLUGIN + "select"),
    custom(
        "customfield_10068", "MJK - Multi Select", "array", PLUGIN + "multiselect", items="option"
    ),
    custom("customfield_10069", "MJK - Date", "date", PLUGIN + "datepicker"),
    custom("customfield_10077", "MJK - Paragraph", "string", PLUGIN + "textarea"),
    custom("customfield_10079", "MJK - URL", "string", PLUGIN + "url"),
    custom("customfield_10080", "MJK - User Picker", "user", PLUGIN + "userpicker"),
    custom("customfield_10021", "Sprint", "array", GREENHOPPER + "gh-sprint", items="string"),
    custom("customfield_10014", "Epic Link", "any", GREENHOPPER + "gh-epic-link"),
    custom("customfield_10039", "Parent Link", "any", "com.atlassian.jpo:jpo-custom-field-parent"),
]


def test_mattermost_webhook_issue(samples_dir: Path) -> None:
    catalog = FieldCatalog.from_fields(MATTERMOST_FIELDS)
    issue = load(samples_dir, "mattermost_webhook_issue_created.json")["issue"]
    batch = normalize_issues([issue], catalog)
    (row,) = batch.tables["issues"]
    assert row["id"] == 10509
    assert row["key"] == "KT-22"
    assert row["project_id"] == 10008
    assert row["status_category_name"] == "New"
    assert row["assignee_account_id"] == "acc-0022"
    assert row["description_text"] == "The good description"
    assert row["description_adf"] is None
    # 2019-08-29T12:40:00.000-0700 in UTC.

    assert row["mjk_date_time"] == datetime(2019, 8, 29, 19, 40, tzinfo=UTC)
    assert row["mjk_number"] == 23.0
    assert isinstance(row["mjk_number"], float)
    assert row["mjk_radio_buttons"] == "1"
    assert row["mjk_select_list"] == "A"
    assert row["mjk_select_list_3"] == "1"
    assert row["mjk_date"] == date(2019, 8, 12)
    assert row["mjk_paragraph_text"] == "dwdwd"
    assert row["mjk_url"] == "https://google.com"
    assert row["mjk_user_picker"] == "acc-0022"
    assert row["epic_link"] == "KT-17"
    assert json.loads(row["parent_link"])["showField"] is False

    assert batch.tables["issue_labels"] == [
        {"issue_id": 10509, "label": "Label1"},
        {"issue_id": 10509, "label": "Label2"},
    ]
    assert batch.tables["issue_fix_versions"] == [
        {"issue_id": 10509, "version_id": 10000, "version_name": "version1"},
        {"issue_id": 10509, "version_id": 10001, "version_name": "version2"},
    ]
    values = [
        (r["field_column"], r["position"], r["value_id"], r["value"])
        for r in batch.tables["issue_field_values"]
    ]
    assert sorted(values) == [
        ("mjk_checkboxes", 0, "10037", "1"),
        ("mjk_checkboxes", 1, "10038", "2"),
        ("mjk_labels", 0, None, "value1"),
        ("mjk_labels", 1, None, "value2"),
        ("mjk_multi_select", 0, "10033", "1"),
        ("mjk_multi_select", 1, "10034", "2"),
    ]
    assert batch.tables["issue_sprints"] == [{"issue_id": 10509, "sprint_id": 1, "position": 0}]
    (sprint,) = batch.tables["sprints"]
    assert sprint["name"] == "SCRUM1 Sprint 1"
    assert sprint["board_id"] == 2


def test_missing_collections_are_not_complete(samples_dir: Path) -> None:
    issue = copy.deepcopy(load(samples_dir, "mattermost_webhook_issue_created.json")["issue"])
    for key in ("labels", "components", "issuelinks", "customfield_10068", "customfield_10021"):
        del issue["fields"][key]
    batch = normalize_issues([issue], FieldCatalog.from_fields(MATTERMOST_FIELDS))
    assert batch.complete["issue_labels"] == set()
    assert batch.complete["issue_components"] == set()
    assert batch.complete["issue_links"] == set()
    assert batch.complete["issue_field_values"] == set()
    assert batch.complete["issue_sprints"] == set()
    assert batch.complete["issue_fix_versions"] == {10509}
    assert batch.complete["issue_affected_versions"] == {10509}


def test_data_center_users_and_flavor(samples_dir: Path) -> None:
    issue = copy.deepcopy(load(samples_dir, "mattermost_webhook_issue_created.json")["issue"])
    issue["fields"]["assignee"] = {"key": "JIRAUSER10100", "name": "jdoe"}
    issue["fields"]["reporter"] = {"name": "asmith"}
    issue["fields"]["description"] = {"type": "doc", "content": []}
    batch = normalize_issues([issue], FieldCatalog.from_fields([]), flavor="datacenter")
    (row,) = batch.tables["issues"]
    assert row["assignee_account_id"] == "JIRAUSER10100"
    assert row["reporter_account_id"] == "asmith"
    assert row["description_adf"] is None
    with pytest.raises(ValueError, match="flavor"):
        normalize_issues([issue], FieldCatalog.from_fields([]), flavor="server")


def pragati_issue(samples_dir: Path) -> dict[str, Any]:
    return copy.deepcopy(load(samples_dir, "pragati_search_jql_page_v3.json")["issues"][0])


def test_issue_without_fields_raises(samples_dir: Path) -> None:
    issue = pragati_issue(samples_dir)
    del issue["fields"]
    with pytest.raises(PayloadError, match="TMSP-64") as caught:
        normalize_issues([issue], FieldCatalog.from_fields(PRAGATI_FIELDS))
    assert caught.value.issue_key == "TMSP-64"


def test_jiracli_issue_without_id_raises(samples_dir: Path) -> None:
    issue = load(samples_dir, "jiracli_issue.json")
    with pytest.raises(PayloadError, match="TEST-1") as caught:
        normalize_issues([issue], FieldCatalog.from_fields([]))
    assert caught.value.issue_key == "TEST-1"
    assert "numeric issue id" in str(caught.value)


@pytest.mark.parametrize("updated", [None, "last Tuesday"])
def test_unparseable_updated_raises(samples_dir: Path, updated: str | None) -> None:
    issue = pragati_issue(samples_dir)
    issue["fields"]["updated"] = updated
    with pytest.raises(PayloadError, match="TMSP-64.*`updated`") as caught:
        normalize_issues([issue], FieldCatalog.from_fields(PRAGATI_FIELDS))
    assert caught.value.issue_key == "TMSP-64"


def test_bad_number_names_field_and_column(samples_dir: Path) -> None:
    issue = pragati_issue(samples_dir)
    issue["fields"]["customfield_10016"] = "three and a half"
    with pytest.raises(PayloadError) as caught:
        normalize_issues([issue], FieldCatalog.from_fields(PRAGATI_FIELDS))
    message = str(caught.value)
    assert "`TMSP-64`" in message
    assert "`customfield_10016`" in message
    assert "`story_point_estimate`" in message
    assert "three and a half" in message
    assert "expected a number" in message


def test_dict_where_list_expected_raises(samples_dir: Path) -> None:
    issue = pragati_issue(samples_dir)
    issue["fields"]["customfield_10070"] = {"accountId": "acc-0005"}
    with pytest.raises(PayloadError, match="customfield_10070.*expected a list"):
        normalize_issues([issue], FieldCatalog.from_fields(PRAGATI_FIELDS))


def test_long_value_is_truncated(samples_dir: Path) -> None:
    issue = pragati_issue(samples_dir)
    issue["fields"]["customfield_10015"] = "x" * 500
    with pytest.raises(PayloadError) as caught:
        normalize_issues([issue], FieldCatalog.from_fields(PRAGATI_FIELDS))
    assert "x" * 77 + "..." in str(caught.value)
    assert "x" * 81 not in str(caught.value)


def test_system_field_error_names_column(samples_dir: Path) -> None:
    issue = pragati_issue(samples_dir)
    issue["fields"]["created"] = 1721990543916
    with pytest.raises(PayloadError, match=r"`created` \(column `created_at`\)"):
        normalize_issues([issue], FieldCatalog.from_fields(PRAGATI_FIELDS))


def test_status_category_not_object_raises(samples_dir: Path) -> None:
    issue = pragati_issue(samples_dir)
    issue["fields"]["status"]["statusCategory"] = "new"
    with pytest.raises(PayloadError) as caught:
        normalize_issues([issue], FieldCatalog.from_fields(PRAGATI_FIELDS))
    assert caught.value.issue_key == "TMSP-64"
    assert "field `status` (column `status_category`) has value `new`" in str(caught.value)
    assert "expected `statusCategory` to be an object" in str(caught.value)


def test_linked_issue_not_object_raises(samples_dir: Path) -> None:
    issues = load(samples_dir, "pragati_search_jql_page_v3.json")["issues"]
    issue = copy.deepcopy(next(i for i in issues if i["key"] == "TMSP-23"))
    link = issue["fields"]["issuelinks"][0]
    direction = "outward" if "outwardIssue" in link else "inward"
    link[f"{direction}Issue"] = "TMSP-22"
    with pytest.raises(PayloadError) as caught:
        normalize_issues([issue], FieldCatalog.from_fields(PRAGATI_FIELDS))
    assert caught.value.issue_key == "TMSP-23"
    assert "field `issuelinks` (column `issue_links.linked_issue_id`)" in str(caught.value)
    assert f"expected `{direction}Issue` to be an object" in str(caught.value)


# 300 levels is beyond orjson's encoder (254 levels); 1,020 is the deepest a description reaches
# in a search page that orjson decodes (1,024 levels, 4 of them above the description).
@pytest.mark.parametrize("depth", [300, 1020])
def test_deep_description_keeps_text_and_json(samples_dir: Path, depth: int) -> None:
    issue = pragati_issue(samples_dir)
    issue["fields"]["description"] = quoted_doc(depth)
    batch = normalize_issues([issue], FieldCatalog.from_fields(PRAGATI_FIELDS))
    (row,) = batch.tables["issues"]
    assert row["description_text"] == "> " * quoted_doc_levels(depth) + "deep"
    assert row["description_adf"] == quoted_doc_json(depth)


def test_deep_json_field_is_json_text(samples_dir: Path) -> None:
    issue = pragati_issue(samples_dir)
    # Parent Link has no known custom type, so its column contains the value as JSON text.
    issue["fields"]["customfield_10018"] = {"data": nested_lists(1000)}
    catalog = FieldCatalog.from_fields(PRAGATI_FIELDS)
    assert catalog["customfield_10018"].kind == "json"
    batch = normalize_issues([issue], catalog)
    (row,) = batch.tables["issues"]
    assert row["parent_link"] == '{"data":' + nested_lists_json(1000) + "}"


def test_deep_multi_value_items_are_json_text(samples_dir: Path) -> None:
    issue = pragati_issue(samples_dir)
    issue["fields"]["customfield_10070"] = [
        {"id": "7", "data": nested_lists(1000)},
        {"id": nested_lists(1000), "name": "deep id"},
    ]
    batch = normalize_issues([issue], FieldCatalog.from_fields(PRAGATI_FIELDS))
    rows = rows_of(batch, "issue_field_values", int(issue["id"]))
    assert [row["value_id"] for row in rows] == ["7", nested_lists_json(1000)]
    assert [row["value"] for row in rows] == [
        '{"id":"7","data":' + nested_lists_json(1000) + "}",
        "deep id",
    ]


def test_deep_value_of_wrong_type_is_quoted(samples_dir: Path) -> None:
    issue = pragati_issue(samples_dir)
    issue["fields"]["customfield_10016"] = nested_lists(1000)
    with pytest.raises(PayloadError) as caught:
        normalize_issues([issue], FieldCatalog.from_fields(PRAGATI_FIELDS))
    message = str(caught.value)
    assert caught.value.issue_key == "TMSP-64"
    assert "`customfield_10016` (column `story_point_estimate`)" in message
    assert "`" + "[" * 77 + "...`" in message
    assert "expected a number" in message


def test_deep_sprint_without_id_is_quoted(samples_dir: Path) -> None:
    issue = pragati_issue(samples_dir)
    issue["fields"]["customfield_10020"] = [{"name": "S1", "goal": nested_lists(1000)}]
    with pytest.raises(PayloadError) as caught:
        normalize_issues([issue], FieldCatalog.from_fields(PRAGATI_FIELDS))
    message = str(caught.value)
    assert caught.value.issue_key == "TMSP-64"
    assert "`customfield_10020` (column `sprint`)" in message
    assert ('Invalid sprint `{"name": "S1", "goal": ' + "[" * 100)[:77] in message
