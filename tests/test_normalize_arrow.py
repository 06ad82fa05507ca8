"""Fixed arrow schemas and dlt column hints for the tables built from issues."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

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
