"""The reporting views on DuckDB and PostgreSQL, checked against values computed by hand."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import psycopg2
import pytest

from pipelines.reporting import ReportingSettings, apply_models
from pipelines.reporting.models import ReportingError
from tests.test_reporting_dataset import AS_OF, load_dataset

POSTGRES_DSN = "postgresql://postgres@127.0.0.1:5432/test"
SETTINGS = ReportingSettings(as_of=AS_OF)


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def connect_postgres() -> Any:
    try:
        return psycopg2.connect(POSTGRES_DSN, connect_timeout=5)
    except psycopg2.OperationalError as error:
        pytest.fail(f"PostgreSQL at {POSTGRES_DSN} is not reachable: {error}")


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Any, str, str]]:
    """Yield (connection, dialect, schema) with the dataset loaded and the views applied."""
    dialect: str = request.param
    schema = f"jira_test_{uuid.uuid4().hex[:10]}"
    if dialect == "duckdb":
        connection = duckdb.connect(str(tmp_path / "jira.duckdb"))
    else:
        connection = connect_postgres()
    load_dataset(connection, schema)
    apply_models(connection, dialect, schema, SETTINGS)
    try:
        yield connection, dialect, schema
    finally:
        if dialect == "postgres":
            connection.rollback()
            connection.cursor().execute(f"drop schema {schema} cascade")
            connection.commit()
        connection.close()


def query(warehouse: tuple[Any, str, str], sql: str) -> list[tuple[Any, ...]]:
    connection, dialect, schema = warehouse
    if dialect == "duckdb":
        schema = f"jira.{schema}"
    cursor = connection.cursor()
    cursor.execute(sql.format(schema=schema))
    return [tuple(row) for row in cursor.fetchall()]


def test_staging_excludes_deleted_issue(warehouse: tuple[Any, str, str]) -> None:
    issues = query(warehouse, "select issue_key from {schema}.stg_jira__issues order by 1")
    assert issues == [("OPS-1",), ("PRJ-1",), ("PRJ-2",), ("PRJ-3",), ("PRJ-4",)]
    for view in ("stg_jira__changelog", "stg_jira__comments", "stg_jira__worklogs"):
        rows = query(warehouse, f"select count(*) from {{schema}}.{view} where issue_id = 105")
        assert rows == [(0,)], view


def test_status_transitions_intervals(warehouse: tuple[Any, str, str]) -> None:
    rows = query(
        warehouse,
        """select interval_number, status, status_category, started_at, ended_at, is_current,
            time_in_status_seconds, is_cycle_start_status, is_cycle_end_status
        from {schema}.issue_status_transitions where issue_id = 101 order by interval_number""",
    )
    assert rows == [
        (
            1,
            "To Do",
            "new",
            ts("2024-03-01 09:00"),
            ts("2024-03-02 10:00"),
            False,
            90000.0,
            False,
            False,
        ),
        (
            2,
            "In Progress",
            "indeterminate",
            ts("2024-03-02 10:00"),
            ts("2024-03-04 10:00"),
            False,
            172800.0,
            True,
            False,
        ),
        (
            3,
            "In Review",
            "indeterminate",
            ts("2024-03-04 10:00"),
            ts("2024-03-06 12:00"),
            False,
            180000.0,
            True,
            False,
        ),
        (4, "Done", "done", ts("2024-03-06 12:00"), None, True, 734400.0, False, True),
    ]
    unchanged = query(
        warehouse,
        """select status, started_at, time_in_status_seconds
        from {schema}.issue_status_transitions where issue_id in (103, 106) order by issue_id""",
    )
    assert unchanged == [
        ("To Do", ts("2024-02-28 10:00"), 1346400.0),
        ("In Review", ts("2024-03-11 09:00"), 313200.0),
    ]


def test_cycle_time_per_finished_issue(warehouse: tuple[Any, str, str]) -> None:
    rows = query(
        warehouse,
        """select issue_key, started_at, finished_at, finished_week_start_date,
            lead_time_seconds, cycle_time_seconds
        from {schema}.issue_cycle_time order by issue_key""",
    )
    assert rows == [
        (
            "PRJ-1",
            ts("2024-03-02 10:00"),
            ts("2024-03-06 12:00"),
            date(2024, 3, 4),
            442800.0,
            352800.0,
        ),
        ("PRJ-4", None, ts("2024-03-05 11:00"), date(2024, 3, 4), 3600.0, None),
    ]
    days = query(
        warehouse, "select cycle_time_days from {schema}.issue_cycle_time where issue_key = 'PRJ-1'"
    )
    assert days[0][0] == pytest.approx(352800 / 86400)


def test_cycle_time_with_status_names(tmp_path: Path) -> None:
    connection = duckdb.connect(str(tmp_path / "jira.duckdb"))
    load_dataset(connection, "jira.jira")
    settings = ReportingSettings(
        cycle_start=ReportingSettings().cycle_start.parse(["In Review"]),
        cycle_end=ReportingSettings().cycle_end.parse(["category:done"]),
        as_of=AS_OF,
    )
    apply_models(connection, "duckdb", "jira", settings)
    rows = connection.execute(
        "select issue_key, cycle_time_seconds from jira.jira.issue_cycle_time order by 1"
    ).fetchall()
    # PRJ-1 entered In Review 03-04 10:00 and finished 03-06 12:00.
    assert rows == [("PRJ-1", 180000.0), ("PRJ-4", None)]
    wip = connection.execute("select issue_key from jira.jira.wip_aging order by 1").fetchall()
    assert wip == [("OPS-1",)]


def test_wip_aging_ages(warehouse: tuple[Any, str, str]) -> None:
    rows = query(
        warehouse,
        """select issue_key, status, started_at, age_days, days_in_current_status, assignee_name
        from {schema}.wip_aging order by issue_key""",
    )
    assert [row[:3] for row in rows] == [
        ("OPS-1", "In Review", ts("2024-03-11 09:00")),
        ("PRJ-2", "In Progress", ts("2024-03-05 09:00")),
    ]
    assert rows[0][3] == pytest.approx(3.625)
    assert rows[0][4] == pytest.approx(3.625)
    assert rows[1][3] == pytest.approx(9.625)
    assert rows[1][4] == pytest.approx(9.625)
    assert rows[1][5] == "Bob"


def test_issue_enhanced_columns(warehouse: tuple[Any, str, str]) -> None:
    rows = query(
        warehouse,
        """select issue_key, assignee_name, reporter_name, current_sprint_id,
            current_sprint_name, sprint_names, story_points, fix_versions, affected_versions,
            count_comments, count_sprint_changes, first_assigned_at, last_assigned_at,
            first_resolved_at, open_duration_seconds
        from {schema}.issue_enhanced order by issue_key""",
    )
    assert rows == [
        (
            "OPS-1",
            "Bob",
            "Bob",
            None,
            None,
            None,
            None,
            None,
            None,
            0,
            0,
            ts("2024-03-11 09:00"),
            ts("2024-03-11 09:00"),
            None,
            313200.0,
        ),
        (
            "PRJ-1",
            "Ada",
            "Bob",
            1,
            "Sprint 1",
            "Sprint 1",
            3.0,
            "v0.9, v1.0",
            None,
            2,
            1,
            ts("2024-03-01 09:30"),
            ts("2024-03-01 09:30"),
            ts("2024-03-06 12:00"),
            442800.0,
        ),
        (
            "PRJ-2",
            "Bob",
            "Bob",
            2,
            "Sprint 2",
            "Sprint 1, Sprint 2",
            None,
            None,
            "v0.9",
            1,
            2,
            ts("2024-03-04 08:00"),
            ts("2024-03-07 15:00"),
            None,
            921600.0,
        ),
        (
            "PRJ-3",
            None,
            "Ada",
            None,
            None,
            None,
            5.0,
            None,
            None,
            0,
            2,
            None,
            None,
            None,
            1346400.0,
        ),
        (
            "PRJ-4",
            None,
            "Ada",
            1,
            "Sprint 1",
            "Sprint 1",
            None,
            None,
            None,
            0,
            0,
            None,
            None,
            ts("2024-03-05 11:00"),
            3600.0,
        ),
    ]


def test_daily_field_history_values(warehouse: tuple[Any, str, str]) -> None:
    count = query(warehouse, "select count(*) from {schema}.daily_issue_field_history")
    assert count == [(60,)]
    rows = query(
        warehouse,
        """select date_day, status, assignee_account_id, sprint, story_points, priority
        from {schema}.daily_issue_field_history where issue_id = 101
            and date_day in ('2024-03-01', '2024-03-02', '2024-03-03', '2024-03-04',
                '2024-03-06', '2024-03-15')
        order by date_day""",
    )
    assert rows == [
        (date(2024, 3, 1), "To Do", "acc-1", "Sprint 1", "2", "High"),
        (date(2024, 3, 2), "In Progress", "acc-1", "Sprint 1", "2", "High"),
        (date(2024, 3, 3), "In Progress", "acc-1", "Sprint 1", "3", "High"),
        (date(2024, 3, 4), "In Review", "acc-1", "Sprint 1", "3", "High"),
        (date(2024, 3, 6), "Done", "acc-1", "Sprint 1", "3", "High"),
        (date(2024, 3, 15), "Done", "acc-1", "Sprint 1", "3", "High"),
    ]
    prj3 = query(
        warehouse,
        """select date_day, sprint, story_points, assignee_account_id
        from {schema}.daily_issue_field_history where issue_id = 103
            and date_day in ('2024-02-28', '2024-03-01', '2024-03-05', '2024-03-06')
        order by date_day""",
    )
    assert prj3 == [
        (date(2024, 2, 28), None, "5", None),
        (date(2024, 3, 1), "Sprint 1", "5", None),
        (date(2024, 3, 5), "Sprint 1", "5", None),
        (date(2024, 3, 6), None, "5", None),
    ]
    prj2 = query(
        warehouse,
        """select date_day, assignee_account_id from {schema}.daily_issue_field_history
        where issue_id = 102 and date_day in ('2024-03-04', '2024-03-06', '2024-03-07')
        order by date_day""",
    )
    assert prj2 == [
        (date(2024, 3, 4), "acc-1"),
        (date(2024, 3, 6), "acc-1"),
        (date(2024, 3, 7), "acc-2"),
    ]


def test_daily_field_history_after_rename(warehouse: tuple[Any, str, str]) -> None:
    # The story points field of PRJ-1 was renamed to "Estimate" before its next change, so
    # the changelog records that change under the new name and the same field id.
    history_sql = """select date_day, story_points from {schema}.daily_issue_field_history
        where issue_id = 101 and date_day in ('2024-03-09', '2024-03-10', '2024-03-15')
        order by date_day"""
    connection, _, schema = warehouse
    connection.cursor().execute(
        f"""insert into {schema}.issue_changelog (issue_id, history_id, item_position,
            created_at, author_account_id, field, field_id, field_type, from_value,
            from_string, to_value, to_string)
        values (101, 1007, 0, '2024-03-10 09:00:00+00', 'acc-1', 'Estimate',
            'customfield_10016', 'custom', null, '3', null, '8')"""
    )
    assert query(warehouse, history_sql) == [
        (date(2024, 3, 9), "3"),
        (date(2024, 3, 10), "8"),
        (date(2024, 3, 15), "8"),
    ]


def test_weekly_throughput_fills_weeks(warehouse: tuple[Any, str, str]) -> None:
    rows = query(
        warehouse,
        """select project_key, week_start_date, count_finished_issues, finished_story_points
        from {schema}.weekly_throughput order by 1, 2""",
    )
    assert rows == [
        ("OPS", date(2024, 3, 11), 0, 0),
        ("PRJ", date(2024, 2, 26), 0, 0),
        ("PRJ", date(2024, 3, 4), 2, 3),
        ("PRJ", date(2024, 3, 11), 0, 0),
    ]


def test_created_vs_resolved_weeks(warehouse: tuple[Any, str, str]) -> None:
    rows = query(
        warehouse,
        """select project_key, week_start_date, count_created_issues, count_resolved_issues,
            cumulative_created_issues, cumulative_resolved_issues, count_unresolved_issues
        from {schema}.created_vs_resolved order by 1, 2""",
    )
    assert rows == [
        ("OPS", date(2024, 3, 11), 1, 0, 1, 0, 1),
        ("PRJ", date(2024, 2, 26), 2, 0, 2, 0, 2),
        ("PRJ", date(2024, 3, 4), 2, 2, 4, 2, 2),
        ("PRJ", date(2024, 3, 11), 0, 0, 4, 2, 2),
    ]


def test_cumulative_flow_by_category(warehouse: tuple[Any, str, str]) -> None:
    rows = query(
        warehouse,
        """select date_day, project_key, status_category, count_issues
        from {schema}.daily_cumulative_flow
        where date_day in ('2024-02-28', '2024-03-05', '2024-03-15') order by 1, 2, 3""",
    )
    assert rows == [
        (date(2024, 2, 28), "PRJ", "new", 1),
        (date(2024, 3, 5), "PRJ", "done", 1),
        (date(2024, 3, 5), "PRJ", "indeterminate", 2),
        (date(2024, 3, 5), "PRJ", "new", 1),
        (date(2024, 3, 15), "OPS", "indeterminate", 1),
        (date(2024, 3, 15), "PRJ", "done", 2),
        (date(2024, 3, 15), "PRJ", "indeterminate", 1),
        (date(2024, 3, 15), "PRJ", "new", 1),
    ]


def test_sprint_summary_counts(warehouse: tuple[Any, str, str]) -> None:
    rows = query(
        warehouse,
        """select sprint_name, closed_at, count_committed_issues, count_added_issues,
            count_removed_issues, count_completed_issues, count_carried_over_issues
        from {schema}.sprint_summary order by sprint_id""",
    )
    assert rows == [
        ("Sprint 1", ts("2024-03-08 17:00"), 2, 2, 1, 2, 1),
        ("Sprint 2", AS_OF, 1, 0, 0, 0, 1),
    ]


def test_worklog_summary_per_week(warehouse: tuple[Any, str, str]) -> None:
    rows = query(
        warehouse,
        """select author_name, week_start_date, count_worklogs, count_issues,
            time_spent_seconds, time_spent_hours
        from {schema}.worklog_summary order by 1, 2""",
    )
    assert rows == [
        ("Ada", date(2024, 3, 4), 3, 2, 12600.0, 3.5),
        ("Bob", date(2024, 3, 11), 1, 1, 5400.0, 1.5),
    ]


def test_project_summary_counts(warehouse: tuple[Any, str, str]) -> None:
    rows = query(
        warehouse,
        """select project_key, project_name, count_issues, count_unresolved_issues,
            count_finished_issues, count_in_progress_issues, avg_lead_time_days,
            median_cycle_time_days
        from {schema}.project_summary order by 1""",
    )
    assert [row[:6] for row in rows] == [
        ("OPS", "Operations", 1, 1, 0, 1),
        ("PRJ", "Project", 4, 2, 2, 1),
    ]
    assert rows[0][6] is None
    assert rows[1][6] == pytest.approx((442800 + 3600) / 2 / 86400)
    assert rows[1][7] == pytest.approx(352800 / 86400)


def test_apply_twice_replaces_views(warehouse: tuple[Any, str, str]) -> None:
    connection, dialect, schema = warehouse
    settings = ReportingSettings(as_of=AS_OF, tracked_fields=SETTINGS.tracked_fields[:1])
    apply_models(connection, dialect, schema, settings)
    columns = query(warehouse, "select * from {schema}.daily_issue_field_history limit 1")
    assert len(columns[0]) == 4


def test_missing_optional_tables_read_empty(tmp_path: Path) -> None:
    connection = duckdb.connect(str(tmp_path / "jira.duckdb"))
    load_dataset(connection, "jira.jira", skip_tables=("worklogs", "issue_comments", "statuses"))
    result = apply_models(connection, "duckdb", "jira", SETTINGS)
    assert result.missing_tables == ["issue_comments", "statuses", "worklogs"]
    assert result.missing_columns["issues"] == ["story_point_estimate"]
    worklogs = connection.execute("select count(*) from jira.jira.worklog_summary").fetchall()
    assert worklogs == [(0,)]
    # Without the status catalog, categories come from the issues' current statuses, which
    # include every status of the dataset except none: all four are current somewhere.
    categories = connection.execute(
        "select status_category from jira.jira.issue_status_transitions "
        "where issue_id = 101 order by interval_number"
    ).fetchall()
    assert categories == [("new",), ("indeterminate",), ("indeterminate",), ("done",)]


def test_missing_issues_table_fails(tmp_path: Path) -> None:
    connection = duckdb.connect(str(tmp_path / "jira.duckdb"))
    connection.execute("create schema jira.jira")
    with pytest.raises(ReportingError, match="Table `jira.issues` not found"):
        apply_models(connection, "duckdb", "jira", SETTINGS)
