"""Jira's numeric ids, read strictly."""

from __future__ import annotations

from typing import Any


def parse_id(value: Any) -> int | None:
    """Return the integer of a Jira id sent as an int or a string, or None when it is not one.

    Jira writes ids as plain decimal numbers. Python's `int()` also takes `"0003"`, `" 3"`,
    `"1_000"`, `"+3"` and digits of other scripts, and each of those would stand for another
    id, so a string counts only when it is exactly how the number is written.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            number = int(value)
        except ValueError:
            return None
        if str(number) == value:
            return number
    return None
