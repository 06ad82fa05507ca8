"""Let dlt write the DuckDB file in row groups of `ROW_GROUP_ROWS` rows.

DuckDB fills row groups of 122,880 rows unless the connection that writes says otherwise, and
the setting is not kept in the file: only `ATTACH ... (ROW_GROUP_SIZE n)` sets it, for that
connection. Loads in parts of 10,000 issues appended to partly filled row groups, and the
checkpoint after some of them took up to 216 MiB beyond the memory before the load; the same
20 parts written in row groups of 16,384 rows took at most 99 MiB (docs/benchmark.md).

dlt opens its DuckDB connections with `duckdb.connect(path)`. For credentials built by
`attach_with_row_groups`, it opens an in-memory database instead, attaches the file under the
catalog name DuckDB would give it (the file name without its extension), and makes that
catalog the default of every connection it hands out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipelines.destinations.duckdb_catalog import quote_identifier

ROW_GROUP_ROWS = 16_384
# Catalog names DuckDB keeps for itself; a file of such a name is opened as before.
_RESERVED_CATALOGS = {"memory", "system", "temp"}

_PATCHED = False


def attach_statement(path: str) -> str:
    """Return the ATTACH statement that opens `path` with `ROW_GROUP_ROWS` rows a row group."""
    literal = "'" + path.replace("'", "''") + "'"
    alias = quote_identifier(Path(path).stem)
    return f"ATTACH IF NOT EXISTS {literal} AS {alias} (ROW_GROUP_SIZE {ROW_GROUP_ROWS})"


def attach_with_row_groups(credentials: Any) -> None:
    """Make dlt open the file of `credentials` through `attach_statement`.

    dlt copies `statements` and `local_config` into every client's credentials, so the
    choice reaches all of them.
    """
    database = str(credentials.database)
    if Path(database).stem.lower() in _RESERVED_CATALOGS:
        return
    _patch_connection_string()
    credentials.statements = [*(credentials.statements or []), attach_statement(database)]
    # `schema` is what DuckDB's USE sets; a connection dlt clones does not inherit USE. The
    # value is read as a name, so a file name with a dot or a quote is quoted.
    credentials.local_config = {**(credentials.local_config or {}), "schema": _default(database)}


def attaches_own_file(credentials: Any) -> bool:
    """Return True when `credentials` open their file through `attach_statement`.

    Both the statement and the default schema must be there: without the latter, dlt would
    write into the in-memory database, and the tables would be lost when it closes.
    """
    database = getattr(credentials, "database", None)
    if not isinstance(database, str) or database.startswith(":"):
        return False
    if getattr(credentials, "read_only", False):
        return False
    if (credentials.local_config or {}).get("schema") != _default(database):
        return False
    return attach_statement(database) in (credentials.statements or [])


def _patch_connection_string() -> None:
    """Teach dlt's DuckDB credentials to open an in-memory database when they attach the file."""
    global _PATCHED
    if _PATCHED:
        return
    from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

    original = DuckDbCredentials._conn_str

    def _conn_str(self: Any) -> str:
        if attaches_own_file(self):
            return ":memory:"
        return str(original(self))

    DuckDbCredentials._conn_str = _conn_str  # type: ignore[method-assign]
    _PATCHED = True


def _default(path: str) -> str:
    return quote_identifier(Path(path).stem)
