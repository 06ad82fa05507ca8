"""Compact JSON text of the emulator's responses, at any nesting depth.

Jira serves a field value however deep it nests, but `json.dumps` raises RecursionError near
Python's recursion limit (1,000 frames by default). Values that deep are written from a stack
of iterators instead, so the emulator can serve them too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any


def compact_json(value: Any) -> str:
    """Write `value` as JSON with `,` and `:` separators and non-ASCII characters kept."""
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    except RecursionError:
        return _compact_json_from_stack(value)


def _compact_json_from_stack(value: Any) -> str:
    parts: list[str] = []
    # Open arrays and objects: the (text before, value) of the members still to write, and
    # the character that closes the container.
    open_containers: list[tuple[Iterator[tuple[str, Any]], str]] = []
    while True:
        if isinstance(value, dict) and value:
            parts.append("{")
            keys = (
                ("," if index else "") + json.dumps(str(key), ensure_ascii=False) + ":"
                for index, key in enumerate(value)
            )
            open_containers.append((zip(keys, value.values(), strict=True), "}"))
        elif isinstance(value, list | tuple) and value:
            parts.append("[")
            separators = ("," if index else "" for index in range(len(value)))
            open_containers.append((zip(separators, value, strict=True), "]"))
        else:
            parts.append(json.dumps(value, ensure_ascii=False))
        # Move to the next member of the innermost open container, closing the finished ones.
        while open_containers:
            remaining, closing = open_containers[-1]
            member = next(remaining, None)
            if member is not None:
                before, value = member
                parts.append(before)
                break
            parts.append(closing)
            open_containers.pop()
        else:
            return "".join(parts)
