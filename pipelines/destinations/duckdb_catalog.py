"""Let dlt load into `jira.duckdb` with the dataset `jira`.

DuckDB names a database file's catalog after the file (`jira.duckdb` -> `jira`). With a schema
of the same name, the two-part names dlt writes (`jira.issues`) are ambiguous, and DuckDB 1.x
and 2.x both reject them. Qualifying every name with the catalog makes them unambiguous, so dlt's
DuckDB SQL client is taught to add the catalog exactly when it equals the dataset name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

_PATCHED = False


def qualify_clashing_catalog() -> None:
    """Patch dlt's DuckDB SQL client once per process; other datasets are left as they were."""
    global _PATCHED
    if _PATCHED:
        return
    from dlt.destinations.impl.duckdb.sql_client import DuckDbSqlClient

    original = DuckDbSqlClient.catalog_name

    def catalog_name(self: Any, quote: bool = True, casefold: bool = True) -> str | None:
        catalog = _catalog_of(self)
        # DuckDB compares names without regard to case.
        if catalog and catalog.lower() == self.dataset_name.lower():
            return self.capabilities.escape_identifier(catalog) if quote else catalog
        return original(self, quote=quote, casefold=casefold)

    def _catalog_of(client: Any) -> str:
        # DuckDB names the catalog of a database file after the file name without its extension.
        # Read `database` rather than the connection string, because a file opened through
        # ATTACH connects to an in-memory database (`duckdb_row_groups`).
        database = str(getattr(client.credentials, "database", "") or "")
        if not database or database == ":memory:" or database.startswith(":"):
            return ""
        return Path(database).stem

    DuckDbSqlClient.catalog_name = catalog_name  # type: ignore[method-assign]
    DuckDbSqlClient.warn_if_catalog_equals_dataset_name = lambda self: None  # type: ignore[method-assign]
    _PATCHED = True


def quote_identifier(name: str) -> str:
    """Quote `name` as a DuckDB identifier."""
    return '"' + name.replace('"', '""') + '"'


def connect_dataset(path: str, dataset: str, *, read_only: bool = False) -> Any:
    """Open a DuckDB file with `dataset` as the default schema, so plain table names work.

    Raises:
        duckdb.Error: the file cannot be opened or has no such dataset.
    """
    import duckdb

    connection = duckdb.connect(path, read_only=read_only)
    row = connection.execute("select current_database()").fetchone()
    catalog = row[0] if row else Path(path).stem
    connection.execute(f"use {quote_identifier(catalog)}.{quote_identifier(dataset)}")
    return connection


def count_rows_read_only(path: str, dataset: str) -> dict[str, int]:
    """Count the rows of each table of `dataset` in the DuckDB file, opened read-only.

    Other programs may keep the file open read-only too, as BI tools do, while this reads.
    dlt's own tables (`_dlt_*`) are left out. A file without the dataset gives no tables.

    Raises:
        duckdb.Error: the file cannot be opened, for example while a run writes to it.
    """
    import duckdb

    connection = duckdb.connect(path, read_only=True)
    try:
        names = connection.execute(
            "select table_name from information_schema.tables where table_catalog = "
            "current_database() and table_schema = ? and table_type = 'BASE TABLE'",
            [dataset],
        ).fetchall()
        counts: dict[str, int] = {}
        catalog = connection.execute("select current_database()").fetchone()
        prefix = f"{quote_identifier(catalog[0] if catalog else Path(path).stem)}."
        for (name,) in sorted(names):
            if name.startswith("_dlt"):
                continue
            qualified = f"{prefix}{quote_identifier(dataset)}.{quote_identifier(name)}"
            row = connection.execute(f"select count(*) from {qualified}").fetchone()
            counts[name] = int(row[0]) if row else 0
        return counts
    finally:
        connection.close()
