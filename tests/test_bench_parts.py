"""The benchmark splits recorded pages into loads as `jira-etl run --issues-per-load` does."""

from __future__ import annotations

import pytest

from pipelines.bench import main, split_into_loads


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


# Small sizes keep the benchmark short if it runs despite the negative value.
@pytest.mark.parametrize(
    "command",
    [
        ["fetch", "--issues", "5", "--latency-ms", "0", "--strategies", "parallel"],
        ["normalize", "--issues", "5"],
    ],
    ids=["fetch", "normalize"],
)
def test_negative_issues_per_load_rejected(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main([*command, "--issues-per-load", "-1"])

    assert stopped.value.code == 2
    assert "--issues-per-load: invalid value `-1`: expected 0 or more" in capsys.readouterr().err
