"""Fixed arrow schemas and dlt column hints for the tables built from issues."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from pipelines.errors import PayloadError
from pipelines.normalize.arrow import arrow_table, table_columns
from pipelines.normalize.columns import TABLE_NAMES
from pipelines.normalize.fields import FieldCatalog
from pipelines.normalize.issues import normalize_issues

PLUGIN = "com.atlassian.jira.plugin.system.customfieldtypes:"

CATALOG = FieldCatalog.from_fields(
    [
        {
            "id": "customfield_10016",
            "name": "Story Points",
            "custom": True,
            "schema": {"type": "number", "custom": PLUGIN + "float", "customId": 10016},
        },
        {
            "id": "customfield_10015",
            "name": "Start date",
            "custom": True,
            "schema": {"type": "date", "custom": PLUGIN + "datepicker", "customId": 10015},
        },
        {
            "id": "customfield_10018",
            "name": "Parent Link",
            "custom": True,
            "schema": {"type": "any", "custom": "com.atlassian.jpo:jpo-custom-field-parent"},
        },
    ]
)


def test_empty_issues_table_keeps_types() -> None:
    table = arrow_table("issues", [], CATALOG)
    assert table.num_rows == 0
    assert table.schema.field("id").type == pa.int64()
    assert table.schema.field("created_at").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("due_date").type == pa.date32()
    assert table.schema.field("is_deleted").type == pa.bool_()
    assert table.schema.field("story_points").type == pa.float64()
    assert table.schema.field("start_date").type == pa.date32()
    assert table.schema.field("parent_link").type == pa.string()


def test_all_null_column_keeps_type() -> None:
    table = arrow_table("sprints", [{"id": 1}, {"id": 2}], CATALOG)
    assert table.column("start_at").null_count == 2
    assert table.schema.field("start_at").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("board_id").type == pa.int64()


def test_pragati_tables_build(samples_dir: Path) -> None:
    issues = json.loads((samples_dir / "pragati_search_jql_page_v3.json").read_text())["issues"]
    batch = normalize_issues(issues, CATALOG)
    for name in TABLE_NAMES:
        table = arrow_table(name, batch.tables[name], CATALOG)
        assert table.num_rows == len(batch.tables[name]), name
    issues_table = arrow_table("issues", batch.tables["issues"], CATALOG)
    first = issues_table.slice(0, 1).to_pylist()[0]
    assert first["key"] == "TMSP-64"
    assert first["created_at"] == datetime(2024, 7, 26, 10, 52, 23, 916000, tzinfo=UTC)
    assert issues_table.column("story_points").null_count == 50


def test_number_column_stays_double() -> None:
    rows = [{"id": 1, "story_points": 5.0}, {"id": 2, "story_points": 3.5}]
    table = arrow_table("issues", rows, CATALOG)
    assert table.column("story_points").to_pylist() == [5.0, 3.5]
    assert table.schema.field("story_points").type == pa.float64()


def test_table_columns_hints() -> None:
    hints = table_columns("issues", CATALOG)
    assert hints["id"] == {"data_type": "bigint", "nullable": True}
    assert hints["created_at"]["data_type"] == "timestamp"
    assert hints["description_adf"]["data_type"] == "json"
    assert hints["story_points"]["data_type"] == "double"
    assert hints["start_date"]["data_type"] == "date"
    assert hints["parent_link"]["data_type"] == "json"
    assert list(table_columns("issue_sprints", CATALOG)) == ["issue_id", "sprint_id", "position"]


def test_unknown_table_raises() -> None:
    with pytest.raises(ValueError, match="Unknown table"):
        arrow_table("issue_comments", [], CATALOG)


# Wrong-typed values in columns that `normalize_issues` copies from the payload as they are.
# Each case mutates one issue of a recorded page: (sample, issue key, mutation, table, column,
# Jira field path, JSON type of the value written).
Mutation = Callable[[dict[str, Any]], None]


def _set_project_key(issue: dict[str, Any]) -> None:
    issue["fields"]["project"]["key"] = 10000


def _set_status_name(issue: dict[str, Any]) -> None:
    issue["fields"]["status"]["name"] = {"value": "To Do"}


def _set_status_category_key(issue: dict[str, Any]) -> None:
    issue["fields"]["status"]["statusCategory"]["key"] = 2


def _set_issue_type_subtask(issue: dict[str, Any]) -> None:
    issue["fields"]["issuetype"]["subtask"] = "false"


def _set_parent_key(issue: dict[str, Any]) -> None:
    issue["fields"]["parent"]["key"] = ["TMSP-63"]


def _set_issue_key(issue: dict[str, Any]) -> None:
    issue["key"] = 64


def _set_component_name(issue: dict[str, Any]) -> None:
    issue["fields"]["components"][0]["name"] = 10001


def _set_fix_version_name(issue: dict[str, Any]) -> None:
    issue["fields"]["fixVersions"][0]["name"] = 1.5


def _set_affected_version_name(issue: dict[str, Any]) -> None:
    # The recorded issues have no affected versions, so the issue's real fix version goes there.
    version = copy.deepcopy(issue["fields"]["fixVersions"][0])
    version["name"] = {"name": version["name"]}
    issue["fields"]["versions"] = [version]


def _set_link_type_name(issue: dict[str, Any]) -> None:
    issue["fields"]["issuelinks"][0]["type"]["name"] = 10000


def _set_linked_issue_key(issue: dict[str, Any]) -> None:
    link = issue["fields"]["issuelinks"][0]
    other = link.get("outwardIssue") or link["inwardIssue"]
    other["key"] = True


WRONG_TYPES = [
    ("pragati", "TMSP-63", _set_project_key, "issues", "project_key", "project.key", "number"),
    ("pragati", "TMSP-63", _set_status_name, "issues", "status", "status.name", "object"),
    (
        "pragati",
        "TMSP-63",
        _set_status_category_key,
        "issues",
        "status_category",
        "status.statusCategory.key",
        "number",
    ),
    (
        "pragati",
        "TMSP-63",
        _set_issue_type_subtask,
        "issues",
        "is_subtask",
        "issuetype.subtask",
        "string",
    ),
    ("pragati", "TMSP-64", _set_parent_key, "issues", "parent_key", "parent.key", "array"),
    (
        "airbyte",
        "TESTKEY13-1",
        _set_component_name,
        "issue_components",
        "component_name",
        "components[].name",
        "number",
    ),
    (
        "devlake",
        "EE-2",
        _set_fix_version_name,
        "issue_fix_versions",
        "version_name",
        "fixVersions[].name",
        "number",
    ),
    (
        "devlake",
        "EE-3",
        _set_affected_version_name,
        "issue_affected_versions",
        "version_name",
        "versions[].name",
        "object",
    ),
    (
        "pragati",
        "TMSP-23",
        _set_link_type_name,
        "issue_links",
        "link_type",
        "issuelinks[].type.name",
        "number",
    ),
    (
        "pragati",
        "TMSP-23",
        _set_linked_issue_key,
        "issue_links",
        "linked_issue_key",
        "issuelinks[].outwardIssue.key or inwardIssue.key",
        "boolean",
    ),
]

SAMPLE_FILES = {
    "pragati": "pragati_search_jql_page_v3.json",
    "devlake": "devlake_board_issues_v2.json",
    "airbyte": "airbyte_search_issues_v3.json",
}


def _page(samples_dir: Path, sample: str) -> list[dict[str, Any]]:
    data = json.loads((samples_dir / SAMPLE_FILES[sample]).read_text())
    return data["issues"] if isinstance(data, dict) else data


@pytest.mark.parametrize(
    ("sample", "key", "mutate", "table", "column", "source", "json_type"),
    WRONG_TYPES,
    ids=[case[2].__name__.removeprefix("_set_") for case in WRONG_TYPES],
)
def test_wrong_type_names_issue_and_column(
    samples_dir: Path,
    sample: str,
    key: str,
    mutate: Mutation,
    table: str,
    column: str,
    source: str,
    json_type: str,
) -> None:
    page = _page(samples_dir, sample)
    # The recorded page converts, so the failure below comes from the mutation.
    original = normalize_issues(page, CATALOG)
    arrow_table(table, original.tables[table], CATALOG)
    page = copy.deepcopy(page)
    target = next(issue for issue in page if issue["key"] == key)
    mutate(target)
    batch = normalize_issues(page, CATALOG)
    id_column = "id" if table == "issues" else "issue_id"
    assert any(row[id_column] == int(target["id"]) for row in batch.tables[table])
    with pytest.raises(PayloadError) as caught:
        arrow_table(table, batch.tables[table], CATALOG, issues=batch.tables["issues"])
    message = str(caught.value)
    qualified = column if table == "issues" else f"{table}.{column}"
    assert caught.value.issue_key == key
    assert message.startswith(f"Issue `{key}`: "), message
    assert f"field `{source}` (column `{qualified}`)" in message
    assert f"(a JSON {json_type})" in message
    assert "check for a proxy or an app that changes the responses" in message
    assert "Traceback" not in message


def test_wrong_type_in_issue_key_names_id(samples_dir: Path) -> None:
    page = copy.deepcopy(_page(samples_dir, "pragati"))
    issue = page[1]
    issue_id = issue["id"]
    _set_issue_key(issue)
    batch = normalize_issues(page, CATALOG)
    with pytest.raises(PayloadError) as caught:
        arrow_table("issues", batch.tables["issues"], CATALOG)
    message = str(caught.value)
    assert message.startswith(f"Issue `{issue_id}`: column `key` has value `64` (a JSON number)")
    assert "expected a string" in message


def test_child_row_without_issue_rows_names_id(samples_dir: Path) -> None:
    page = copy.deepcopy(_page(samples_dir, "airbyte"))
    _set_component_name(page[0])
    batch = normalize_issues(page, CATALOG)
    with pytest.raises(PayloadError) as caught:
        arrow_table("issue_components", batch.tables["issue_components"], CATALOG)
    assert caught.value.issue_key == page[0]["id"]
    assert str(caught.value).startswith(f"Issue `{page[0]['id']}`: ")


def test_sprint_row_of_wrong_type_names_row() -> None:
    rows = [{"id": 1, "name": "Sprint 1"}, {"id": 2, "name": 2}]
    with pytest.raises(PayloadError) as caught:
        arrow_table("sprints", rows, CATALOG)
    assert caught.value.issue_key is None
    assert str(caught.value).startswith(
        "Table `sprints`, row with id `2`: column `sprints.name` has value `2` (a JSON number), "
        "expected a string."
    )
