"""Sprint values of the Sprint custom field (`com.pyxis.greenhopper.jira:gh-sprint`).

Jira Cloud returns objects: `{"id", "name", "state", "boardId", "goal", "startDate", "endDate",
"completeDate"}`. Older Server and Data Center versions return the Java `toString()` of the
sprint: `com.atlassian.greenhopper.service.sprint.Sprint@1a2b[id=266,rapidViewId=174,
state=CLOSED,name=...,goal=...,startDate=...,endDate=...,completeDate=...,sequence=...]`, where
`<null>` is null. Names and goals may contain commas, `=` and brackets, so the string is cut at
known key names only, and a key name counts only the first time it appears.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from typing import Any

from pipelines.json_text import quote_value
from pipelines.normalize.timestamps import parse_instant

# Keys of the legacy string whose value has a fixed shape. A match counts as a key only when
# the value fits, so text such as `,startDate=soon` inside a goal stays in the goal.
_TYPED_VALUE = {
    "id": r"\d+|<null>",
    "rapidViewId": r"\d+|<null>",
    "sequence": r"-?\d+|<null>",
    "incompleteIssuesDestinationId": r"\d+|<null>",
    "startDate": r"[0-9T:.+\-Z]+|<null>",
    "endDate": r"[0-9T:.+\-Z]+|<null>",
    "completeDate": r"[0-9T:.+\-Z]+|<null>",
    "activatedDate": r"[0-9T:.+\-Z]+|<null>",
    "synced": r"true|false|<null>",
    "autoStartStop": r"true|false|<null>",
}
_FREE_TEXT_KEYS = ("state", "name", "goal")
_KEY_PATTERN = re.compile(
    r"(?:^|,)(" + "|".join([*_TYPED_VALUE, *_FREE_TEXT_KEYS]) + r")=",
)
_TYPED_PATTERNS = {
    key: re.compile(rf"(?:{pattern})(?=,|$)") for key, pattern in _TYPED_VALUE.items()
}


def parse_sprint(value: dict[str, Any] | str) -> dict[str, Any]:
    """Parse one Sprint field value, a Cloud object or a legacy string, into a `sprints` row.

    Both shapes of the same sprint give the same dict.

    Args:
        value: one element of the Sprint field's list.

    Returns:
        A dict with `id` and `board_id` as int, `name`, `goal`, `state` in lower case
        (`active`, `closed`, `future`), and `start_at`, `end_at`, `completed_at` as aware
        UTC datetimes. Absent and `<null>` values are None.

    Raises:
        ValueError: the value is neither a dict nor a string, has no numeric id, a name or goal
            that is not a string, or an unparseable date.
    """
    if isinstance(value, dict):
        return _from_object(value)
    if isinstance(value, str):
        return _from_object(_legacy_fields(value))
    raise ValueError(f"Expected a sprint object or string, got {type(value).__name__}.")


def _from_object(obj: dict[str, Any]) -> dict[str, Any]:
    sprint_id = _to_int(obj.get("id"), "id")
    if sprint_id is None:
        raise ValueError(f"Invalid sprint `{quote_value(obj)}`: it has no id.")
    board = obj.get("boardId", obj.get("originBoardId", obj.get("rapidViewId")))
    state = obj.get("state")
    return {
        "id": sprint_id,
        "name": _to_text(obj.get("name"), "name"),
        "state": state.lower() if isinstance(state, str) else None,
        "board_id": _to_int(board, "board id"),
        "goal": _to_text(obj.get("goal"), "goal"),
        "start_at": _to_instant(obj.get("startDate")),
        "end_at": _to_instant(obj.get("endDate")),
        "completed_at": _to_instant(obj.get("completeDate")),
    }


def _legacy_fields(text: str) -> dict[str, str | None]:
    """Split a legacy `Sprint@...[key=value,...]` string into its known keys."""
    start = text.find("[")
    end = text.rfind("]")
    if start < 0 or end < start:
        raise ValueError(f"Invalid sprint string `{text[:80]}`: expected `Sprint@...[...]`.")
    body = text[start + 1 : end]

    # Positions where a key starts: (key, start of the `key=` match, start of the value).
    boundaries: list[tuple[str, int, int]] = []
    seen: set[str] = set()
    for match in _KEY_PATTERN.finditer(body):
        key = match.group(1)
        if key in seen:
            continue
        typed = _TYPED_PATTERNS.get(key)
        if typed is not None and not typed.match(body, match.end()):
            continue
        seen.add(key)
        boundaries.append((key, match.start(), match.end()))

    fields: dict[str, str | None] = {}
    for index, (key, _key_start, value_start) in enumerate(boundaries):
        value_end = boundaries[index + 1][1] if index + 1 < len(boundaries) else len(body)
        raw = body[value_start:value_end]
        fields[key] = None if raw == "<null>" else raw
    return fields


def _to_int(value: Any, what: str) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise ValueError(f"Invalid sprint {what} `{quote_value(value)}`: expected an integer.")


def _to_text(value: Any, what: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise ValueError(f"Invalid sprint {what} `{quote_value(value)}`: expected a string.")


def _to_instant(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return _parse_sprint_date(value)
    return parse_instant(value)


# Every issue in a sprint repeats the sprint's dates, so each date string is parsed once. An
# invalid string raises each time, because `lru_cache` does not store exceptions.
@lru_cache(maxsize=4096)
def _parse_sprint_date(value: str) -> datetime:
    return parse_instant(value)
