"""Let dlt write the DuckDB file in row groups of `ROW_GROUP_ROWS` rows.

DuckDB writes row groups of 122,880 rows unless the writing connection sets another size. Only
`ATTACH ... (ROW_GROUP_SIZE n)` sets it, for that connection, and the file does not store it.
A script loaded 20 parts of 10,000 issues into one file. With the default size, the
checkpoint after some parts took up to 216 MiB beyond the memory before the load, and with
16,384 rows at most 99 MiB (docs/benchmark.md).

dlt opens its DuckDB connections with `duckdb.connect(path)`. For credentials prepared by
`attach_with_row_groups`, it opens an in-memory database instead and attaches the file under
its name without the extension (`Path.stem`), which is the catalog name DuckDB gives a file
with a single dot in its name. That catalog is the default of every connection dlt hands out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipelines.destinations.duckdb_catalog import quote_identifier

ROW_GROUP_ROWS = 16_384
# The catalogs and schemas of a new in-memory DuckDB 1.5 database. An attached file under such
# a name is rejected or hidden behind them, so such a file is opened with `duckdb.connect`.
_RESERVED_NAMES = {"memory", "system", "temp", "main", "pg_catalog", "information_schema"}

_PATCHED = False


def attach_statement(path: str) -> str:
    """Return the ATTACH statement that opens `path` with `ROW_GROUP_ROWS` rows a row group."""
    literal = "'" + path.replace("'", "''") + "'"
    return f"ATTACH IF NOT EXISTS {literal} AS {_default(path)} (ROW_GROUP_SIZE {ROW_GROUP_ROWS})"


def attach_with_row_groups(credentials: Any) -> None:
    """Make dlt open the file of `credentials` through `attach_statement`.

    dlt copies `statements` and `local_config` into every client's credentials, so the
    choice reaches all of them.
    """
    database = str(credentials.database)
    if Path(database).stem.lower() in _RESERVED_NAMES:
        return
    if "schema" in (credentials.local_config or {}):
        # The user chose the default schema, so the file is opened as configured.
        return
    _patch_connection_string()
    # First, so that the user's statements run in the attached file, as they did when dlt
    # opened the file itself.
    use = f"USE {_default(database)}"
    credentials.statements = [attach_statement(database), use, *(credentials.statements or [])]
    # USE sets DuckDB's `schema` setting, and a connection that dlt clones does not inherit
    # USE. DuckDB parses the value as a name, so the file name is quoted.
    credentials.local_config = {**(credentials.local_config or {}), "schema": _default(database)}


def attaches_own_file(credentials: Any) -> bool:
    """Return True when `credentials` open their file through `attach_statement`.

    Both the statement and the default schema must be set. Without the default schema, dlt
    would write into the in-memory database, and the tables would be lost when it closes.
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
    """Return the quoted catalog name of the file `path`: its name without the extension."""
    return quote_identifier(Path(path).stem)
