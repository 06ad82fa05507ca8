"""Keep one DuckDB database open through dlt's load step, with a checkpoint between jobs.

dlt's DuckDB pool closes the database whenever no job has a connection borrowed, and DuckDB
checkpoints when it closes. So each job of a load step opened the file again, attached it
and ran the configured statements, and its checkpoint ran at close, where DuckDB reports no
failure: on a full disk the rows stayed in the write-ahead log and the run exited 0.

Inside `held_database`, a pool that opens its own database keeps it open until the block
ends. When a job has returned its connection, the next borrow first checkpoints the database
with `CHECKPOINT`, so the write-ahead log stays as small as before, and a checkpoint that
fails raises. DuckDB then lets go of the blocks it keeps in memory, as a closed database did.
At the end, the block checkpoints once more and closes the database. Jobs of the same load
share the database and its memory_limit.

The checkpoint does not run as the job returns its connection, because dlt records a job as
done only after that: a run killed during the checkpoint would run the job again.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from pipelines.destinations.duckdb_catalog import quote_identifier

_PATCHED = False
_lock = threading.Lock()
# The pools kept open by the `held_database` block that is running, or None outside one.
_open_pools: list[Any] | None = None


@contextmanager
def held_database() -> Iterator[None]:
    """Keep each DuckDB database that dlt opens in this block open until the block ends.

    Raises:
        duckdb.Error: the last checkpoint failed, for example on a full disk. The rows
            are then in the write-ahead log, which DuckDB replays when it opens the file.
    """
    global _open_pools
    _patch_pool()
    with _lock:
        if _open_pools is not None:
            raise RuntimeError("held_database blocks cannot be nested")
        _open_pools = []
    try:
        yield
    except BaseException:
        with _lock:
            pools, _open_pools = _open_pools, None
        # The failure in the block is the one to report; the pools close all the same.
        with suppress(Exception):
            release(pools)
        raise
    with _lock:
        pools, _open_pools = _open_pools, None
    release(pools)


def release(pools: list[Any]) -> None:
    """Checkpoint and close each pool's database that no connection uses any more.

    Every pool is closed even when a checkpoint fails; the first failure is raised.
    """
    failure: BaseException | None = None
    for pool in pools:
        with pool._conn_lock:
            pool._jira_etl_held = False
            pool._jira_etl_unsettled = False
            pool._conn_borrows -= 1
            if pool._conn_borrows > 0 or pool._conn is None:
                continue
            try:
                checkpoint(pool._conn)
            except Exception as exc:  # noqa: BLE001 (every pool closes first)
                failure = failure or exc
            finally:
                pool._close_conn()
    if failure is not None:
        raise failure


def checkpoint(connection: Any) -> None:
    """Checkpoint every database file that `connection` can write.

    A connection that dlt clones does not inherit `USE`, so a plain `CHECKPOINT` would
    checkpoint the in-memory database that the file is attached to.
    """
    files = connection.execute(
        "select database_name from duckdb_databases() "
        "where path is not null and not readonly and type = 'duckdb'"
    ).fetchall()
    for (name,) in files:
        connection.execute(f"CHECKPOINT {quote_identifier(name)}")


def drop_cached_blocks(connection: Any, configured_limit: str | None = None) -> None:
    """Let DuckDB free the table blocks it keeps in memory after a job.

    DuckDB keeps the blocks a job read or wrote until its memory_limit is reached, so each job
    of a load step would start with the previous jobs' blocks in memory. A database closed
    after each job started empty. DuckDB evicts blocks to fit a lower memory_limit, so the
    limit is lowered for a moment and then set back: to `configured_limit` when given, since
    DuckDB reports the limit rounded to 0.1 of its unit. When DuckDB cannot evict enough, for
    example while another job runs, the limit stays as it was.
    """
    limit = configured_limit
    if limit is None:
        (limit,) = connection.execute("select current_setting('memory_limit')").fetchone()
    try:
        connection.execute("SET memory_limit = '1MiB'")
    except Exception:  # noqa: BLE001 (blocks in use stay, and the limit is unchanged)
        return
    connection.execute("SET memory_limit = '" + str(limit).replace("'", "''") + "'")


def settle_previous_job(pool: Any) -> None:
    """Checkpoint the jobs that returned their connections, then drop DuckDB's cached blocks.

    Runs under the pool's lock, so that no job borrows a connection while the memory_limit is
    lowered, and only when the block's own borrow is the last one.
    """
    with pool._conn_lock:
        if not getattr(pool, "_jira_etl_unsettled", False):
            return
        if pool._conn_borrows != 1 or pool._conn is None:
            return
        connection = pool._conn.duplicate()
        try:
            checkpoint(connection)
            configured = (pool.credentials.global_config or {}).get("memory_limit")
            drop_cached_blocks(connection, configured)
            pool._jira_etl_unsettled = False
        finally:
            connection.close()


def _patch_pool() -> None:
    """Teach dlt's DuckDB connection pool to stay open inside a `held_database` block."""
    global _PATCHED
    if _PATCHED:
        return
    from dlt.destinations.impl.duckdb.configuration import DuckDbConnectionPool

    original_borrow = DuckDbConnectionPool.borrow_conn
    original_return = DuckDbConnectionPool.return_conn

    def borrow_conn(self: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(self, "_jira_etl_held", False):
            settle_previous_job(self)
        connection = original_borrow(self, *args, **kwargs)
        with _lock:
            holding = _open_pools
            if (
                holding is not None
                and self._conn_owner
                and not self.always_open_connection
                and not getattr(self, "_jira_etl_held", False)
            ):
                with self._conn_lock:
                    # The block's own borrow: the count no longer reaches 0 after a job,
                    # so the pool neither closes the database nor runs its statements again.
                    self._conn_borrows += 1
                    self._jira_etl_held = True
                holding.append(self)
        return connection

    def return_conn(self: Any, borrowed_conn: Any) -> int:
        left = int(original_return(self, borrowed_conn))
        if getattr(self, "_jira_etl_held", False):
            # The checkpoint waits for the next borrow or the end of the block: dlt records
            # that a job is done only after the job returns its connection, and a run killed
            # in between runs the job again.
            self._jira_etl_unsettled = True
        return left

    DuckDbConnectionPool.borrow_conn = borrow_conn  # type: ignore[method-assign]
    DuckDbConnectionPool.return_conn = return_conn  # type: ignore[method-assign]
    _PATCHED = True
