"""The loaded tables the models read, with the columns and types of the table contract.

A model reads a loaded table through `{{ source('name') }}`, which renders a subquery selecting
exactly these columns, cast to these types. A column the loader did not create becomes a typed
NULL, because dlt creates no column whose values were all NULL. An optional table that was never
loaded becomes an empty typed relation, so the views exist and report nothing for it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceTable:
    """A loaded table: its columns with SQL types valid on DuckDB and PostgreSQL.

    Attributes:
        columns: column name to type, in output order.
        required_columns: columns without which the table is unusable.
        is_required: whether `apply` fails when the table is missing.
    """

    columns: dict[str, str]
    required_columns: tuple[str, ...] = ()
    is_required: bool = False


TIMESTAMP = "timestamptz"

SOURCE_TABLES: dict[str, SourceTable] = {
    "issues": SourceTable(
        columns={
            "id": "bigint",
            "key": "text",
            "project_id": "bigint",
            "project_key": "text",
            "project_name": "text",
            "summary": "text",
            "issue_type_id": "bigint",
            "issue_type": "text",
            "is_subtask": "boolean",
            "status_id": "bigint",
            "status": "text",
            "status_category": "text",
            "priority_id": "bigint",
            "priority": "text",
            "resolution_id": "bigint",
            "resolution": "text",
            "assignee_account_id": "text",
            "reporter_account_id": "text",
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
            "resolved_at": TIMESTAMP,
            "due_date": "date",
            "parent_id": "bigint",
            "parent_key": "text",
            "time_original_estimate_seconds": "double precision",
            "time_estimate_seconds": "double precision",
            "time_spent_seconds": "double precision",
            "is_deleted": "boolean",
        },
        required_columns=("id", "key", "created_at"),
        is_required=True,
    ),
    "issue_changelog": SourceTable(
        columns={
            "issue_id": "bigint",
            "history_id": "bigint",
            "item_position": "bigint",
            "created_at": TIMESTAMP,
            "author_account_id": "text",
            "field": "text",
            "field_id": "text",
            "field_type": "text",
            "from_value": "text",
            "from_string": "text",
            "to_value": "text",
            "to_string": "text",
        },
        required_columns=("issue_id", "created_at", "field"),
    ),
    "issue_comments": SourceTable(
        columns={
            "id": "bigint",
            "issue_id": "bigint",
            "author_account_id": "text",
            "created_at": TIMESTAMP,
        },
        required_columns=("issue_id",),
    ),
    "worklogs": SourceTable(
        columns={
            "id": "bigint",
            "issue_id": "bigint",
            "author_account_id": "text",
            "started_at": TIMESTAMP,
            "time_spent_seconds": "double precision",
        },
        required_columns=("issue_id",),
    ),
    "issue_sprints": SourceTable(
        columns={"issue_id": "bigint", "sprint_id": "bigint", "position": "bigint"},
        required_columns=("issue_id", "sprint_id"),
    ),
    "sprints": SourceTable(
        columns={
            "id": "bigint",
            "name": "text",
            "state": "text",
            "board_id": "bigint",
            "goal": "text",
            "start_at": TIMESTAMP,
            "end_at": TIMESTAMP,
            "completed_at": TIMESTAMP,
        },
        required_columns=("id",),
    ),
    "issue_fix_versions": SourceTable(
        columns={"issue_id": "bigint", "version_id": "bigint", "version_name": "text"},
        required_columns=("issue_id",),
    ),
    "issue_affected_versions": SourceTable(
        columns={"issue_id": "bigint", "version_id": "bigint", "version_name": "text"},
        required_columns=("issue_id",),
    ),
    "users": SourceTable(
        columns={"account_id": "text", "display_name": "text", "is_active": "boolean"},
        required_columns=("account_id",),
    ),
    "statuses": SourceTable(
        columns={
            "id": "bigint",
            "name": "text",
            "status_category": "text",
            "status_category_name": "text",
        },
        required_columns=("id",),
    ),
}


def source_table(name: str, story_points_columns: tuple[str, ...] = ()) -> SourceTable:
    """Return the contract of table `name`; `issues` gains the configured story points columns.

    Raises:
        KeyError: when `name` is not a table the models may read.
    """
    table = SOURCE_TABLES[name]
    if name != "issues" or not story_points_columns:
        return table
    columns = dict(table.columns)
    for column in story_points_columns:
        columns.setdefault(column, "double precision")
    return SourceTable(columns, table.required_columns, table.is_required)
