"""A small hand-built Jira dataset, loaded by plain SQL, for the reporting model tests.

Every expected value in the reporting tests was worked out by hand from the rows below, with
the clock fixed at AS_OF (Friday 2024-03-15 00:00 UTC). Weeks start on Monday: 2024-02-26,
2024-03-04 and 2024-03-11.

    PRJ-1 (101)  created Fri 03-01 09:00, To Do -> In Progress 03-02 10:00 -> In Review
                 03-04 10:00 -> Done 03-06 12:00 (resolved). Assigned 03-01 09:30.
                 Story points 2 -> 3 on 03-03. Added to Sprint 1 on 03-01 (before it started).
    PRJ-2 (102)  created Mon 03-04 08:00 with assignee acc-1, In Progress since 03-05 09:00,
                 reassigned to acc-2 03-07 15:00. Added to Sprint 1 on 03-05 (after it
                 started), carried into Sprint 2 when Sprint 1 closed.
    PRJ-3 (103)  created Wed 02-28 10:00, To Do all along, 5 points. In Sprint 1 from 03-01,
                 removed 03-06 10:00.
    PRJ-4 (104)  created Tue 03-05 10:00 in Sprint 1, To Do -> Done at 11:00 (never started).
    PRJ-5 (105)  deleted: its changelog, comments, worklogs and sprint must not count.
    OPS-1 (106)  created Mon 03-11 09:00 straight into In Review, no changelog.

    Sprint 1: started 03-04 09:00, completed 03-08 17:00. Sprint 2: active since 03-11 09:00.
    Sprint 3: future.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

AS_OF = datetime(2024, 3, 15, tzinfo=UTC)

CREATE_TABLES = [
    """create table {schema}.issues (
        id bigint, key text, project_id bigint, project_key text, project_name text,
        summary text, issue_type_id bigint, issue_type text, is_subtask boolean,
        status_id bigint, status text, status_category text, status_category_name text,
        priority_id bigint, priority text, resolution_id bigint, resolution text,
        assignee_account_id text, reporter_account_id text, creator_account_id text,
        created_at timestamptz, updated_at timestamptz, resolved_at timestamptz, due_date date,
        parent_id bigint, parent_key text, description_text text, description_adf text,
        environment_text text, time_original_estimate_seconds bigint,
        time_estimate_seconds bigint, time_spent_seconds bigint, is_deleted boolean,
        deleted_at timestamptz, story_points double precision, rank text
    )""",
    """create table {schema}.issue_changelog (
        issue_id bigint, history_id bigint, item_position bigint, created_at timestamptz,
        author_account_id text, field text, field_id text, field_type text, from_value text,
        from_string text, to_value text, to_string text
    )""",
    """create table {schema}.issue_comments (
        id bigint, issue_id bigint, author_account_id text, update_author_account_id text,
        created_at timestamptz, updated_at timestamptz, body_text text, body_adf text,
        visibility_type text, visibility_value text
    )""",
    """create table {schema}.worklogs (
        id bigint, issue_id bigint, author_account_id text, started_at timestamptz,
        time_spent_seconds bigint, comment_text text, created_at timestamptz,
        updated_at timestamptz
    )""",
    """create table {schema}.sprints (
        id bigint, name text, state text, board_id bigint, goal text, start_at timestamptz,
        end_at timestamptz, completed_at timestamptz
    )""",
    "create table {schema}.issue_sprints (issue_id bigint, sprint_id bigint, position bigint)",
    """create table {schema}.issue_fix_versions (
        issue_id bigint, version_id bigint, version_name text
    )""",
    """create table {schema}.issue_affected_versions (
        issue_id bigint, version_id bigint, version_name text
    )""",
    """create table {schema}.users (
        account_id text, display_name text, account_type text, is_active boolean,
        time_zone text
    )""",
    """create table {schema}.statuses (
        id bigint, name text, status_category text, status_category_name text
    )""",
]

ISSUE_COLUMNS = (
    "id, key, project_id, project_key, project_name, summary, issue_type, is_subtask, "
    "status_id, status, status_category, priority, resolution, assignee_account_id, "
    "reporter_account_id, created_at, updated_at, resolved_at, is_deleted, story_points"
)

INSERTS = [
    f"""insert into {{schema}}.issues ({ISSUE_COLUMNS}) values
    (101, 'PRJ-1', 10000, 'PRJ', 'Project', 'Export', 'Story', false, 5, 'Done', 'done',
        'High', 'Done', 'acc-1', 'acc-2', '2024-03-01 09:00:00+00', '2024-03-06 12:00:00+00',
        '2024-03-06 12:00:00+00', false, 3),
    (102, 'PRJ-2', 10000, 'PRJ', 'Project', 'Import', 'Story', false, 3, 'In Progress',
        'indeterminate', 'Medium', null, 'acc-2', 'acc-2', '2024-03-04 08:00:00+00',
        '2024-03-08 17:00:00+00', null, false, null),
    (103, 'PRJ-3', 10000, 'PRJ', 'Project', 'Search', 'Bug', false, 1, 'To Do', 'new',
        'Low', null, null, 'acc-1', '2024-02-28 10:00:00+00', '2024-03-06 10:00:00+00',
        null, false, 5),
    (104, 'PRJ-4', 10000, 'PRJ', 'Project', 'Typo', 'Bug', false, 5, 'Done', 'done',
        'Low', 'Done', null, 'acc-1', '2024-03-05 10:00:00+00', '2024-03-05 11:00:00+00',
        '2024-03-05 11:00:00+00', false, null),
    (105, 'PRJ-5', 10000, 'PRJ', 'Project', 'Deleted', 'Task', false, 5, 'Done', 'done',
        'Low', 'Done', 'acc-1', 'acc-1', '2024-03-02 10:00:00+00', '2024-03-03 10:00:00+00',
        '2024-03-03 10:00:00+00', true, 8),
    (106, 'OPS-1', 10001, 'OPS', 'Operations', 'Rotate keys', 'Task', false, 4, 'In Review',
        'indeterminate', 'High', null, 'acc-2', 'acc-2', '2024-03-11 09:00:00+00',
        '2024-03-11 09:00:00+00', null, false, null)""",
    """insert into {schema}.issue_changelog (issue_id, history_id, item_position, created_at,
        author_account_id, field, field_id, field_type, from_value, from_string, to_value,
        to_string) values
    (101, 1001, 0, '2024-03-02 10:00:00+00', 'acc-1', 'status', 'status', 'jira',
        '1', 'To Do', '3', 'In Progress'),
    (101, 1002, 0, '2024-03-04 10:00:00+00', 'acc-1', 'status', 'status', 'jira',
        '3', 'In Progress', '4', 'In Review'),
    (101, 1003, 0, '2024-03-06 12:00:00+00', 'acc-2', 'status', 'status', 'jira',
        '4', 'In Review', '5', 'Done'),
    (101, 1003, 1, '2024-03-06 12:00:00+00', 'acc-2', 'resolution', 'resolution', 'jira',
        null, null, '10000', 'Done'),
    (101, 1004, 0, '2024-03-01 09:30:00+00', 'acc-2', 'assignee', 'assignee', 'jira',
        null, null, 'acc-1', 'Ada'),
    (101, 1005, 0, '2024-03-03 08:00:00+00', 'acc-1', 'Story Points', 'customfield_10016',
        'custom', null, '2', null, '3'),
    (101, 1006, 0, '2024-03-01 10:00:00+00', 'acc-1', 'Sprint', 'customfield_10020',
        'custom', '', '', '1', 'Sprint 1'),
    (102, 2001, 0, '2024-03-05 09:00:00+00', 'acc-2', 'status', 'status', 'jira',
        '1', 'To Do', '3', 'In Progress'),
    (102, 2002, 0, '2024-03-07 15:00:00+00', 'acc-1', 'assignee', 'assignee', 'jira',
        'acc-1', 'Ada', 'acc-2', 'Bob'),
    (102, 2003, 0, '2024-03-05 08:00:00+00', 'acc-2', 'Sprint', 'customfield_10020',
        'custom', '', '', '1', 'Sprint 1'),
    (102, 2004, 0, '2024-03-08 17:00:00+00', 'acc-2', 'Sprint', 'customfield_10020',
        'custom', '1', 'Sprint 1', '1, 2', 'Sprint 1, Sprint 2'),
    (103, 3001, 0, '2024-03-01 12:00:00+00', 'acc-1', 'Sprint', 'customfield_10020',
        'custom', '', '', '1', 'Sprint 1'),
    (103, 3002, 0, '2024-03-06 10:00:00+00', 'acc-1', 'Sprint', 'customfield_10020',
        'custom', '1', 'Sprint 1', '', ''),
    (104, 4001, 0, '2024-03-05 11:00:00+00', 'acc-1', 'status', 'status', 'jira',
        '1', 'To Do', '5', 'Done'),
    (105, 5001, 0, '2024-03-03 10:00:00+00', 'acc-1', 'status', 'status', 'jira',
        '3', 'In Progress', '5', 'Done'),
    (105, 5002, 0, '2024-03-02 11:00:00+00', 'acc-1', 'Sprint', 'customfield_10020',
        'custom', '', '', '1', 'Sprint 1')""",
    """insert into {schema}.issue_comments (id, issue_id, author_account_id, created_at) values
    (1, 101, 'acc-2', '2024-03-02 11:00:00+00'),
    (2, 101, 'acc-1', '2024-03-03 11:00:00+00'),
    (3, 102, 'acc-1', '2024-03-06 11:00:00+00'),
    (4, 105, 'acc-1', '2024-03-02 12:00:00+00')""",
    """insert into {schema}.worklogs (id, issue_id, author_account_id, started_at,
        time_spent_seconds) values
    (1, 101, 'acc-1', '2024-03-04 10:00:00+00', 3600),
    (2, 101, 'acc-1', '2024-03-05 10:00:00+00', 7200),
    (3, 102, 'acc-1', '2024-03-06 09:00:00+00', 1800),
    (4, 102, 'acc-2', '2024-03-11 09:00:00+00', 5400),
    (5, 105, 'acc-1', '2024-03-04 09:00:00+00', 9999)""",
    """insert into {schema}.sprints (id, name, state, board_id, start_at, end_at, completed_at)
    values
    (1, 'Sprint 1', 'closed', 7, '2024-03-04 09:00:00+00', '2024-03-08 17:00:00+00',
        '2024-03-08 17:00:00+00'),
    (2, 'Sprint 2', 'active', 7, '2024-03-11 09:00:00+00', '2024-03-22 17:00:00+00', null),
    (3, 'Sprint 3', 'future', 7, null, null, null)""",
    """insert into {schema}.issue_sprints (issue_id, sprint_id, position) values
    (101, 1, 0), (102, 1, 0), (102, 2, 1), (104, 1, 0), (105, 1, 0)""",
    """insert into {schema}.issue_fix_versions values
    (101, 1, 'v1.0'), (101, 2, 'v0.9'), (105, 1, 'v1.0')""",
    "insert into {schema}.issue_affected_versions values (102, 2, 'v0.9')",
    """insert into {schema}.users (account_id, display_name, is_active) values
    ('acc-1', 'Ada', true), ('acc-2', 'Bob', true)""",
    """insert into {schema}.statuses values
    (1, 'To Do', 'new', 'To Do'), (3, 'In Progress', 'indeterminate', 'In Progress'),
    (4, 'In Review', 'indeterminate', 'In Progress'), (5, 'Done', 'done', 'Done')""",
]


def load_dataset(connection: Any, schema: str, skip_tables: tuple[str, ...] = ()) -> None:
    """Create schema `schema` with the contract tables and the rows above, and commit.

    Args:
        connection: a DuckDB or psycopg2 connection.
        schema: the dataset name to create.
        skip_tables: tables to leave out, to test missing optional tables.
    """
    cursor = connection.cursor()
    cursor.execute(f"create schema {schema}")
    for statement in CREATE_TABLES + INSERTS:
        table = statement.split("{schema}.", 1)[1].split()[0]
        if table in skip_tables:
            continue
        cursor.execute(statement.format(schema=schema))
    connection.commit()
