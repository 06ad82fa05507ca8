"""The checkpoint and the block eviction that run after each job of a load step."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.destinations.duckdb_held import checkpoint, drop_cached_blocks
from pipelines.destinations.duckdb_row_groups import attach_statement


def cached_mib(connection: duckdb.DuckDBPyConnection) -> float:
    (used,) = connection.execute("select sum(memory_usage_bytes) from duckdb_memory()").fetchone()
    return float(used) / 2**20


def test_checkpoint_reaches_the_attached_file_from_a_clone(tmp_path: Path) -> None:
    database = tmp_path / "jira.duckdb"
    wal = Path(f"{database}.wal")
    connection = duckdb.connect(":memory:")
    connection.execute(attach_statement(str(database)))
    connection.execute('USE "jira"')
    clone = connection.duplicate()
    # A clone starts in the in-memory database, where a plain CHECKPOINT would go.
    assert clone.execute("select current_database()").fetchone() == ("memory",)
    clone.execute("create table jira.main.t (i integer)")
    clone.execute("insert into jira.main.t values (1), (2), (3)")
    assert wal.exists()
    assert wal.stat().st_size > 0
    checkpoint(clone)
    assert not wal.exists() or wal.stat().st_size == 0
    connection.close()
    reopened = duckdb.connect(str(database), read_only=True)
    assert reopened.execute("select sum(i) from t").fetchone() == (6,)


def test_drop_cached_blocks_frees_memory_and_keeps_limit(tmp_path: Path) -> None:
    connection = duckdb.connect(str(tmp_path / "cache.duckdb"))
    connection.execute("SET memory_limit = '200MiB'")
    connection.execute(
        "create table t as select range as i, repeat('x', 100) || range::varchar as s "
        "from range(1000000)"
    )
    connection.execute("CHECKPOINT")
    connection.execute("select sum(length(s)) from t").fetchall()
    assert cached_mib(connection) > 10
    drop_cached_blocks(connection, "200MiB")
    assert cached_mib(connection) < 2
    assert connection.execute("select current_setting('memory_limit')").fetchone() == ("200.0 MiB",)
    # The data is read back from the file.
    assert connection.execute("select count(*) from t").fetchone() == (1_000_000,)


def test_drop_cached_blocks_restores_reported_limit(tmp_path: Path) -> None:
    connection = duckdb.connect(str(tmp_path / "limit.duckdb"))
    connection.execute("SET memory_limit = '1.5GiB'")
    drop_cached_blocks(connection)
    assert connection.execute("select current_setting('memory_limit')").fetchone() == ("1.5 GiB",)
