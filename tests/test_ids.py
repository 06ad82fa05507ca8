"""Jira ids are read only when written as Jira writes them."""

from __future__ import annotations

from typing import Any

import pytest

from pipelines.ids import parse_id


@pytest.mark.parametrize(
    ("value", "expected"),
    [("10001", 10001), (10001, 10001), ("0", 0), ("-1", -1), (str(2**63 - 1), 2**63 - 1)],
)
def test_plain_ids_are_read(value: Any, expected: int) -> None:
    assert parse_id(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        *["0003", " 3", "3 ", "+3", "1_000", "²", "٣", "3.0", "", "ABC-1", None, True, 3.0, ["3"]],
        *[str(2**63), 2**63, str(-(2**63) - 1), "18446744073709551616"],
    ],
)
def test_other_spellings_are_not_ids(value: Any) -> None:
    assert parse_id(value) is None
