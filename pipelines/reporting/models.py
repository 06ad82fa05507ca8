"""Discover the SQL models under `sql/`, render them for a dialect and create them as views."""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Any

import duckdb
import psycopg2

from pipelines.errors import JiraEtlError
from pipelines.reporting.render import (
    DIALECTS,
    Dialect,
    RenderContext,
    qualify_relation,
    quote_identifier,
    render_template,
)
from pipelines.reporting.settings import ReportingSettings, StatusSelector
from pipelines.reporting.sources import source_table

logger = logging.getLogger(__name__)

# NOTE: the models live at the top of the repository, outside the package, so an installed
# wheel does not carry them; JIRA_SQL_DIR points at a copy in that case.
SQL_DIR = Path(os.environ.get("JIRA_SQL_DIR", Path(__file__).resolve().parents[2] / "sql"))
LAYERS = ("staging", "intermediate", "marts")
_DATASET = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

Catalog = dict[str, set[str]]


class ReportingError(JiraEtlError):
    """The reporting models cannot be rendered or created."""


@dataclass(frozen=True)
class Model:
    """One SQL file: a view named after the file."""

    name: str
    layer: str
    path: Path
    template: str


@dataclass(frozen=True)
class RenderedModel:
    """A model's SQL for one dialect, with the models it reads."""

    name: str
    layer: str
    sql: str
    refs: tuple[str, ...]
    sources: tuple[str, ...]


@dataclass
class ApplyResult:
    """Views created by `apply_models`, and the loaded tables or columns that were missing.

    `non_numeric_columns` maps each story points column of `issues` whose type is not a number
    to that type, and the views read it as NULL.
    """

    models: list[str] = field(default_factory=list)
    missing_tables: list[str] = field(default_factory=list)
    missing_columns: dict[str, list[str]] = field(default_factory=dict)
    non_numeric_columns: dict[str, str] = field(default_factory=dict)


def discover_models(sql_dir: Path | None = None) -> list[Model]:
    """Read every `<layer>/<name>.sql` file under `sql_dir`, staging first.

    Raises:
        ReportingError: when the folder is missing, contains no model or two files share a name.
    """
    root = sql_dir or SQL_DIR
    if not root.is_dir():
        raise ReportingError(f"SQL models folder `{root}` not found; set JIRA_SQL_DIR to it.")
    models: dict[str, Model] = {}
    for layer in LAYERS:
        for path in sorted((root / layer).glob("*.sql")):
            if path.stem in models:
                raise ReportingError(f"Two SQL models are named `{path.stem}`: rename one.")
            models[path.stem] = Model(path.stem, layer, path, path.read_text(encoding="utf-8"))
    if not models:
        raise ReportingError(f"No SQL models found under `{root}`.")
    return list(models.values())


def settings_variables(settings: ReportingSettings) -> dict[str, str]:
    """Render the settings into the SQL fragments the models name as `{{ variable }}`."""
    if settings.as_of is None:
        as_of = "current_timestamp"
    else:
        as_of = f"cast({_literal(settings.as_of.isoformat())} as timestamptz)"
    points = [quote_identifier(column) for column in settings.story_points_columns]
    if not points:
        story_points = "cast(null as double precision)"
    elif len(points) == 1:
        story_points = points[0]
    else:
        story_points = f"coalesce({', '.join(points)})"

    rows = []
    for tracked in settings.tracked_fields:
        for field_name in tracked.field_names:
            flag = "true" if tracked.use_value_id else "false"
            rows.append(f"({_literal(tracked.column)}, {_literal(field_name.lower())}, {flag})")
    columns = [
        f"max(case when field_intervals.column_name = {_literal(tracked.column)} "
        f"then field_intervals.field_value end) as {quote_identifier(tracked.column)}"
        for tracked in settings.tracked_fields
    ]
    current_values = [
        f"when {_literal(tracked.column)} then {_issue_value(tracked.issue_column)}"
        for tracked in settings.tracked_fields
        if tracked.issue_column
    ]
    current_value = (
        "case tracked_fields.column_name " + " ".join(current_values) + " end"
        if current_values
        else "cast(null as text)"
    )
    return {
        "as_of": as_of,
        "story_points": story_points,
        "is_cycle_start": _status_condition(settings.cycle_start),
        "is_cycle_end": _status_condition(settings.cycle_end),
        "tracked_field_rows": ",\n        ".join(rows),
        "tracked_field_columns": ",\n        ".join(columns),
        "current_field_value": current_value,
    }


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _issue_value(column: str) -> str:
    # Story points are numbers in `issue_enhanced` but text in the changelog.
    if column == "story_points":
        return "{{ number_text(issues.story_points) }}"
    return f"cast(issues.{quote_identifier(column)} as text)"


def _status_condition(selector: StatusSelector) -> str:
    """Build a boolean SQL expression over the columns `status` and `status_category`."""
    parts = []
    if selector.statuses:
        names = ", ".join(_literal(name) for name in selector.statuses)
        parts.append(f"lower(status) in ({names})")
    if selector.categories:
        keys = ", ".join(_literal(key) for key in selector.categories)
        parts.append(f"lower(status_category) in ({keys})")
    return "coalesce(" + " or ".join(parts) + ", false)"


def render_models(
    dialect: Dialect,
    dataset: str = "jira",
    settings: ReportingSettings | None = None,
    catalog: Catalog | None = None,
    sql_dir: Path | None = None,
) -> list[RenderedModel]:
    """Render every model for `dialect`, in dependency order.

    Args:
        dialect: "duckdb" or "postgres".
        dataset: schema of the loaded tables, where the views are created too.
        settings: configuration rendered into the SQL; defaults when None.
        catalog: loaded table name to its column names. Tables or columns absent from it are
            rendered as typed NULLs; None renders as if every table and column existed.
        sql_dir: folder of the models; the repository's `sql/` when None.

    Raises:
        ReportingError: on an unknown dialect, an invalid dataset name, an unknown reference
            or a dependency cycle.
    """
    if dialect not in DIALECTS:
        raise ReportingError(f"Unknown dialect `{dialect}`: expected one of {DIALECTS}.")
    if not _DATASET.match(dataset):
        raise ReportingError(f"Invalid dataset name `{dataset}`: use letters, digits and _.")
    settings = settings or ReportingSettings()
    models = {model.name: model for model in discover_models(sql_dir)}
    variables = settings_variables(settings)

    def render_source(table: str) -> str:
        return _render_source(table, dialect, dataset, settings, catalog)

    rendered: dict[str, RenderedModel] = {}
    for model in models.values():
        context = RenderContext(dialect, dataset, variables, render_source)
        sql = render_template(model.template, context, model.name)
        unknown = [ref for ref in context.refs if ref not in models]
        if unknown:
            raise ReportingError(f"Model `{model.name}` refers to unknown models {unknown}.")
        rendered[model.name] = RenderedModel(
            model.name, model.layer, sql, tuple(context.refs), tuple(context.sources)
        )
    try:
        order = TopologicalSorter({name: set(m.refs) for name, m in rendered.items()})
        return [rendered[name] for name in order.static_order()]
    except CycleError as error:
        raise ReportingError(
            f"The models refer to each other in a cycle: {error.args[1]}."
        ) from None


def _render_source(
    table: str,
    dialect: Dialect,
    dataset: str,
    settings: ReportingSettings,
    catalog: Catalog | None,
) -> str:
    try:
        contract = source_table(table, settings.story_points_columns)
    except KeyError:
        raise ReportingError(f"Unknown source table `{table}`.") from None
    present = catalog.get(table) if catalog is not None else set(contract.columns)
    selected = []
    for column, sql_type in contract.columns.items():
        value = quote_identifier(column) if present and column in present else "null"
        selected.append(f"cast({value} as {sql_type}) as {quote_identifier(column)}")
    select_list = ",\n            ".join(selected)
    if not present:
        return f"(\n        select\n            {select_list}\n        where false\n    )"
    relation = qualify_relation(dialect, dataset, table)
    return f"(\n        select\n            {select_list}\n        from {relation}\n    )"


def read_catalog(connection: Any, dataset: str) -> Catalog:
    """Return the tables of schema `dataset` in the connection's database, with their columns."""
    if not _DATASET.match(dataset):
        raise ReportingError(f"Invalid dataset name `{dataset}`: use letters, digits and _.")
    cursor = connection.cursor()
    cursor.execute(
        "select table_name, column_name from information_schema.columns "
        f"where table_schema = {_literal(dataset)} and table_catalog = current_database()"
    )
    catalog: Catalog = {}
    for table_name, column_name in cursor.fetchall():
        catalog.setdefault(table_name, set()).add(column_name)
    return catalog


# Type names of numbers in DuckDB and PostgreSQL, as information_schema lists them.
_NUMERIC_TYPES = re.compile(
    r"^(u?(tiny|small|big|huge)?int(eger)?|double( precision)?|float|real|decimal|numeric)\b",
    re.IGNORECASE,
)


def non_numeric_columns(
    connection: Any, dataset: str, table: str, columns: tuple[str, ...]
) -> dict[str, str]:
    """Return each of `columns` that `dataset.table` has with a type other than a number."""
    if not columns:
        return {}
    names = ", ".join(_literal(column) for column in columns)
    cursor = connection.cursor()
    cursor.execute(
        "select column_name, data_type from information_schema.columns "
        f"where table_schema = {_literal(dataset)} and table_name = {_literal(table)} "
        f"and table_catalog = current_database() and column_name in ({names})"
    )
    return {
        name: data_type
        for name, data_type in cursor.fetchall()
        if not _NUMERIC_TYPES.match(data_type)
    }


def view_name(connection: Any, dialect: Dialect, dataset: str, name: str) -> str:
    """Return the fully qualified name of view or table `name` for a query on `connection`.

    On DuckDB the name includes the database (catalog), because `jira.x` is ambiguous when
    the file `jira.duckdb` contains the schema `jira`.
    """
    relation = f"{quote_identifier(dataset)}.{quote_identifier(name)}"
    if dialect != "duckdb":
        return relation
    cursor = connection.cursor()
    cursor.execute("select current_database()")
    (catalog,) = cursor.fetchone()
    return f"{quote_identifier(catalog)}.{relation}"


def apply_models(
    connection: Any,
    dialect: Dialect,
    dataset: str = "jira",
    settings: ReportingSettings | None = None,
    sql_dir: Path | None = None,
) -> ApplyResult:
    """Create or replace every model as a view in `dataset`, in one transaction.

    Loaded tables that are optional (changelog, comments, worklogs, sprints, versions, users,
    statuses) may be missing: the views then read them as empty, and the result lists them.

    Args:
        connection: a DB-API connection, `duckdb.connect(path)` or `psycopg2.connect(dsn)`.
        dialect: "duckdb" or "postgres".
        dataset: the schema holding the loaded tables.
        settings: configuration rendered into the SQL; defaults when None.
        sql_dir: folder of the models; the repository's `sql/` when None.

    Returns:
        The created views in creation order, and the missing tables and columns.

    Raises:
        ReportingError: when `issues` or a key column is missing, or a view fails to create.
    """
    settings = settings or ReportingSettings()
    catalog = read_catalog(connection, dataset)
    result = ApplyResult()
    # A text field can carry a story points name, e.g. a replaced number field. Its values
    # would fail the cast to a number in every query of the views.
    result.non_numeric_columns = non_numeric_columns(
        connection, dataset, "issues", settings.story_points_columns
    )
    readable = {table: set(columns) for table, columns in catalog.items()}
    for column, data_type in result.non_numeric_columns.items():
        readable["issues"].discard(column)
        logger.warning(
            "Column %s.issues.%s has type %s, not a number: the views read no story points from it",
            dataset,
            column,
            data_type,
        )
    models = render_models(dialect, dataset, settings, readable, sql_dir)
    used_sources = sorted({source for model in models for source in model.sources})
    for table in used_sources:
        contract = source_table(table, settings.story_points_columns)
        if table not in catalog:
            if contract.is_required:
                raise ReportingError(
                    f"Table `{dataset}.{table}` not found: load Jira into dataset `{dataset}` "
                    "first, or pass the dataset the data was loaded into."
                )
            result.missing_tables.append(table)
            continue
        missing_keys = [c for c in contract.required_columns if c not in catalog[table]]
        if missing_keys:
            raise ReportingError(
                f"Table `{dataset}.{table}` lacks the columns {missing_keys}; "
                "it does not look like a jira-etl table."
            )
        missing = [c for c in contract.columns if c not in catalog[table]]
        if missing:
            result.missing_columns[table] = missing
    for table in result.missing_tables:
        logger.warning("Table %s.%s is not loaded: the views read it as empty", dataset, table)

    statements: list[tuple[str, str]] = []
    if dialect == "postgres":
        # PostgreSQL cannot replace a view whose columns changed, so drop dependents first.
        for model in reversed(models):
            name = view_name(connection, dialect, dataset, model.name)
            statements.append((model.name, f"drop view if exists {name}"))
    for model in models:
        name = view_name(connection, dialect, dataset, model.name)
        statements.append((model.name, f"create or replace view {name} as\n{model.sql}"))
    _execute_in_transaction(connection, dialect, dataset, statements)
    result.models = [model.name for model in models]
    logger.info("Created %d views in %s", len(models), dataset)
    return result


def _execute_in_transaction(
    connection: Any, dialect: Dialect, dataset: str, statements: list[tuple[str, str]]
) -> None:
    cursor = connection.cursor()
    if dialect == "duckdb":
        cursor.execute("begin transaction")
    try:
        for model_name, statement in statements:
            try:
                cursor.execute(statement)
            except (duckdb.Error, psycopg2.Error) as error:
                message = str(error).strip()
                raise ReportingError(
                    f"Creating view `{dataset}.{model_name}` failed: {message}"
                ) from error
    except BaseException:
        if dialect == "duckdb":
            cursor.execute("rollback")
        else:
            connection.rollback()
        raise
    if dialect == "duckdb":
        cursor.execute("commit")
    else:
        connection.commit()
