"""Rows of the collection tables (changelog, comments, worklogs) and the reference tables.

Each builder takes one Jira object as the REST API returns it and returns one row, or a list
of rows for a changelog history. Rich text goes through `adf_to_text`, instants become aware
UTC datetimes, and numeric ids become ints. A value of the wrong type raises `PayloadError`
naming the table, the object id and the value.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import pyarrow as pa

from pipelines.errors import PayloadError
from pipelines.ids import parse_id
from pipelines.json_text import json_text, quote_value
from pipelines.normalize.adf import adf_to_text
from pipelines.normalize.arrow import (
    CONVERSION_ERRORS,
    Misfit,
    describe_column,
    find_misfit,
    row_issue_key,
)
from pipelines.normalize.fields import FieldCatalog
from pipelines.normalize.issues import SYSTEM_COLUMNS
from pipelines.normalize.timestamps import parse_date, parse_instant
from pipelines.normalize.values import user_id

# The separators of `json.dumps`, which `body_adf` and changelog values are written with.
_JSON_SEPARATORS = (", ", ": ")

COLLECTION_COLUMNS: dict[str, dict[str, str]] = {
    "issue_changelog": {
        "issue_id": "bigint",
        "history_id": "bigint",
        "item_position": "bigint",
        "created_at": "timestamp",
        "author_account_id": "text",
        "field": "text",
        "field_id": "text",
        "field_type": "text",
        "from_value": "text",
        "from_string": "text",
        "to_value": "text",
        "to_string": "text",
    },
    "issue_comments": {
        "id": "bigint",
        "issue_id": "bigint",
        "author_account_id": "text",
        "update_author_account_id": "text",
        "created_at": "timestamp",
        "updated_at": "timestamp",
        "body_text": "text",
        "body_adf": "json",
        "visibility_type": "text",
        "visibility_value": "text",
    },
    "worklogs": {
        "id": "bigint",
        "issue_id": "bigint",
        "author_account_id": "text",
        "started_at": "timestamp",
        "time_spent_seconds": "bigint",
        "comment_text": "text",
        "created_at": "timestamp",
        "updated_at": "timestamp",
    },
}

REFERENCE_COLUMNS: dict[str, dict[str, str]] = {
    "users": {
        "account_id": "text",
        "display_name": "text",
        "account_type": "text",
        "is_active": "bool",
        "time_zone": "text",
    },
    "projects": {
        "id": "bigint",
        "key": "text",
        "name": "text",
        "project_type": "text",
        "is_archived": "bool",
    },
    "statuses": {
        "id": "bigint",
        "name": "text",
        "status_category": "text",
        "status_category_name": "text",
    },
    "priorities": {"id": "bigint", "name": "text"},
    "issue_types": {"id": "bigint", "name": "text", "is_subtask": "bool"},
    "resolutions": {"id": "bigint", "name": "text"},
    "versions": {
        "id": "bigint",
        "project_id": "bigint",
        "name": "text",
        "is_released": "bool",
        "is_archived": "bool",
        "release_date": "date",
    },
    "components": {"id": "bigint", "project_id": "bigint", "name": "text"},
    "fields": {
        "field_id": "text",
        "name": "text",
        "is_custom": "bool",
        "schema_type": "text",
        "schema_items": "text",
        "schema_custom": "text",
        "column_name": "text",
    },
}

_ARROW_TYPES: dict[str, pa.DataType] = {
    "bigint": pa.int64(),
    "text": pa.string(),
    "bool": pa.bool_(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
    "json": pa.string(),
}


# The Jira source of each column that a row builder copies without conversion, for error
# messages. Each source is a path inside the object that the row is built from.
_COLUMN_SOURCES: dict[str, str] = {
    "issue_changelog.field": "items[].field",
    "issue_changelog.field_id": "items[].fieldId",
    "issue_changelog.field_type": "items[].fieldtype",
    "issue_comments.visibility_type": "visibility.type",
    "issue_comments.visibility_value": "visibility.value",
    "worklogs.time_spent_seconds": "timeSpentSeconds",
    "users.display_name": "displayName",
    "users.account_type": "accountType",
    "users.is_active": "active",
    "users.time_zone": "timeZone",
    "projects.key": "key",
    "projects.name": "name",
    "projects.project_type": "projectTypeKey",
    "statuses.name": "name",
    "statuses.status_category": "statusCategory.key",
    "statuses.status_category_name": "statusCategory.name",
    "priorities.name": "name",
    "issue_types.name": "name",
    "issue_types.is_subtask": "subtask",
    "resolutions.name": "name",
    "versions.name": "name",
    "versions.is_released": "released",
    "versions.is_archived": "archived",
    "components.name": "name",
    "fields.name": "name",
    "fields.schema_type": "schema.type",
    "fields.schema_items": "schema.items",
    "fields.schema_custom": "schema.custom",
}
# The Jira object each collection row comes from and the column with its id, for error messages.
_COLLECTION_RECORDS: dict[str, tuple[str, str]] = {
    "issue_changelog": ("changelog history", "history_id"),
    "issue_comments": ("comment", "id"),
    "worklogs": ("worklog", "id"),
}
# The key column of the reference tables whose key is not `id`.
_REFERENCE_KEYS = {"users": "account_id", "fields": "field_id"}
# Collections that incremental runs read only for the issues of the run's window. Worklogs are
# not among them, because the worklog change feed resumes where the last run that loaded
# worklogs stopped.
_READ_ONLY_IN_WINDOW = ("issue_changelog", "issue_comments")


def table_schema(table: str) -> pa.Schema:
    """Return the fixed arrow schema of a collection or reference table.

    Raises:
        ValueError: `table` is not a collection or reference table.
    """
    columns = COLLECTION_COLUMNS.get(table) or REFERENCE_COLUMNS.get(table)
    if columns is None:
        raise ValueError(f"Unknown table `{table}`: expected a collection or reference table.")
    return pa.schema([pa.field(name, _ARROW_TYPES[kind]) for name, kind in columns.items()])


def rows_to_arrow(
    table: str,
    rows: list[dict[str, Any]],
    *,
    issues: Sequence[dict[str, Any]] = (),
    endpoint: str | None = None,
) -> pa.Table:
    """Build an arrow table with the fixed schema of `table`; a missing key is null.

    Args:
        table: a collection or reference table.
        rows: rows from the builders of this module.
        issues: `issues` rows (`id` and `key`) of the issues that collection rows belong
            to. Only error messages read them, to name the issue key of a row.
        endpoint: the API path that reference rows were read from, for error messages.
            The row's `project_id` replaces `{project_id}` in it.

    Raises:
        ValueError: `table` is not a collection or reference table.
        PayloadError: a value does not fit its column's type, such as a number where Jira
            sends a project key. The message names the issue or the record, the Jira field,
            the column, the value and its JSON type.
    """
    schema = table_schema(table)
    try:
        arrays = [pa.array([row.get(f.name) for row in rows], type=f.type) for f in schema]
    except CONVERSION_ERRORS:
        # Finding the value is slow, so it runs only after the conversion failed.
        misfit = find_misfit(rows, schema)
        if misfit is None:
            raise
        raise _misfit_error(table, misfit, issues, endpoint) from None
    return pa.Table.from_arrays(arrays, schema=schema)


def skip_table_advice(table: str) -> str:
    """Return the sentences that tell how to load the other tables while `table` fails."""
    advice = f"To load the other tables meanwhile, add `--skip-tables {table}`."
    if table in _READ_ONLY_IN_WINDOW:
        advice += (
            " After removing that option, run once with `--full-refresh`, because "
            f"incremental runs do not read the `{table}` rows of issues that changed while "
            "the table was skipped."
        )
    return advice


def _misfit_error(
    table: str,
    misfit: Misfit,
    issues: Sequence[dict[str, Any]],
    endpoint: str | None,
) -> PayloadError:
    where = describe_column(f"{table}.{misfit.column.name}", _COLUMN_SOURCES)
    advice = (
        f"Jira's REST API returns {misfit.expected} there, so check for a proxy or an app that "
        f"changes the responses between Jira and jira-etl. {skip_table_advice(table)}"
    )
    if table in COLLECTION_COLUMNS:
        noun, id_column = _COLLECTION_RECORDS[table]
        record = quote_value(misfit.row.get(id_column))
        issue_key = row_issue_key(table, misfit.row, issues)
        return PayloadError(
            f"Issue `{issue_key}`, table `{table}`: {where} of {noun} `{record}` "
            f"{misfit.describe()} {advice}",
            issue_key=issue_key,
        )
    id_column = _REFERENCE_KEYS.get(table, "id")
    record = f"record with {id_column} `{quote_value(misfit.row.get(id_column))}`"
    if endpoint is not None:
        path = endpoint.replace("{project_id}", quote_value(misfit.row.get("project_id")))
        record += f" from `{path}`"
    return PayloadError(f"Table `{table}`, {record}: {where} {misfit.describe()} {advice}")


# Collections


def changelog_rows(issue_id: int, history: dict[str, Any]) -> list[dict[str, Any]]:
    """Turn one changelog history into one `issue_changelog` row per changed item.

    Args:
        issue_id: the issue the history belongs to.
        history: `{"id", "author", "created", "items": [...]}` from a changelog endpoint.

    Returns:
        The rows in item order; `item_position` counts from 0 within the history.
    """
    history_id = _int(history.get("id"), "issue_changelog", history)
    created = _instant(history.get("created"), "issue_changelog", history_id)
    author = _user(history.get("author"), "issue_changelog", history_id)
    items = history.get("items")
    if not isinstance(items, list):
        raise PayloadError(
            f"Changelog history `{history_id}` of issue `{issue_id}` has no `items` list."
        )
    rows = []
    for position, item in enumerate(items):
        if not isinstance(item, dict):
            raise PayloadError(
                f"Changelog history `{history_id}` of issue `{issue_id}` has item "
                f"`{quote_value(item)}`, expected an object."
            )
        rows.append(
            {
                "issue_id": issue_id,
                "history_id": history_id,
                "item_position": position,
                "created_at": created,
                "author_account_id": author,
                "field": item.get("field"),
                "field_id": item.get("fieldId"),
                "field_type": item.get("fieldtype"),
                "from_value": _text(item.get("from")),
                "from_string": _text(item.get("fromString")),
                "to_value": _text(item.get("to")),
                "to_string": _text(item.get("toString")),
            }
        )
    return rows


def comment_row(issue_id: int, comment: dict[str, Any]) -> dict[str, Any]:
    """Turn one comment (ADF body on Cloud, wiki markup on Data Center) into a row."""
    comment_id = _int(comment.get("id"), "issue_comments", comment)
    body = comment.get("body")
    visibility = _object(comment.get("visibility"), "issue_comments", comment_id, "visibility")
    return {
        "id": comment_id,
        "issue_id": issue_id,
        "author_account_id": _user(comment.get("author"), "issue_comments", comment_id),
        "update_author_account_id": _user(
            comment.get("updateAuthor"), "issue_comments", comment_id
        ),
        "created_at": _instant(comment.get("created"), "issue_comments", comment_id),
        "updated_at": _instant(comment.get("updated"), "issue_comments", comment_id),
        "body_text": _rich_text(body, "issue_comments", comment_id),
        "body_adf": json_text(body, separators=_JSON_SEPARATORS)
        if isinstance(body, dict)
        else None,
        "visibility_type": visibility.get("type"),
        "visibility_value": visibility.get("value"),
    }


def worklog_row(worklog: dict[str, Any], issue_id: int | None = None) -> dict[str, Any]:
    """Turn one worklog into a row; `issue_id` wins over the worklog's own `issueId`."""
    worklog_id = _int(worklog.get("id"), "worklogs", worklog)
    owner = issue_id if issue_id is not None else _int(worklog.get("issueId"), "worklogs", worklog)
    seconds = worklog.get("timeSpentSeconds")
    if seconds is not None and (not isinstance(seconds, int) or isinstance(seconds, bool)):
        raise PayloadError(
            f"Worklog `{worklog_id}` has timeSpentSeconds `{quote_value(seconds)}`, "
            "expected a whole number of seconds."
        )
    return {
        "id": worklog_id,
        "issue_id": owner,
        "author_account_id": _user(worklog.get("author"), "worklogs", worklog_id),
        "started_at": _instant(worklog.get("started"), "worklogs", worklog_id),
        "time_spent_seconds": seconds,
        "comment_text": _rich_text(worklog.get("comment"), "worklogs", worklog_id),
        "created_at": _instant(worklog.get("created"), "worklogs", worklog_id),
        "updated_at": _instant(worklog.get("updated"), "worklogs", worklog_id),
    }


# Reference tables


def user_row(user: dict[str, Any]) -> dict[str, Any]:
    """Turn a user into a `users` row; the account id falls back to the Data Center key."""
    return {
        "account_id": _user(user, "users", user.get("displayName")),
        "display_name": user.get("displayName"),
        "account_type": user.get("accountType"),
        "is_active": user.get("active"),
        "time_zone": user.get("timeZone"),
    }


def project_row(project: dict[str, Any]) -> dict[str, Any]:
    """Turn a project into a `projects` row; listings without `archived` are of live projects."""
    return {
        "id": _int(project.get("id"), "projects", project),
        "key": project.get("key"),
        "name": project.get("name"),
        "project_type": project.get("projectTypeKey"),
        "is_archived": bool(project.get("archived", False)),
    }


def status_row(status: dict[str, Any]) -> dict[str, Any]:
    status_id = _int(status.get("id"), "statuses", status)
    category = _object(status.get("statusCategory"), "statuses", status_id, "statusCategory")
    return {
        "id": status_id,
        "name": status.get("name"),
        "status_category": category.get("key"),
        "status_category_name": category.get("name"),
    }


def named_row(table: str, value: dict[str, Any]) -> dict[str, Any]:
    """Turn a priority or resolution into an `{id, name}` row of `table`."""
    return {"id": _int(value.get("id"), table, value), "name": value.get("name")}


def issue_type_row(issue_type: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": _int(issue_type.get("id"), "issue_types", issue_type),
        "name": issue_type.get("name"),
        "is_subtask": issue_type.get("subtask"),
    }


def version_row(version: dict[str, Any], project_id: int | None = None) -> dict[str, Any]:
    """Turn a project version into a `versions` row; `project_id` fills a missing `projectId`."""
    release = version.get("releaseDate")
    owner = version.get("projectId", project_id)
    try:
        release_date: date | None = parse_date(release) if release else None
    except ValueError:
        raise PayloadError(
            f"Version `{version.get('id')}` has releaseDate `{quote_value(release)}`, "
            "expected a date YYYY-MM-DD."
        ) from None
    return {
        "id": _int(version.get("id"), "versions", version),
        "project_id": _int(owner, "versions", version) if owner is not None else None,
        "name": version.get("name"),
        "is_released": version.get("released"),
        "is_archived": version.get("archived"),
        "release_date": release_date,
    }


def component_row(component: dict[str, Any], project_id: int | None = None) -> dict[str, Any]:
    """Turn a project component into a `components` row."""
    owner = component.get("projectId", project_id)
    return {
        "id": _int(component.get("id"), "components", component),
        "project_id": _int(owner, "components", component) if owner is not None else None,
        "name": component.get("name"),
    }


def field_rows(fields: list[dict[str, Any]], catalog: FieldCatalog) -> list[dict[str, Any]]:
    """Turn the `/field` response into `fields` rows, one per field id.

    `column_name` is the `issues` column (or `table.column` for list fields) that carries the
    field: the catalog's column for custom fields, the fixed column for the system fields this
    project loads, else None.
    """
    rows = []
    for field in fields:
        field_id = field.get("id")
        if not isinstance(field_id, str) or not field_id:
            raise PayloadError(f"Field object `{quote_value(field)}` has no string `id`.")
        schema = field.get("schema")
        schema = schema if isinstance(schema, dict) else {}
        spec = catalog.specs.get(field_id)
        column = spec.column if spec is not None and spec.column else None
        rows.append(
            {
                "field_id": field_id,
                "name": field.get("name"),
                "is_custom": bool(field.get("custom")),
                "schema_type": schema.get("type"),
                "schema_items": schema.get("items"),
                "schema_custom": schema.get("custom"),
                "column_name": column or SYSTEM_COLUMNS.get(field_id),
            }
        )
    return rows


# Value readers


def _int(value: Any, table: str, owner: Any) -> int:
    number = parse_id(value)
    if number is not None:
        return number
    raise PayloadError(
        f"Invalid id `{quote_value(value)}` in a `{table}` object `{quote_value(owner)}`: "
        "expected a numeric id."
    )


def _object(value: Any, table: str, owner: Any, name: str) -> dict[str, Any]:
    """Return an optional nested object, or {} when it is null or absent."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    raise PayloadError(
        f"Invalid `{name}` `{quote_value(value)}` in `{table}` object `{quote_value(owner)}`: "
        "expected an object."
    )


def _instant(value: Any, table: str, owner: Any) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_instant(value)
    except ValueError:
        raise PayloadError(
            f"Invalid instant `{quote_value(value)}` in `{table}` object `{quote_value(owner)}`: "
            "expected ISO 8601 with a UTC offset."
        ) from None


def _user(value: Any, table: str, owner: Any) -> str | None:
    try:
        return user_id(value)
    except ValueError:
        raise PayloadError(
            f"Invalid user `{quote_value(value)}` in `{table}` object `{quote_value(owner)}`: "
            "expected an object."
        ) from None


def _rich_text(value: Any, table: str, owner: Any) -> str | None:
    try:
        return adf_to_text(value)
    except TypeError:
        raise PayloadError(
            f"Invalid rich text `{quote_value(value)}` in `{table}` object `{quote_value(owner)}`: "
            "expected an ADF document or a wiki markup string."
        ) from None


def _text(value: Any) -> str | None:
    # Changelog values are strings; a number from an older server keeps its digits.
    if value is None or isinstance(value, str):
        return value
    return json_text(value, separators=_JSON_SEPARATORS)
