"""Field catalog: kinds and types from the schema, unique and stable column names."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pipelines.normalize.fields import FieldCatalog, snake_case
from tests.deep_json import nested_lists

PLUGIN = "com.atlassian.jira.plugin.system.customfieldtypes:"


def custom(field_id: str, name: str, schema_type: str, custom_type: str, **extra: Any) -> dict:
    number = int(field_id.removeprefix("customfield_"))
    schema = {"type": schema_type, "custom": custom_type, "customId": number, **extra}
    return {"id": field_id, "name": name, "custom": True, "schema": schema}


def test_airbyte_fields_are_all_system(samples_dir: Path) -> None:
    fields = json.loads((samples_dir / "airbyte_fields_v3.json").read_text())
    catalog = FieldCatalog.from_fields(fields)
    assert len(catalog) == 3
    # The sample marks issuetype as custom; its `schema.system` still makes it a system field.
    assert catalog["issuetype"].is_custom is True
    assert catalog["issuetype"].kind == "skip"
    assert catalog["statuscategorychangedate"].kind == "skip"
    assert catalog["statuscategorychangedate"].schema_type == "datetime"
    assert catalog["parent"].kind == "skip"
    assert catalog["parent"].schema_type is None
    assert catalog.custom_columns() == []
    assert catalog.column_names() == {}


def test_jiracli_fields_number_column(samples_dir: Path) -> None:
    fields = json.loads((samples_dir / "jiracli_fields.json").read_text())
    catalog = FieldCatalog.from_fields(fields)
    spec = catalog["customfield_10111"]
    assert spec.name == "Original story points"
    assert spec.column == "original_story_points"
    assert spec.kind == "number"
    assert spec.data_type == "double"
    assert spec.is_custom is True
    assert spec.schema_custom == "com.atlassian.jpo:jpo-custom-field-original-story-points"
    assert catalog["fixVersions"].kind == "skip"
    assert catalog["fixVersions"].schema_items == "version"
    assert catalog["timespent"].column is None
    assert catalog.column_names() == {"customfield_10111": "original_story_points"}
    assert [s.field_id for s in catalog.custom_columns()] == ["customfield_10111"]


def test_kinds_follow_schema() -> None:
    catalog = FieldCatalog.from_fields(
        [
            custom(
                "customfield_10016",
                "Story point estimate",
                "number",
                "com.pyxis.greenhopper.jira:jsw-story-points",
            ),
            custom(
                "customfield_10020",
                "Sprint",
                "array",
                "com.pyxis.greenhopper.jira:gh-sprint",
                items="json",
            ),
            custom("customfield_10019", "Rank", "any", "com.pyxis.greenhopper.jira:gh-lexo-rank"),
            custom("customfield_10015", "Start date", "date", PLUGIN + "datepicker"),
            custom("customfield_10070", "Go live", "datetime", PLUGIN + "datetime"),
            custom("customfield_10071", "Notes", "string", PLUGIN + "textarea"),
            custom("customfield_10072", "Severity", "option", PLUGIN + "select"),
            custom("customfield_10073", "Reviewer", "user", PLUGIN + "userpicker"),
            custom("customfield_10074", "Region", "option-with-child", PLUGIN + "cascadingselect"),
            custom("customfield_10075", "Teams", "array", PLUGIN + "multiselect", items="option"),
            custom(
                "customfield_10076", "Approvers", "array", PLUGIN + "multiuserpicker", items="user"
            ),
            custom("customfield_10077", "Tags", "array", PLUGIN + "labels", items="string"),
            custom("customfield_10078", "Team links", "any", "com.example.app:team-links"),
        ]
    )
    expected = {
        "customfield_10016": ("story_point_estimate", "number", "double"),
        "customfield_10020": ("sprint", "sprint", None),
        "customfield_10019": ("rank", "string", "text"),
        "customfield_10015": ("start_date", "date", "date"),
        "customfield_10070": ("go_live", "datetime", "timestamp"),
        "customfield_10071": ("notes_text", "rich_text", "text"),
        "customfield_10072": ("severity", "option", "text"),
        "customfield_10073": ("reviewer", "user", "text"),
        "customfield_10074": ("region", "cascading", "text"),
        "customfield_10075": ("teams", "multi", None),
        "customfield_10076": ("approvers", "multi", None),
        "customfield_10077": ("tags", "multi", None),
        "customfield_10078": ("team_links", "json", "json"),
    }
    for field_id, (column, kind, data_type) in expected.items():
        spec = catalog[field_id]
        assert (spec.column, spec.kind, spec.data_type) == (column, kind, data_type), field_id
    assert [s.column for s in catalog.custom_columns()] == [
        "go_live",
        "notes_text",
        "rank",
        "region",
        "reviewer",
        "severity",
        "start_date",
        "story_point_estimate",
        "team_links",
    ]
    assert [s.field_id for s in catalog.multi] == [
        "customfield_10075",
        "customfield_10076",
        "customfield_10077",
    ]
    assert [s.field_id for s in catalog.sprint] == ["customfield_10020"]


def test_duplicate_names_get_custom_id() -> None:
    catalog = FieldCatalog.from_fields(
        [
            custom("customfield_10022", "Team", "string", PLUGIN + "textfield"),
            custom("customfield_10021", "Team", "option", PLUGIN + "select"),
            custom("customfield_10030", "Story Points", "number", PLUGIN + "float"),
        ]
    )
    assert catalog["customfield_10021"].column == "team_10021"
    assert catalog["customfield_10022"].column == "team_10022"
    assert catalog["customfield_10030"].column == "story_points"


def test_fixed_column_collision_gets_custom_id() -> None:
    catalog = FieldCatalog.from_fields(
        [
            custom("customfield_10040", "Status", "string", PLUGIN + "textfield"),
            custom("customfield_10041", "Summary", "string", PLUGIN + "textfield"),
            custom("customfield_10042", "Description", "string", PLUGIN + "textarea"),
        ]
    )
    assert catalog["customfield_10040"].column == "status_10040"
    assert catalog["customfield_10041"].column == "summary_10041"
    # `description_text` is a fixed column, so the rich text column needs the suffix too.
    assert catalog["customfield_10042"].column == "description_text_10042"


def test_previous_column_survives_rename() -> None:
    renamed = [custom("customfield_10016", "Effort (points)", "number", PLUGIN + "float")]
    assert FieldCatalog.from_fields(renamed)["customfield_10016"].column == "effort_points"
    catalog = FieldCatalog.from_fields(
        renamed, previous={"customfield_10016": "story_points", "customfield_99999": "gone"}
    )
    assert catalog["customfield_10016"].column == "story_points"
    assert catalog.column_names() == {"customfield_10016": "story_points"}


def test_stored_column_of_other_type_not_reused() -> None:
    # "Story Points" was a number field, and its replacement under a new id is a text field.
    replacement = [custom("customfield_10100", "Story Points", "string", PLUGIN + "textfield")]
    stored = {"story_points": "double", "severity": "text"}
    catalog = FieldCatalog.from_fields(replacement, stored_types=stored)
    assert catalog["customfield_10100"].column == "story_points_10100"

    # A replacement of the same type takes the stored column over.
    same_type = [custom("customfield_10101", "Story Points", "number", PLUGIN + "float")]
    catalog = FieldCatalog.from_fields(same_type, stored_types=stored)
    assert catalog["customfield_10101"].column == "story_points"


def test_previous_column_wins_over_new_name() -> None:
    # A new field named like a kept column must not take that column.
    catalog = FieldCatalog.from_fields(
        [
            custom("customfield_10016", "Effort", "number", PLUGIN + "float"),
            custom("customfield_10050", "Story points", "number", PLUGIN + "float"),
        ],
        previous={"customfield_10016": "story_points"},
    )
    assert catalog["customfield_10016"].column == "story_points"
    assert catalog["customfield_10050"].column == "story_points_10050"


@pytest.mark.parametrize(
    ("name", "column"),
    [
        ("Story point estimate", "story_point_estimate"),
        ("Fix Version/s", "fix_version_s"),
        ("1st response", "field_1st_response"),
        ("Café crème", "cafe_creme"),
        ("Größe", "grosse"),
        ("  MJK - Radio Buttons ", "mjk_radio_buttons"),
        ("状态", ""),
    ],
)
def test_snake_case_names(name: str, column: str) -> None:
    assert snake_case(name) == column


def test_name_without_ascii_letters_uses_field_id() -> None:
    catalog = FieldCatalog.from_fields(
        [custom("customfield_10060", "计划完成日期", "date", PLUGIN + "datepicker")]
    )
    assert catalog["customfield_10060"].column == "customfield_10060"


def test_from_issue_names() -> None:
    names = {"customfield_10016": "Story point estimate", "summary": "Summary"}
    schema = {
        "customfield_10016": {
            "type": "number",
            "custom": "com.pyxis.greenhopper.jira:jsw-story-points",
            "customId": 10016,
        },
        "summary": {"type": "string", "system": "summary"},
    }
    catalog = FieldCatalog.from_issue_names(names, schema)
    assert catalog["customfield_10016"].column == "story_point_estimate"
    assert catalog["customfield_10016"].is_custom is True
    assert catalog["summary"].kind == "skip"
    assert catalog["summary"].is_custom is False


def test_field_without_id_raises() -> None:
    with pytest.raises(ValueError, match="no `id`"):
        FieldCatalog.from_fields([{"name": "Nameless"}])


def test_deep_field_without_id_is_quoted() -> None:
    with pytest.raises(ValueError) as caught:
        FieldCatalog.from_fields([{"schema": nested_lists(1000)}])
    quoted = ('{"schema": ' + "[" * 100)[:77] + "..."
    assert str(caught.value) == f"Invalid field object `{quoted}`: it has no `id`."
