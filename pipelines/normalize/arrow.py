"""Fixed pyarrow schemas and dlt column hints for the tables built from issues.

Every table has the same columns and types in every batch, so a column that is null in one
batch still gets its type, and a number field stays DOUBLE whatever its values look like.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import pyarrow as pa

from pipelines.normalize.columns import CHILD_TABLE_COLUMNS, ISSUE_COLUMNS, SPRINT_COLUMNS
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


def arrow_table(table_name: str, rows: list[dict[str, Any]], catalog: FieldCatalog) -> pa.Table:
    """Build an arrow table with the table's fixed schema from normalized rows.

    Args:
        table_name: `issues`, `sprints` or a child table name.
        rows: rows from `normalize_issues`; a missing key is null.
        catalog: the field catalog that adds the custom columns of `issues`.

    Returns:
        The table, with every column of the schema even when `rows` is empty.

    Raises:
        ValueError: `table_name` is unknown.
        pyarrow.ArrowInvalid: a value does not fit its column's type.
    """
    schema = arrow_schema(table_name, catalog)
    # Arrow converts a list of dicts to a struct array in C++, missing keys as nulls: several
    # times faster than one Python list per column. The struct's fields are the schema's, so
    # the table has the schema without a cast.
    structs = pa.array(rows, type=pa.struct(schema))
    return pa.Table.from_struct_array(structs)


def table_columns(table_name: str, catalog: FieldCatalog) -> dict[str, dict[str, Any]]:
    """Return dlt column hints for a table: `{name: {"data_type": ..., "nullable": True}}`.

    Raises:
        ValueError: `table_name` is unknown.
    """
    return {
        name: {"data_type": dlt_type, "nullable": True}
        for name, dlt_type in column_types(table_name, catalog).items()
    }
