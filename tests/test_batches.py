"""Tables built from small batches of recorded issues and handed to dlt in larger ones."""

from __future__ import annotations

import gc
import json
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dlt
import pyarrow as pa

from pipelines import source
from pipelines.batches import TableBatch, TableBatches
from pipelines.normalize.fields import FieldCatalog
from pipelines.normalize.issues import normalize_issues

CATALOG = FieldCatalog.from_fields([], previous=None)
TABLES = ("issues", "issue_labels", "issue_components", "issue_field_values", "sprints")


def recorded_issues(samples_dir: Path) -> list[dict[str, Any]]:
    page = json.loads((samples_dir / "pragati_search_jql_page_v3.json").read_text())
    issues = page["issues"]
    assert len(issues) == 50
    return issues


def issue_batch(issues: list[dict[str, Any]]) -> source.IssueBatch:
    return source.IssueBatch(normalize_issues(issues, CATALOG), CATALOG, issues)


def registered() -> TableBatches:
    """Register the real table functions of `issues`, its child tables and `sprints`."""
    batch_tables = TableBatches()

    @dlt.resource(name="jira_issue_batches", selected=False)
    def driver() -> Iterator[Any]:
        yield from ()

    source.issue_resources(driver, batch_tables)
    return batch_tables


def rows(table: pa.Table | None) -> list[str]:
    """The rows of `table` in a fixed order, as text."""
    found = [] if table is None else table.to_pylist()
    return sorted(json.dumps(row, sort_keys=True, default=str) for row in found)


def test_combine_joins_and_flushes_at_load_end(samples_dir: Path) -> None:
    issues = recorded_issues(samples_dir)
    chunks = [issues[start : start + 10] for start in range(0, 50, 10)]
    stream = [issue_batch(chunks[0]), issue_batch(chunks[1]), None]
    stream += [issue_batch(chunk) for chunk in chunks[2:]]
    out = list(registered().combine(iter(stream), batch_issues=25))
    # 20 issues, then the end of a load, then 30 issues, which pass 25 with the last batch.
    assert [item.issues if item else None for item in out] == [20, None, 30]
    groups = [issues[:20], issues[20:]]
    for item, group in zip([out[0], out[2]], groups, strict=True):
        assert isinstance(item, TableBatch)
        ids = item.tables["issues"].column("id").to_pylist()
        assert ids == [int(issue["id"]) for issue in group]
        # The joined tables contain the rows that one batch of the same issues gives. The
        # order of child rows follows the batches.
        whole = issue_batch(group)
        functions = registered().functions
        for name in TABLES:
            assert rows(item.tables.get(name)) == rows(functions[name](whole)), name


def test_joined_batches_release_their_json(samples_dir: Path) -> None:
    issues = recorded_issues(samples_dir)
    batch_refs: list[weakref.ref[source.IssueBatch]] = []

    def tracked(start: int) -> source.IssueBatch:
        batch = issue_batch(issues[start : start + 10])
        batch_refs.append(weakref.ref(batch))
        return batch

    def batches() -> Iterator[source.IssueBatch]:
        for start in range(0, 50, 10):
            yield tracked(start)

    combined = registered().combine(batches(), batch_issues=30)
    first = next(combined)
    assert first is not None and first.issues == 30
    gc.collect()
    assert len(batch_refs) == 3
    assert [ref() is None for ref in batch_refs] == [True, True, True]


def test_deselected_tables_are_not_built(samples_dir: Path, tmp_path: Path) -> None:
    issues = recorded_issues(samples_dir)
    batch_tables = TableBatches()
    calls: dict[str, int] = {"issues": 0, "issue_labels": 0}
    functions = registered().functions

    def counted(name: str) -> Any:
        def build(batch: source.IssueBatch) -> pa.Table | None:
            calls[name] += 1
            return functions[name](batch)

        return build

    @dlt.source(name="jira_selection", max_table_nesting=0)
    def selection() -> list[Any]:
        @dlt.resource(name="jira_issue_batches", selected=False)
        def driver() -> Iterator[Any]:
            stream = (issue_batch(issues[start : start + 10]) for start in range(0, 50, 10))
            yield from batch_tables.combine(stream, batch_issues=20)

        return [
            driver,
            batch_tables.transformer(driver, counted("issues"), "issues", primary_key="id"),
            batch_tables.transformer(driver, counted("issue_labels"), "issue_labels"),
        ]

    pipeline = dlt.pipeline(
        pipeline_name="selection", pipelines_dir=str(tmp_path / "p"), destination="duckdb"
    )
    pipeline.extract(selection().with_resources("issues"))
    assert calls == {"issues": 5, "issue_labels": 0}
