"""Issue JSON to rows of `issues`, its child tables and `sprints`.

A child table's rows for an issue replace the stored ones only when the payload carried that
collection. `NormalizedBatch.complete` lists those issue ids per child table: a key missing from
`fields` (a field that was not requested) is never read as an empty list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from dlt.common.json import json as dlt_json

from pipelines.errors import PayloadError
from pipelines.ids import parse_id, written_integer
from pipelines.json_text import json_text, quote_value
from pipelines.normalize.adf import adf_to_text
from pipelines.normalize.columns import CHILD_TABLE_NAMES, TABLE_NAMES
from pipelines.normalize.fields import FieldCatalog
from pipelines.normalize.sprints import parse_sprint
from pipelines.normalize.timestamps import parse_date, parse_instant
from pipelines.normalize.values import SINGLE_CONVERTERS, multi_item, user_id

FLAVORS = ("cloud", "datacenter")

# The fixed column each system field fills, named in error messages.
SYSTEM_COLUMNS = {
    "project": "project_id",
    "summary": "summary",
    "issuetype": "issue_type_id",
    "status": "status_id",
    "priority": "priority_id",
    "resolution": "resolution_id",
    "assignee": "assignee_account_id",
    "reporter": "reporter_account_id",
    "creator": "creator_account_id",
    "created": "created_at",
    "updated": "updated_at",
    "resolutiondate": "resolved_at",
    "duedate": "due_date",
    "parent": "parent_id",
    "description": "description_text",
    "environment": "environment_text",
    "timeoriginalestimate": "time_original_estimate_seconds",
    "timeestimate": "time_estimate_seconds",
    "timespent": "time_spent_seconds",
    "labels": "issue_labels.label",
    "components": "issue_components.component_id",
    "fixVersions": "issue_fix_versions.version_id",
    "versions": "issue_affected_versions.version_id",
    "issuelinks": "issue_links.link_id",
}

# (Jira field, child table, id column, name column) of the list fields with fixed tables.
_NAMED_LISTS = (
    ("components", "issue_components", "component_id", "component_name"),
    ("fixVersions", "issue_fix_versions", "version_id", "version_name"),
    ("versions", "issue_affected_versions", "version_id", "version_name"),
)


@dataclass
class NormalizedBatch:
    """Rows built from one batch of issues.

    Attributes:
        tables: rows per table name (`issues`, the child tables and `sprints`).
        issue_ids: the ids of the issues, in payload order.
        complete: per child table, the ids of issues whose collection was in the payload, so
            their stored rows can be replaced by the rows in `tables`.
    """

    tables: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {name: [] for name in TABLE_NAMES}
    )
    issue_ids: list[int] = field(default_factory=list)
    complete: dict[str, set[int]] = field(
        default_factory=lambda: {name: set() for name in CHILD_TABLE_NAMES}
    )


class _ValueProblem(Exception):
    """A value with the wrong type; carries the field id and the value for the message."""

    def __init__(self, field_id: str, value: Any, expected: str, column: str | None = None):
        super().__init__(expected)
        self.field_id = field_id
        self.value = value
        self.expected = expected
        self.column = column


def normalize_issues(
    raw_issues: list[dict[str, Any]], catalog: FieldCatalog, *, flavor: str = "cloud"
) -> NormalizedBatch:
    """Turn issues from a search page into rows of `issues`, its child tables and `sprints`.

    Args:
        raw_issues: issue objects as Jira returns them (`id`, `key`, `fields`).
        catalog: the field catalog, which names and types the custom field columns.
        flavor: `cloud` or `datacenter`. Rich text is read by its shape either way (an ADF
            object or a wiki markup string); on `datacenter` `description_adf` is always None.

    Returns:
        The rows per table, the issue ids and the complete collections per child table.

    Raises:
        PayloadError: an issue has no `fields`, no numeric `id` or no parseable `updated`, or a
            value does not have the type its field requires. The message names the issue key,
            the field id and column, the value and what was expected.
        ValueError: `flavor` is not `cloud` or `datacenter`.
    """
    if flavor not in FLAVORS:
        raise ValueError(f"Invalid flavor `{flavor}`: expected one of {', '.join(FLAVORS)}.")
    keep_adf = flavor == "cloud"
    batch = NormalizedBatch()
    sprints: dict[int, dict[str, Any]] = {}
    single = [
        (s.field_id, s.column or s.field_id, SINGLE_CONVERTERS[s.kind]) for s in catalog.single
    ]
    custom = _CustomLists(
        multi=tuple((spec.field_id, spec.column) for spec in catalog.multi),
        sprint=tuple((spec.field_id, spec.column) for spec in catalog.sprint),
    )
    for raw in raw_issues:
        try:
            _normalize_one(raw, single, custom, keep_adf, batch, sprints)
        except _ValueProblem as problem:
            issue_key = _issue_label(raw)
            column = problem.column or _column_of(catalog, problem.field_id)
            column_text = f" (column `{column}`)" if column else ""
            raise PayloadError(
                f"Issue `{issue_key}`: field `{problem.field_id}`{column_text} has value "
                f"`{quote_value(problem.value)}`, {problem.expected.rstrip('.')}.",
                issue_key=issue_key,
            ) from None
    batch.tables["sprints"] = list(sprints.values())
    return batch


@dataclass(frozen=True)
class _CustomLists:
    """The `(field id, column)` pairs of the catalog's multi-valued and Sprint fields."""

    multi: tuple[tuple[str, str | None], ...]
    sprint: tuple[tuple[str, str | None], ...]


def _normalize_one(
    raw: dict[str, Any],
    single: list[tuple[str, str, Any]],
    custom: _CustomLists,
    keep_adf: bool,
    batch: NormalizedBatch,
    sprints: dict[int, dict[str, Any]],
) -> None:
    if not isinstance(raw, dict):
        raise _ValueProblem("issue", raw, "expected an issue object")
    fields = raw.get("fields")
    if not isinstance(fields, dict):
        raise _ValueProblem("fields", fields, "expected the issue's `fields` object")
    issue_id = _to_int(raw.get("id"), "id")
    if issue_id is None:
        raise _ValueProblem("id", raw.get("id"), "expected a numeric issue id")
    updated = fields.get("updated")
    if updated is None:
        raise _ValueProblem("updated", updated, "expected the `updated` instant")

    row = _fixed_columns(raw, fields, issue_id, keep_adf)
    for field_id, column, convert in single:
        value = fields.get(field_id)
        if value is None:
            row[column] = None
            continue
        try:
            row[column] = convert(value)
        except ValueError as error:
            raise _ValueProblem(field_id, value, str(error), column) from None
    batch.tables["issues"].append(row)
    batch.issue_ids.append(issue_id)
    _child_rows(issue_id, fields, custom, batch, sprints)


def _fixed_columns(
    raw: dict[str, Any], fields: dict[str, Any], issue_id: int, keep_adf: bool
) -> dict[str, Any]:
    project = _object(fields, "project")
    issue_type = _object(fields, "issuetype")
    status = _object(fields, "status")
    category = status.get("statusCategory") or {}
    if not isinstance(category, dict):
        raise _ValueProblem(
            "status", category, "expected `statusCategory` to be an object", "status_category"
        )
    priority = _object(fields, "priority")
    resolution = _object(fields, "resolution")
    parent = _object(fields, "parent")
    description = fields.get("description")
    timetracking = _object(fields, "timetracking")
    return {
        "id": issue_id,
        "key": raw.get("key"),
        "project_id": _to_int(project.get("id"), "project"),
        "project_key": project.get("key"),
        "project_name": project.get("name"),
        "summary": _text(fields, "summary"),
        "issue_type_id": _to_int(issue_type.get("id"), "issuetype"),
        "issue_type": issue_type.get("name"),
        "is_subtask": issue_type.get("subtask"),
        "status_id": _to_int(status.get("id"), "status"),
        "status": status.get("name"),
        "status_category": category.get("key"),
        "status_category_name": category.get("name"),
        "priority_id": _to_int(priority.get("id"), "priority"),
        "priority": priority.get("name"),
        "resolution_id": _to_int(resolution.get("id"), "resolution"),
        "resolution": resolution.get("name"),
        "assignee_account_id": _user(fields, "assignee"),
        "reporter_account_id": _user(fields, "reporter"),
        "creator_account_id": _user(fields, "creator"),
        "created_at": _instant(fields, "created"),
        "updated_at": _instant(fields, "updated"),
        "resolved_at": _instant(fields, "resolutiondate"),
        "due_date": _date(fields, "duedate"),
        "parent_id": _to_int(parent.get("id"), "parent"),
        "parent_key": parent.get("key"),
        "description_text": _rich_text(fields, "description"),
        "description_adf": _adf_json(description) if keep_adf else None,
        "environment_text": _rich_text(fields, "environment"),
        "time_original_estimate_seconds": _seconds(
            fields, "timeoriginalestimate", timetracking, "originalEstimateSeconds"
        ),
        "time_estimate_seconds": _seconds(
            fields, "timeestimate", timetracking, "remainingEstimateSeconds"
        ),
        "time_spent_seconds": _seconds(fields, "timespent", timetracking, "timeSpentSeconds"),
        "is_deleted": False,
        "deleted_at": None,
    }


def _child_rows(
    issue_id: int,
    fields: dict[str, Any],
    custom: _CustomLists,
    batch: NormalizedBatch,
    sprints: dict[int, dict[str, Any]],
) -> None:
    tables, complete = batch.tables, batch.complete

    if "labels" in fields:
        label_rows = tables["issue_labels"]
        for label in _list(fields, "labels"):
            if not isinstance(label, str):
                raise _ValueProblem("labels", label, "expected a string label")
            label_rows.append({"issue_id": issue_id, "label": label})
        complete["issue_labels"].add(issue_id)

    for field_id, table, id_column, name_column in _NAMED_LISTS:
        if field_id not in fields:
            continue
        rows = tables[table]
        for item in _list(fields, field_id):
            if not isinstance(item, dict):
                raise _ValueProblem(field_id, item, "expected an object with `id` and `name`")
            rows.append(
                {
                    "issue_id": issue_id,
                    id_column: _to_int(item.get("id"), field_id),
                    name_column: item.get("name"),
                }
            )
        complete[table].add(issue_id)

    if "issuelinks" in fields:
        link_rows = tables["issue_links"]
        for link in _list(fields, "issuelinks"):
            link_rows.append(_link_row(issue_id, link))
        complete["issue_links"].add(issue_id)

    _field_value_rows(issue_id, fields, custom.multi, batch)
    _sprint_rows(issue_id, fields, custom.sprint, batch, sprints)


def _field_value_rows(
    issue_id: int,
    fields: dict[str, Any],
    multi: tuple[tuple[str, str | None], ...],
    batch: NormalizedBatch,
) -> None:
    value_rows = batch.tables["issue_field_values"]
    carried = 0
    for field_id, column in multi:
        if field_id not in fields:
            continue
        carried += 1
        for position, item in enumerate(_list(fields, field_id)):
            try:
                value_id, value = multi_item(item)
            except ValueError as error:
                raise _ValueProblem(field_id, item, str(error), column) from None
            value_rows.append(
                {
                    "issue_id": issue_id,
                    "field_id": field_id,
                    "field_column": column,
                    "position": position,
                    "value_id": value_id,
                    "value": value,
                }
            )
    if carried == len(multi):
        batch.complete["issue_field_values"].add(issue_id)


def _sprint_rows(
    issue_id: int,
    fields: dict[str, Any],
    sprint_fields: tuple[tuple[str, str | None], ...],
    batch: NormalizedBatch,
    sprints: dict[int, dict[str, Any]],
) -> None:
    sprint_rows = batch.tables["issue_sprints"]
    carried = 0
    position = 0
    for field_id, column in sprint_fields:
        if field_id not in fields:
            continue
        carried += 1
        for value in _list(fields, field_id):
            try:
                sprint = parse_sprint(value)
            except ValueError as error:
                raise _ValueProblem(field_id, value, str(error), column) from None
            sprints[sprint["id"]] = sprint
            sprint_rows.append(
                {"issue_id": issue_id, "sprint_id": sprint["id"], "position": position}
            )
            position += 1
    if carried == len(sprint_fields):
        batch.complete["issue_sprints"].add(issue_id)


def _link_row(issue_id: int, link: Any) -> dict[str, Any]:
    if not isinstance(link, dict):
        raise _ValueProblem("issuelinks", link, "expected an issue link object")
    link_type = link.get("type") or {}
    if "outwardIssue" in link:
        direction, other = "outward", link.get("outwardIssue") or {}
    elif "inwardIssue" in link:
        direction, other = "inward", link.get("inwardIssue") or {}
    else:
        raise _ValueProblem("issuelinks", link, "expected `inwardIssue` or `outwardIssue`")
    if not isinstance(other, dict):
        raise _ValueProblem(
            "issuelinks",
            link,
            f"expected `{direction}Issue` to be an object",
            "issue_links.linked_issue_id",
        )
    return {
        "issue_id": issue_id,
        "link_id": _to_int(link.get("id"), "issuelinks"),
        "link_type": link_type.get("name") if isinstance(link_type, dict) else None,
        "direction": direction,
        "linked_issue_id": _to_int(other.get("id"), "issuelinks", "issue_links.linked_issue_id"),
        "linked_issue_key": other.get("key"),
    }


# Readers of single system fields. Each raises _ValueProblem on a value of the wrong type.


def _object(fields: dict[str, Any], field_id: str) -> dict[str, Any]:
    value = fields.get(field_id)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _ValueProblem(field_id, value, "expected an object")
    return value


def _list(fields: dict[str, Any], field_id: str) -> list[Any]:
    value = fields.get(field_id)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _ValueProblem(field_id, value, "expected a list")
    return value


def _text(fields: dict[str, Any], field_id: str) -> str | None:
    value = fields.get(field_id)
    if value is None or isinstance(value, str):
        return value
    raise _ValueProblem(field_id, value, "expected a string")


def _to_int(value: Any, field_id: str, column: str | None = None) -> int | None:
    if value is None:
        return None
    number = parse_id(value)
    if number is not None:
        return number
    if written_integer(value) is not None:
        raise _ValueProblem(
            field_id, value, "expected an id within the range of a 64-bit integer", column
        )
    raise _ValueProblem(field_id, value, "expected a numeric id", column)


def _user(fields: dict[str, Any], field_id: str) -> str | None:
    try:
        return user_id(fields.get(field_id))
    except ValueError as error:
        raise _ValueProblem(field_id, fields.get(field_id), str(error)) from None


def _instant(fields: dict[str, Any], field_id: str) -> datetime | None:
    value = fields.get(field_id)
    if value is None:
        return None
    try:
        return parse_instant(value)
    except ValueError:
        raise _ValueProblem(field_id, value, "expected an ISO 8601 instant") from None


def _date(fields: dict[str, Any], field_id: str) -> date | None:
    value = fields.get(field_id)
    if value is None:
        return None
    try:
        return parse_date(value)
    except ValueError:
        raise _ValueProblem(field_id, value, "expected a date YYYY-MM-DD") from None


def _rich_text(fields: dict[str, Any], field_id: str) -> str | None:
    value = fields.get(field_id)
    if value is None or isinstance(value, dict | str):
        return adf_to_text(value)
    raise _ValueProblem(field_id, value, "expected an ADF document or a wiki markup string")


def _adf_json(value: Any) -> str | None:
    if not isinstance(value, dict):
        return None
    try:
        # dlt's JSON codec (orjson) writes compact UTF-8 JSON, several times faster than `json`.
        return dlt_json.dumps(value)
    except TypeError:
        # orjson rejects documents nested 255 levels deep or more (orjson 3.x), and integers
        # beyond 64 bits. `json_text` writes those, with the same compact separators.
        return json_text(value)


def _seconds(
    fields: dict[str, Any], field_id: str, timetracking: dict[str, Any], tracking_key: str
) -> int | None:
    # The plain field wins; `timetracking` fills in when only it was requested.
    value = fields.get(field_id)
    if value is None and field_id not in fields:
        value = timetracking.get(tracking_key)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise _ValueProblem(field_id, value, "expected a whole number of seconds")


def _issue_label(raw: Any) -> str:
    if isinstance(raw, dict):
        return quote_value(raw.get("key") or raw.get("id") or "<no key>")
    return "<not an object>"


def _column_of(catalog: FieldCatalog, field_id: str) -> str | None:
    spec = catalog.specs.get(field_id)
    if spec is not None and spec.column is not None:
        return spec.column
    return SYSTEM_COLUMNS.get(field_id)
