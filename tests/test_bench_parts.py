"""The benchmark splits recorded pages into loads as `jira-etl run --issues-per-load` does."""

from __future__ import annotations

import gc
import os
import re
from pathlib import Path

import pytest

from pipelines.batches import gather_pages
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


def test_pages_gathered_into_batches() -> None:
    batches = list(gather_pages(pages_of(100, 100, 100, 100, 50), 250))
    assert [len(batch) for batch in batches if batch is not None] == [300, 150]
    assert None not in batches


def test_empty_page_ends_batch_and_load() -> None:
    batches = list(gather_pages(pages_of(100, 100, 0, 100), 250))
    assert [None if batch is None else len(batch) for batch in batches] == [200, None, 100]


def test_bench_parts_end_at_fetched_pages(capsys: pytest.CaptureFixture[str]) -> None:
    frozen_before = gc.get_freeze_count()
    # The emulator returns 100 issues per page, so parts of 100 issues hold one page each.
    assert main(["normalize", "--issues", "350", "--issues-per-load", "100"]) == 0

    header, machine = capsys.readouterr().out.splitlines()[:2]
    assert "in pages of up to 100," in header
    assert "loaded in 4 parts" in header
    # The machine line lets figures of different days be compared.
    model = next(
        line.split(":", 1)[1].strip()
        for line in Path("/proc/cpuinfo").read_text().splitlines()
        if line.startswith("model name")
    )
    assert machine.startswith(f"machine: {model}, {os.cpu_count()} CPUs, load average ")
    assert re.search(r"plain Python loop \d+\.\d million iterations/s$", machine)
    # The benchmark unfreezes the objects it froze, so later code in the process collects them.
    assert gc.get_freeze_count() == frozen_before


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
