"""The `jira-etl sql apply` and `jira-etl report` commands."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import duckdb
import psycopg2

from pipelines.errors import JiraEtlError
from pipelines.reporting.html import write_dashboard
from pipelines.reporting.models import apply_models
from pipelines.reporting.report import fetch_report_data, print_report
from pipelines.reporting.settings import ReportingSettings, StatusSelector, TrackedField


def mask_dsn(dsn: str) -> str:
    """Hide the password of a PostgreSQL DSN, in URL or key=value form."""
    masked = re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", dsn)
    return re.sub(r"(password\s*=\s*)\S+", r"\1***", masked)


def connection_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the options choosing the database: DuckDB file or PostgreSQL DSN, and dataset."""
    options = [
        click.option(
            "--destination",
            type=click.Choice(["duckdb", "postgres"]),
            default="duckdb",
            show_default=True,
            help="Database holding the loaded tables.",
        ),
        click.option(
            "--duckdb-path",
            envvar="JIRA_DUCKDB_PATH",
            default="jira.duckdb",
            show_default=True,
            type=click.Path(dir_okay=False, path_type=Path),
            help="DuckDB database file (destination duckdb).",
        ),
        click.option(
            "--postgres-dsn",
            envvar="JIRA_POSTGRES_DSN",
            help="PostgreSQL connection string, e.g. postgresql://user@host:5432/db "
            "(destination postgres).",
        ),
        click.option(
            "--dataset",
            envvar="JIRA_DATASET",
            default="jira",
            show_default=True,
            help="Schema holding the loaded tables; the views are created there too.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@contextmanager
def open_connection(
    destination: str, duckdb_path: Path, postgres_dsn: str | None, read_only: bool
) -> Iterator[Any]:
    """Open the DuckDB file or the PostgreSQL database, failing with one clear message."""
    if destination == "duckdb":
        if not duckdb_path.is_file():
            raise click.ClickException(
                f"DuckDB file `{duckdb_path}` not found: load Jira first, or pass "
                "--duckdb-path (JIRA_DUCKDB_PATH)."
            )
        try:
            connection: Any = duckdb.connect(str(duckdb_path), read_only=read_only)
        except duckdb.Error as error:
            reason = str(error).strip()
            advice = ""
            if "Could not set lock on file" in reason:
                # DuckDB lets one process write a file, and no other process open it meanwhile.
                advice = (
                    " Another program has the file open, such as a running load: close it, "
                    "or wait for the load to end, and run this again."
                )
                if not reason.endswith("."):
                    reason += "."
            raise click.ClickException(
                f"Cannot open DuckDB file `{duckdb_path}`: {reason}{advice}"
            ) from None
    else:
        if not postgres_dsn:
            raise click.ClickException(
                "Missing PostgreSQL connection string: pass --postgres-dsn or set "
                "JIRA_POSTGRES_DSN."
            )
        try:
            connection = psycopg2.connect(postgres_dsn, connect_timeout=10)
        except psycopg2.Error as error:
            message = str(error).strip().replace(postgres_dsn, mask_dsn(postgres_dsn))
            raise click.ClickException(
                f"Cannot connect to PostgreSQL at `{mask_dsn(postgres_dsn)}`: {message}"
            ) from None
    try:
        yield connection
    finally:
        connection.close()


@click.group("sql")
def sql() -> None:
    """Create and inspect the reporting views."""


@sql.command("apply")
@connection_options
@click.option(
    "--track-field",
    "track_fields",
    multiple=True,
    help="Changelog field to follow in daily_issue_field_history (repeatable; replaces "
    "the default status, assignee, sprint, story points and priority).",
)
@click.option(
    "--cycle-start",
    multiple=True,
    help="Status name, or category:KEY, whose first entry starts the cycle (repeatable; "
    "default category:indeterminate).",
)
@click.option(
    "--cycle-end",
    multiple=True,
    help="Status name, or category:KEY, that finishes the work (repeatable; default "
    "category:done).",
)
@click.option(
    "--as-of",
    type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d"]),
    help="Fixed 'now' for ages and open durations, e.g. 2024-03-01T00:00:00+0000 "
    "(default: the database clock at query time). A date alone means midnight UTC.",
)
def apply_command(
    destination: str,
    duckdb_path: Path,
    postgres_dsn: str | None,
    dataset: str,
    track_fields: tuple[str, ...],
    cycle_start: tuple[str, ...],
    cycle_end: tuple[str, ...],
    as_of: datetime | None,
) -> None:
    """Create or replace the reporting views in the dataset."""
    defaults = ReportingSettings()
    if as_of is not None and as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=UTC)
    try:
        settings = ReportingSettings(
            tracked_fields=tuple(TrackedField.from_field_name(name) for name in track_fields)
            or defaults.tracked_fields,
            cycle_start=StatusSelector.parse(cycle_start) if cycle_start else defaults.cycle_start,
            cycle_end=StatusSelector.parse(cycle_end) if cycle_end else defaults.cycle_end,
            as_of=as_of,
        )
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    with open_connection(destination, duckdb_path, postgres_dsn, read_only=False) as connection:
        try:
            result = apply_models(connection, destination, dataset, settings)
        except JiraEtlError as error:
            raise click.ClickException(str(error)) from None
    click.echo(f"Created {len(result.models)} views in `{dataset}`.")
    for table in result.missing_tables:
        click.echo(f"Table `{dataset}.{table}` is not loaded: views built on it are empty.")
    for table, columns in result.missing_columns.items():
        click.echo(
            f"Table `{dataset}.{table}` has no column(s) {', '.join(columns)}: read as NULL."
        )
    for column, data_type in result.non_numeric_columns.items():
        click.echo(
            f"Column `{dataset}.issues.{column}` has type {data_type}, not a number: the views "
            "read no story points from it."
        )


@click.command("report")
@connection_options
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also write a self-contained HTML dashboard to this file.",
)
@click.option(
    "--weeks", default=8, show_default=True, type=click.IntRange(1), help="Weeks in the tables."
)
def report_command(
    destination: str,
    duckdb_path: Path,
    postgres_dsn: str | None,
    dataset: str,
    html_path: Path | None,
    weeks: int,
) -> None:
    """Print throughput, cycle time, aging work and created versus resolved."""
    with open_connection(destination, duckdb_path, postgres_dsn, read_only=True) as connection:
        try:
            data = fetch_report_data(connection, destination, dataset)
        except JiraEtlError as error:
            raise click.ClickException(str(error)) from None
    print_report(data, weeks=weeks)
    if html_path is not None:
        try:
            write_dashboard(data, dataset, html_path)
        except OSError as error:
            raise click.ClickException(f"Cannot write `{html_path}`: {error.strerror}.") from None
        click.echo(f"\nDashboard written to {html_path}.")
