"""Fixed columns of the tables built from issues, with their dlt data types.

The `issues` table also gets one column per single-valued custom field of the field catalog,
after these fixed columns.
"""

from __future__ import annotations

ISSUE_COLUMNS: dict[str, str] = {
    "id": "bigint",
    "key": "text",
    "project_id": "bigint",
    "project_key": "text",
    "project_name": "text",
    "summary": "text",
    "issue_type_id": "bigint",
    "issue_type": "text",
    "is_subtask": "bool",
    "status_id": "bigint",
    "status": "text",
    "status_category": "text",
    "status_category_name": "text",
    "priority_id": "bigint",
    "priority": "text",
    "resolution_id": "bigint",
    "resolution": "text",
    "assignee_account_id": "text",
    "reporter_account_id": "text",
    "creator_account_id": "text",
    "created_at": "timestamp",
    "updated_at": "timestamp",
    "resolved_at": "timestamp",
    "due_date": "date",
    "parent_id": "bigint",
    "parent_key": "text",
    "description_text": "text",
    "description_adf": "json",
    "environment_text": "text",
    "time_original_estimate_seconds": "bigint",
    "time_estimate_seconds": "bigint",
    "time_spent_seconds": "bigint",
    "is_deleted": "bool",
    "deleted_at": "timestamp",
}

CHILD_TABLE_COLUMNS: dict[str, dict[str, str]] = {
    "issue_labels": {"issue_id": "bigint", "label": "text"},
    "issue_components": {"issue_id": "bigint", "component_id": "bigint", "component_name": "text"},
    "issue_fix_versions": {"issue_id": "bigint", "version_id": "bigint", "version_name": "text"},
    "issue_affected_versions": {
        "issue_id": "bigint",
        "version_id": "bigint",
        "version_name": "text",
    },
    "issue_field_values": {
        "issue_id": "bigint",
        "field_id": "text",
        "field_column": "text",
        "position": "bigint",
        "value_id": "text",
        "value": "text",
    },
    "issue_links": {
        "issue_id": "bigint",
        "link_id": "bigint",
        "link_type": "text",
        "direction": "text",
        "linked_issue_id": "bigint",
        "linked_issue_key": "text",
    },
    "issue_sprints": {"issue_id": "bigint", "sprint_id": "bigint", "position": "bigint"},
}

SPRINT_COLUMNS: dict[str, str] = {
    "id": "bigint",
    "name": "text",
    "state": "text",
    "board_id": "bigint",
    "goal": "text",
    "start_at": "timestamp",
    "end_at": "timestamp",
    "completed_at": "timestamp",
}

# The Jira source of each text or bool column that `normalize_issues` copies without
# conversion, for error messages. Sources are paths inside the issue's `fields`, and the
# columns of child tables are written `table.column`.
COLUMN_SOURCES: dict[str, str] = {
    "project_key": "project.key",
    "project_name": "project.name",
    "issue_type": "issuetype.name",
    "is_subtask": "issuetype.subtask",
    "status": "status.name",
    "status_category": "status.statusCategory.key",
    "status_category_name": "status.statusCategory.name",
    "priority": "priority.name",
    "resolution": "resolution.name",
    "parent_key": "parent.key",
    "issue_components.component_name": "components[].name",
    "issue_fix_versions.version_name": "fixVersions[].name",
    "issue_affected_versions.version_name": "versions[].name",
    "issue_links.link_type": "issuelinks[].type.name",
    "issue_links.linked_issue_key": "issuelinks[].outwardIssue.key or inwardIssue.key",
}

# Every table that `normalize_issues` fills, in load order.
TABLE_NAMES: tuple[str, ...] = ("issues", *CHILD_TABLE_COLUMNS, "sprints")
CHILD_TABLE_NAMES: tuple[str, ...] = tuple(CHILD_TABLE_COLUMNS)
