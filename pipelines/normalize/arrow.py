"""Fixed pyarrow schemas and dlt column hints for the tables built from issues.

Every table has the same columns and types in every batch, so a column that is null in one
batch still gets its type, and a number field stays DOUBLE whatever its values look like.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pyarrow as pa

from pipelines.errors import PayloadError
from pipelines.json_text import quote_value
from pipelines.normalize.columns import (
    CHILD_TABLE_COLUMNS,
    COLUMN_SOURCES,
    ISSUE_COLUMNS,
    SPRINT_COLUMNS,
)
from pipelines.normalize.fields import FieldCatalog

# dlt data type -> arrow type. JSON columns carry JSON text, as dlt's own arrow mapping does.
_ARROW_TYPES: dict[str, pa.DataType] = {
    "bigint": pa.int64(),
    "text": pa.string(),
    "double": pa.float64(),
    "bool": pa.bool_(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
    "json": pa.string(),
}

# The values each arrow type accepts, as error messages describe them.
_EXPECTED = {
    pa.string(): "a string",
    pa.int64(): "an integer",
    pa.float64(): "a number",
    pa.bool_(): "true or false",
    pa.timestamp("us", tz="UTC"): "an instant",
    pa.date32(): "a date",
}

# The exceptions pyarrow raises when a Python value does not convert to an arrow type.
CONVERSION_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError)


def column_types(table_name: str, catalog: FieldCatalog) -> dict[str, str]:
    """Return column name -> dlt data type for a table, in column order.

    Raises:
        ValueError: `table_name` is not a table built from issues.
    """
    if table_name == "issues":
        types = dict(ISSUE_COLUMNS)
        for spec in catalog.single:
            types[spec.column or spec.field_id] = spec.data_type or "json"
        return types
    if table_name == "sprints":
        return dict(SPRINT_COLUMNS)
    if table_name in CHILD_TABLE_COLUMNS:
        return dict(CHILD_TABLE_COLUMNS[table_name])
    raise ValueError(
        f"Unknown table `{table_name}`: expected `issues`, `sprints` or a child table."
    )


def arrow_schema(table_name: str, catalog: FieldCatalog) -> pa.Schema:
    """Return the fixed arrow schema of a table, in which every column is nullable.

    Raises:
        ValueError: `table_name` is unknown.
    """
    return _cached_schema(table_name, _custom_columns(table_name, catalog))


def _custom_columns(table_name: str, catalog: FieldCatalog) -> tuple[tuple[str, str], ...]:
    """List the `(column, dlt data type)` pairs that `catalog` adds to the table."""
    if table_name != "issues":
        return ()
    return tuple(
        (spec.column or spec.field_id, spec.data_type or "json") for spec in catalog.single
    )


# Schemas are built once per table and set of custom columns, not once per batch. The key contains
# the custom columns themselves, so a changed catalog gets its own schema.
@lru_cache(maxsize=256)
def _cached_schema(table_name: str, custom_columns: tuple[tuple[str, str], ...]) -> pa.Schema:
    types = column_types(table_name, FieldCatalog({}))
    types.update(custom_columns)
    return pa.schema([pa.field(name, _ARROW_TYPES[dlt_type]) for name, dlt_type in types.items()])


def arrow_table(
    table_name: str,
    rows: list[dict[str, Any]],
    catalog: FieldCatalog,
    *,
    issues: Sequence[dict[str, Any]] = (),
) -> pa.Table:
    """Build an arrow table with the table's fixed schema from normalized rows.

    Args:
        table_name: `issues`, `sprints` or a child table name.
        rows: rows from `normalize_issues`; a missing key is null.
        catalog: the field catalog that adds the custom columns of `issues`.
        issues: the `issues` rows of the same batch. Only error messages read them, to name
            the issue key of a child row.

    Returns:
        The table, with every column of the schema even when `rows` is empty.

    Raises:
        ValueError: `table_name` is unknown.
        PayloadError: a value does not fit its column's type, such as a number where Jira
            sends a project key. The message names the issue, the column, the value and its
            JSON type.
    """
    schema = arrow_schema(table_name, catalog)
    # Arrow converts a list of dicts to a struct array in C++, missing keys as nulls: several
    # times faster than one Python list per column. The struct's fields are the schema's, so
    # the table has the schema without a cast.
    try:
        structs = pa.array(rows, type=pa.struct(schema))
    except CONVERSION_ERRORS:
        # Finding the value is slow, so it runs only after the conversion failed.
        error = _conversion_error(table_name, rows, schema, issues)
        if error is None:
            raise
        raise error from None
    return pa.Table.from_struct_array(structs)


def _conversion_error(
    table_name: str,
    rows: list[dict[str, Any]],
    schema: pa.Schema,
    issues: Sequence[dict[str, Any]],
) -> PayloadError | None:
    """Describe the first value in `rows` that does not convert to its column's type.

    Returns None when every value converts on its own.
    """
    misfit = find_misfit(rows, schema)
    if misfit is None:
        return None
    qualified = (
        misfit.column.name if table_name == "issues" else f"{table_name}.{misfit.column.name}"
    )
    problem = f"{describe_column(qualified, COLUMN_SOURCES)} {misfit.describe()}"
    issue_key = row_issue_key(table_name, misfit.row, issues)
    if issue_key is None:
        return PayloadError(
            f"Table `{table_name}`, row with id `{quote_value(misfit.row.get('id'))}`: {problem} "
            "Check for a proxy or an app that changes the responses between Jira and jira-etl."
        )
    # The message does not suggest leaving the issue out with `key != ...` in --jql, because a
    # changed filter stops incremental runs until a full refresh.
    return PayloadError(
        f"Issue `{issue_key}`: {problem} Jira's REST API returns {misfit.expected} there, so "
        "check for a proxy or an app that changes the responses between Jira and jira-etl.",
        issue_key=issue_key,
    )


@dataclass(frozen=True)
class Misfit:
    """A value that does not convert to its column's arrow type, and the row that contains it."""

    row: dict[str, Any]
    column: pa.Field
    value: Any

    @property
    def expected(self) -> str:
        """The values the column accepts, such as `a string`."""
        return _EXPECTED.get(self.column.type, str(self.column.type))

    def describe(self) -> str:
        """Return the end of a message sentence: the value, its JSON type and the expected type."""
        return (
            f"has value `{quote_value(self.value)}` ({_json_type(self.value)}), "
            f"expected {self.expected}."
        )


def describe_column(qualified: str, sources: dict[str, str]) -> str:
    """Name a column for a message, with the Jira field it comes from when `sources` has it."""
    source = sources.get(qualified)
    return f"field `{source}` (column `{qualified}`)" if source else f"column `{qualified}`"


def find_misfit(rows: list[dict[str, Any]], schema: pa.Schema) -> Misfit | None:
    """Find the first value in `rows`, column by column, that does not convert on its own.

    This converts each column again, then each value of a failing column, so call it only
    after the conversion of the whole table failed. Returns None when every value converts.
    """
    for column in schema:
        values = [row.get(column.name) for row in rows]
        try:
            pa.array(values, type=column.type)
            continue
        except CONVERSION_ERRORS:
            pass
        for row, value in zip(rows, values, strict=True):
            try:
                pa.array([value], type=column.type)
            except CONVERSION_ERRORS:
                return Misfit(row, column, value)
    return None


def row_issue_key(
    table_name: str, row: dict[str, Any], issues: Sequence[dict[str, Any]]
) -> str | None:
    """Return the key of the issue a row belongs to, else its id, else None.

    `issues` are `issues` rows (`id` and `key`) to look the row's `issue_id` up in.
    """
    if table_name == "issues":
        issue_row: dict[str, Any] | None = row
        issue_id = row.get("id")
    elif "issue_id" in row:
        issue_id = row["issue_id"]
        issue_row = next((issue for issue in issues if issue.get("id") == issue_id), None)
    else:
        return None
    key = issue_row.get("key") if issue_row is not None else None
    if isinstance(key, str) and key:
        return key
    return None if issue_id is None else quote_value(issue_id)


def _json_type(value: Any) -> str:
    """Name the JSON type of a decoded value, as the user sees it in Jira's response."""
    if isinstance(value, bool):
        return "a JSON boolean"
    if isinstance(value, int | float):
        return "a JSON number"
    if isinstance(value, str):
        return "a JSON string"
    if isinstance(value, dict):
        return "a JSON object"
    if isinstance(value, list | tuple):
        return "a JSON array"
    return f"a Python {type(value).__name__}"


def table_columns(table_name: str, catalog: FieldCatalog) -> dict[str, dict[str, Any]]:
    """Return dlt column hints for a table: `{name: {"data_type": ..., "nullable": True}}`.

    Raises:
        ValueError: `table_name` is unknown.
    """
    return {
        name: {"data_type": dlt_type, "nullable": True}
        for name, dlt_type in column_types(table_name, catalog).items()
    }
