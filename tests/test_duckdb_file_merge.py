"""Merging into DuckDB from the package's Parquet files gives what dlt's staging merge gives."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dlt
import duckdb
import pyarrow as pa
import pytest

from pipelines.destinations.duckdb_file_merge import staging_merge
from pipelines.runner import RunOptions, load_within_memory, make_pipeline

T1 = datetime(2026, 1, 1, tzinfo=UTC)
T2 = datetime(2026, 2, 1, tzinfo=UTC)
T3 = datetime(2026, 3, 1, tzinfo=UTC)

LABEL_HINTS: dict[str, Any] = {
    "primary_key": ("issue_id", "label"),
    "merge_key": "issue_id",
    "write_disposition": "merge",
    "columns": {
        "_clear": {"data_type": "bool", "hard_delete": True},
        "issue_updated_at": {"dedup_sort": "desc"},
    },
}
ISSUE_HINTS: dict[str, Any] = {
    "primary_key": "id",
    "write_disposition": "merge",
    "columns": {"updated_at": {"dedup_sort": "desc"}},
}


def labels(rows: list[tuple[int, str, datetime, bool]], note: bool = False) -> pa.Table:
    table = {
        "issue_id": pa.array([row[0] for row in rows], pa.int64()),
        "label": pa.array([row[1] for row in rows], pa.string()),
        "issue_updated_at": pa.array([row[2] for row in rows], pa.timestamp("us", tz="UTC")),
        "_clear": pa.array([row[3] for row in rows], pa.bool_()),
    }
    if note:
        table["note"] = pa.array([f"note {row[0]}" for row in rows], pa.string())
    return pa.table(table)


def issues(rows: list[tuple[int, str, datetime]]) -> pa.Table:
    return pa.table(
        {
            "id": pa.array([row[0] for row in rows], pa.int64()),
            "summary": pa.array([row[1] for row in rows], pa.string()),
            "updated_at": pa.array([row[2] for row in rows], pa.timestamp("us", tz="UTC")),
        }
    )


# The first load: one item of each table.
FIRST = {
    "labels": [
        labels(
            [
                (1, "a", T1, False),
                (1, "b", T1, False),
                (2, "c", T1, False),
                (3, "d", T1, False),
                (3, "e", T1, False),
            ],
            note=True,
        )
    ],
    "issues": [issues([(1, "one", T1), (2, "two", T1), (3, "three", T1), (7, "seven", T1)])],
}
# The second load: several items, written to several files, without the `note` column.
SECOND = {
    "labels": [
        # Label b is removed from the issue with id 1.
        labels([(1, "a", T2, False)]),
        # A marker row clears the labels of the issue with id 3, and is not stored itself.
        labels([(3, "", T2, True)]),
        # The issue with id 2 twice: its newer version first, then an older copy of one label.
        labels([(2, "c", T3, False), (2, "f", T3, False)]),
        labels([(2, "c", T2, False)]),
    ],
    "issues": [
        issues([(7, "seven, newer", T3)]),
        issues([(7, "seven, older", T2), (2, "two, edited", T2)]),
    ],
}


def source(items: dict[str, list[pa.Table]]) -> Any:
    @dlt.source(name="merge_check", max_table_nesting=0)
    def merge_check() -> list[Any]:
        @dlt.resource(name="labels", **LABEL_HINTS)
        def label_rows() -> Any:
            yield from items["labels"]

        @dlt.resource(name="issues", **ISSUE_HINTS)
        def issue_rows() -> Any:
            yield from items["issues"]

        return [label_rows, issue_rows]

    return merge_check()


def load_twice(folder: Path) -> Path:
    """Load FIRST, then SECOND, into a new DuckDB file in `folder`; return the file."""
    folder.mkdir(parents=True, exist_ok=True)
    options = RunOptions(
        pipeline_name="merge_check",
        duckdb_path=str(folder / "merge.duckdb"),
        pipelines_dir=str(folder / "pipelines"),
        dataset="merged",
    )
    pipeline = make_pipeline(options)
    for items in (FIRST, SECOND):
        pipeline.extract(source(items))
        pipeline.normalize()
        load_within_memory(pipeline, options)
    return Path(options.duckdb_path)


def table_rows(path: Path, table: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(path), read_only=True) as connection:
        columns = [
            name
            for (name,) in connection.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'merged' and table_name = ? order by column_name",
                [table],
            ).fetchall()
        ]
        listed = ", ".join(f'"{name}"' for name in columns)
        return [
            tuple(zip(columns, row, strict=True))
            for row in connection.execute(
                f"select {listed} from merged.{table} order by all"
            ).fetchall()
        ]


def staged_tables(path: Path) -> set[str]:
    with duckdb.connect(str(path), read_only=True) as connection:
        return {
            name
            for (name,) in connection.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'merged_staging'"
            ).fetchall()
        }


def parquet_files(folder: Path, table: str) -> int:
    return len(list((folder / "pipelines").rglob(f"completed_jobs/{table}.*.parquet")))


@pytest.fixture
def one_file_per_item(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each item of SECOND lands in a file of its own, so the merge reads several files.
    monkeypatch.setenv("DATA_WRITER__FILE_MAX_ITEMS", "1")


@pytest.mark.usefixtures("one_file_per_item")
def test_file_merge_matches_staging_merge(tmp_path: Path) -> None:
    direct = load_twice(tmp_path / "direct")
    with staging_merge():
        staged = load_twice(tmp_path / "staged")
    # The second load wrote each item to its own file, in both folders.
    for folder in (tmp_path / "direct", tmp_path / "staged"):
        assert parquet_files(folder, "labels") >= 1 + len(SECOND["labels"])
        assert parquet_files(folder, "issues") >= 1 + len(SECOND["issues"])
    for table in ("labels", "issues"):
        assert table_rows(direct, table) == table_rows(staged, table)


@pytest.mark.usefixtures("one_file_per_item")
def test_file_merge_keeps_newest_rows(tmp_path: Path) -> None:
    path = load_twice(tmp_path)
    with duckdb.connect(str(path), read_only=True) as connection:
        stored = connection.execute(
            "select issue_id, label, issue_updated_at, note from merged.labels order by all"
        ).fetchall()
        summaries = connection.execute(
            "select id, summary, updated_at from merged.issues order by id"
        ).fetchall()
    assert [(row[0], row[1], row[2]) for row in stored] == [
        (1, "a", T2),
        (2, "c", T3),
        (2, "f", T3),
    ]
    # The second load had no `note` column, so its rows hold none.
    assert [row[3] for row in stored] == [None, None, None]
    assert summaries == [
        (1, "one", T1),
        (2, "two, edited", T2),
        (3, "three", T1),
        (7, "seven, newer", T3),
    ]


def test_file_merge_leaves_no_staging_copy(tmp_path: Path) -> None:
    direct = load_twice(tmp_path / "direct")
    with staging_merge():
        staged = load_twice(tmp_path / "staged")
    assert not {"labels", "issues"} & staged_tables(direct)
    # dlt's own merge keeps its staging tables, which is what the file merge saves.
    assert {"labels", "issues"} <= staged_tables(staged)
