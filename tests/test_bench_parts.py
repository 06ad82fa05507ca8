"""The benchmark splits recorded pages into loads as `jira-etl run --issues-per-load` does."""

from __future__ import annotations

from pipelines.bench import split_into_loads


def pages_of(*sizes: int) -> list[list[dict[str, int]]]:
    """Pages with the given numbers of issues, numbered from 1 across pages."""
    pages, number = [], 1
    for size in sizes:
        pages.append([{"id": number + offset} for offset in range(size)])
        number += size
    return pages


def issue_ids(part: list[list[dict[str, int]]]) -> list[int]:
    return [issue["id"] for page in part for issue in page]


def test_zero_keeps_one_load() -> None:
    pages = pages_of(3, 3, 1)
    assert split_into_loads(pages, 0) == [pages]
    assert split_into_loads(pages, -1) == [pages]


def test_part_ends_at_whole_page() -> None:
    parts = split_into_loads(pages_of(3, 3, 3, 1), 5)
    assert [issue_ids(part) for part in parts] == [[1, 2, 3, 4, 5, 6], [7, 8, 9, 10]]


def test_exact_sizes_give_one_page_each() -> None:
    parts = split_into_loads(pages_of(3, 3, 3), 3)
    assert [len(part) for part in parts] == [1, 1, 1]
    assert [issue_ids(part) for part in parts] == [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
