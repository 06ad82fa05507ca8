"""Jira's numeric ids, read strictly."""

from __future__ import annotations

from typing import Any

# The range of the 64-bit integer columns that ids are stored in.
ID_MIN, ID_MAX = -(2**63), 2**63 - 1


def parse_id(value: Any) -> int | None:
    """Return the integer of a Jira id sent as an int or a string, or None when it is not one.

    The tables store ids as 64-bit integers, so a number outside that range is not an id.
    """
    number = written_integer(value)
    if number is None or not ID_MIN <= number <= ID_MAX:
        return None
    return number


def written_integer(value: Any) -> int | None:
    """Return the integer that `value` is or spells exactly, whatever its size, or None.

    Jira writes ids as plain decimal numbers. Python's `int()` also takes `"0003"`, `" 3"`,
    `"1_000"`, `"+3"` and digits of other scripts, and each of those would stand for another
    id, so a string counts only when it is exactly how the number is written.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not isinstance(value, str):
        return None
    try:
        number = int(value)
    except ValueError:
        return None
    return number if str(number) == value else None
