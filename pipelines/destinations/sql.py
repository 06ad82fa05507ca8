"""Small SQL helpers shared by the runner and the source, for any dlt SQL client."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

# Ids listed in one `in (...)` clause, well under every supported database's limits.
IDS_PER_STATEMENT = 1000


def table_names(client: Any) -> list[str]:
    """Return the names of the tables in the client's dataset, without its views."""
    rows = client.execute_sql(
        "select table_name from information_schema.tables "
        "where table_schema = %s and table_type = 'BASE TABLE'",
        client.dataset_name,
    )
    return [row[0] for row in rows or []]


def column_names(client: Any, table: str) -> list[str]:
    """Return the names of the columns of `table` in the client's dataset."""
    rows = client.execute_sql(
        "select column_name from information_schema.columns "
        "where table_schema = %s and table_name = %s",
        client.dataset_name,
        table,
    )
    return [row[0] for row in rows or []]


def id_lists(ids: Iterable[int]) -> Iterator[str]:
    """Yield the sorted, distinct `ids` as comma-separated lists of at most `IDS_PER_STATEMENT`."""
    ordered = sorted({int(i) for i in ids})
    for start in range(0, len(ordered), IDS_PER_STATEMENT):
        yield ", ".join(str(i) for i in ordered[start : start + IDS_PER_STATEMENT])
