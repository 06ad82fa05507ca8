"""Read the headline numbers from the reporting views and print them for the terminal."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import click
import duckdb
import psycopg2

from pipelines.reporting.models import ReportingError, read_catalog, view_name
from pipelines.reporting.render import Dialect

REPORT_VIEWS = (
    "weekly_throughput",
    "issue_cycle_time",
    "wip_aging",
    "created_vs_resolved",
    "daily_cumulative_flow",
)
PERCENTILES = (0.5, 0.85, 0.95)


@dataclass
class FinishedIssue:
    """An issue of `issue_cycle_time`: when it finished and how long it took."""

    issue_key: str
    finished_at: datetime
    cycle_time_days: float | None
    lead_time_days: float


@dataclass
class AgingIssue:
    """An issue in progress, from `wip_aging`."""

    issue_key: str
    summary: str | None
    status: str | None
    age_days: float


@dataclass
class ReportData:
    """Everything the terminal report and the HTML dashboard show, summed over projects."""

    throughput: list[tuple[date, int]] = field(default_factory=list)
    finished: list[FinishedIssue] = field(default_factory=list)
    aging: list[AgingIssue] = field(default_factory=list)
    # week start, created, resolved, cumulative created, cumulative resolved
    created_resolved: list[tuple[date, int, int, int, int]] = field(default_factory=list)
    # day, status category, number of issues
    flow: list[tuple[date, str, int]] = field(default_factory=list)

    def cycle_time_percentiles(self) -> dict[float, float]:
        """Return p50, p85 and p95 of the cycle time in days; empty without cycle times."""
        values = [i.cycle_time_days for i in self.finished if i.cycle_time_days is not None]
        return {q: percentile(values, q) for q in PERCENTILES} if values else {}

    def lead_time_percentiles(self) -> dict[float, float]:
        """Return p50, p85 and p95 of the lead time in days; empty without finished issues."""
        values = [issue.lead_time_days for issue in self.finished]
        return {q: percentile(values, q) for q in PERCENTILES} if values else {}


def percentile(values: list[float], fraction: float) -> float:
    """Interpolate linearly between the closest ranks, as SQL's `percentile_cont` does."""
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    lower = math.floor(position)
    upper = math.ceil(position)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def fetch_report_data(connection: Any, dialect: Dialect, dataset: str) -> ReportData:
    """Read the report's rows from the views in `dataset`.

    Raises:
        ReportingError: when the views were not created yet, or a query of them fails.
    """
    catalog = read_catalog(connection, dataset)
    missing = [view for view in REPORT_VIEWS if view not in catalog]
    if missing:
        raise ReportingError(
            f"Reporting views {missing} not found in dataset `{dataset}`: "
            "run `jira-etl sql apply` first."
        )

    def rows(view: str, sql: str) -> list[tuple[Any, ...]]:
        cursor = connection.cursor()
        try:
            cursor.execute(sql.format(view=view_name(connection, dialect, dataset, view)))
            return [tuple(row) for row in cursor.fetchall()]
        except (duckdb.Error, psycopg2.Error) as error:
            # Views read the columns as they were when `sql apply` created them, so a load
            # that changed a column's type since, such as a full refresh, can break them.
            reason = str(error).strip().rstrip(".")
            raise ReportingError(
                f"Reading view `{dataset}.{view}` failed: {reason}. The loaded "
                "tables may have changed since the views were created: run `jira-etl sql "
                "apply` again."
            ) from None

    data = ReportData()
    data.throughput = [
        (week, int(count))
        for week, count in rows(
            "weekly_throughput",
            "select week_start_date, sum(count_finished_issues) from {view} "
            "group by week_start_date order by week_start_date",
        )
    ]
    data.finished = [
        FinishedIssue(key, finished_at, cycle, lead)
        for key, finished_at, cycle, lead in rows(
            "issue_cycle_time",
            "select issue_key, finished_at, cycle_time_days, lead_time_days from {view} "
            "order by finished_at, issue_key",
        )
    ]
    data.aging = [
        AgingIssue(key, summary, status, age)
        for key, summary, status, age in rows(
            "wip_aging",
            "select issue_key, summary, status, age_days from {view} "
            "order by age_days desc, issue_key",
        )
    ]
    data.created_resolved = [
        (week, int(created), int(resolved), int(total_created), int(total_resolved))
        for week, created, resolved, total_created, total_resolved in rows(
            "created_vs_resolved",
            "select week_start_date, sum(count_created_issues), sum(count_resolved_issues), "
            "sum(cumulative_created_issues), sum(cumulative_resolved_issues) from {view} "
            "group by week_start_date order by week_start_date",
        )
    ]
    data.flow = [
        (day, category, int(count))
        for day, category, count in rows(
            "daily_cumulative_flow",
            "select date_day, status_category, sum(count_issues) from {view} "
            "group by date_day, status_category order by date_day, status_category",
        )
    ]
    return data


def format_table(headers: list[str], rows: list[list[str]]) -> str:
    """Align `rows` under `headers`; numbers (cells starting with a digit) align right."""
    widths = [len(header) for header in headers]
    for row in rows:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]

    def line(cells: list[str]) -> str:
        parts = []
        for cell, width in zip(cells, widths, strict=True):
            numeric = cell[:1].isdigit() or cell[:1] == "-" and cell[1:2].isdigit()
            parts.append(cell.rjust(width) if numeric else cell.ljust(width))
        return "  ".join(parts).rstrip()

    separator = "  ".join("-" * width for width in widths)
    return "\n".join([line(headers), separator, *(line(row) for row in rows)])


def print_report(data: ReportData, weeks: int = 8, aging_rows: int = 10) -> None:
    """Print throughput, cycle-time percentiles, WIP aging and created versus resolved."""
    click.echo(click.style(f"Weekly throughput (last {weeks} weeks)", bold=True))
    recent = data.throughput[-weeks:]
    click.echo(
        format_table(["week", "finished"], [[str(week), str(count)] for week, count in recent])
        if recent
        else "No issues yet."
    )

    click.echo()
    click.echo(click.style("Cycle and lead time (days, finished issues)", bold=True))
    cycle = data.cycle_time_percentiles()
    lead = data.lead_time_percentiles()
    if lead:
        table = [
            ["cycle time"] + [f"{cycle[q]:.1f}" if cycle else "-" for q in PERCENTILES],
            ["lead time"] + [f"{lead[q]:.1f}" for q in PERCENTILES],
        ]
        click.echo(format_table(["", "p50", "p85", "p95"], table))
        click.echo(f"{len(data.finished)} finished issues.")
    else:
        click.echo("No finished issues yet.")

    click.echo()
    click.echo(click.style(f"Oldest work in progress (top {aging_rows})", bold=True))
    aging = [
        [issue.issue_key, issue.status or "", f"{issue.age_days:.1f}", _shorten(issue.summary)]
        for issue in data.aging[:aging_rows]
    ]
    click.echo(
        format_table(["issue", "status", "age (days)", "summary"], aging)
        if aging
        else "Nothing in progress."
    )
    if len(data.aging) > aging_rows:
        click.echo(f"... and {len(data.aging) - aging_rows} more in progress.")

    click.echo()
    click.echo(click.style(f"Created versus resolved (last {weeks} weeks)", bold=True))
    weekly = [
        [str(week), str(created), str(resolved), str(total_created - total_resolved)]
        for week, created, resolved, total_created, total_resolved in data.created_resolved[-weeks:]
    ]
    click.echo(
        format_table(["week", "created", "resolved", "unresolved at week end"], weekly)
        if weekly
        else "No issues yet."
    )


def _shorten(text: str | None, width: int = 50) -> str:
    if not text:
        return ""
    return text if len(text) <= width else text[: width - 3] + "..."
