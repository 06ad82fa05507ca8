"""Tables built from small batches of issues, handed to dlt in larger ones.

Two sizes pull in opposite directions. The decoded JSON of a batch of issues takes tens of
KB per issue, so batches of raw issues should be small. dlt spends milliseconds on every item
of every table whatever its size, so the tables handed to it should be large. `TableBatches`
builds every table of each small batch at once, drops the batch, and joins the Arrow tables
of several batches into one `TableBatch` per table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import dlt
import pyarrow as pa
from dlt.sources import DltResource

# Issues normalized together. Their JSON is freed once their tables are built.
NORMALIZE_ISSUES = 250
# Issues whose tables reach dlt as one item of each table.
BATCH_ISSUES = 2000

TableFunction = Callable[[Any], pa.Table | None]
Item = TypeVar("Item")


def gather_pages(pages: Iterable[list[Item]], size: int) -> Iterator[list[Item] | None]:
    """Join consecutive pages into batches of at least `size` items, and mark where loads end.

    An empty page ends a load: the items gathered before it are yielded, then None.
    """
    pending: list[Item] = []
    for page in pages:
        pending.extend(page)
        if pending and (len(pending) >= size or not page):
            yield pending
            pending = []
        if not page:
            yield None
    if pending:
        yield pending


@dataclass
class TableBatch:
    """The Arrow table of each table for a run of batches, and the number of issues in them."""

    tables: dict[str, pa.Table] = field(default_factory=dict)
    issues: int = 0


class TableBatches:
    """The tables built from each batch of issues, and their transformers.

    `transformer` registers the function that builds a table from one `IssueBatch` and
    returns the dlt transformer that loads it. `combine` then turns the stream of batches
    into `TableBatch` items, which every transformer reads its table from.
    """

    def __init__(self) -> None:
        self.functions: dict[str, TableFunction] = {}

    def transformer(
        self, issue_batches: DltResource, function: TableFunction, name: str, **hints: Any
    ) -> DltResource:
        """Build table `name` with `function` and return its transformer on `issue_batches`."""
        self.functions[name] = function

        # Returned, not yielded: dlt runs a returned value through at once, while it queues
        # a generator beside the driver resource, and queued generators kept every batch of
        # the run in memory.
        def rows(batch: TableBatch) -> pa.Table | None:
            return batch.tables.get(name)

        rows.__name__ = name
        return dlt.transformer(rows, data_from=issue_batches, name=name, **hints)  # type: ignore[call-overload, no-any-return]

    def selected(self) -> dict[str, TableFunction]:
        """Return the functions of the tables the running source selected.

        A library caller may deselect tables with `source.with_resources`. Their functions, some
        of which send requests, are then not run. Outside a running source, all of them are.
        """
        try:
            names = set(dlt.current.source().selected_resources)
        except Exception:  # no source is being extracted
            return dict(self.functions)
        return {name: function for name, function in self.functions.items() if name in names}

    def combine(
        self,
        batches: Iterator[Any],
        batch_issues: int = BATCH_ISSUES,
    ) -> Iterator[TableBatch | None]:
        """Yield a `TableBatch` for about every `batch_issues` issues of `batches`.

        A None in `batches` ends a load: the tables gathered so far are yielded first, then
        the None.
        """
        functions = self.selected()
        gathered: dict[str, list[pa.Table]] = {}
        issues = 0
        for batch in batches:
            ended = batch is None
            if not ended:
                for name, function in functions.items():
                    table = function(batch)
                    if table is not None and table.num_rows:
                        gathered.setdefault(name, []).append(table)
                issues += len(batch.normalized.issue_ids)
            # The batch's JSON and rows go now, and only its Arrow tables stay.
            batch = None
            if issues and (ended or issues >= batch_issues):
                yield _table_batch(gathered, issues)
                gathered = {}
                issues = 0
            if ended:
                yield None
        if issues:
            yield _table_batch(gathered, issues)


def _table_batch(gathered: dict[str, list[pa.Table]], issues: int) -> TableBatch:
    """Join the gathered parts of each table into one `TableBatch`."""
    return TableBatch({name: _join(parts) for name, parts in gathered.items()}, issues)


def _join(parts: list[pa.Table]) -> pa.Table:
    """Join tables of one name; a column missing or all null in some parts takes the type."""
    if len(parts) == 1:
        return parts[0]
    return pa.concat_tables(parts, promote_options="permissive")
