"""JSON text of payload values at any nesting depth: decoding, encoding and quoting.

orjson (3.x) decodes JSON nested at most 1,024 levels deep, but the standard library's `json`
and `repr()` raise RecursionError near Python's default recursion limit of 1,000 frames, and
orjson's encoder rejects values nested 255 levels deep or more. Jira responses are decoded by
`loads`, and values taken from them are written as JSON text and quoted in messages by
`json_text` and `quote_value`, which work at any depth.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

# The deepest nesting of arrays and objects that orjson 3.x decodes.
MAX_DEPTH = 1024

# Path elements shown in messages, enough to name the record and the field. A `JsonDepthError`
# keeps one more, so that `format_path` can tell that the path goes on.
_MESSAGE_PATH_LENGTH = 6

# A string (with its escapes) or one structural character. Numbers, true, false and null
# match neither and are skipped, which is all that locating the nesting needs.
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}:,]')


class JsonDepthError(ValueError):
    """JSON text nested deeper than the decoders read.

    Attributes:
        depth: the deepest nesting of arrays and objects in the text.
        path: the keys and list positions from the top of the text to the first value nested
            deeper than `MAX_DEPTH` (else to the deepest value), cut to the first few.
        issue_key: the `key` of the issue at `issues[n]` when the path starts there.
    """

    def __init__(self, depth: int, path: list[str | int], issue_key: str | None) -> None:
        super().__init__(f"JSON nested {depth} levels deep at `{format_path(path)}`")
        self.depth = depth
        self.path = path
        self.issue_key = issue_key

    @property
    def field(self) -> str | None:
        """The issue field that contains the deep value, when the path goes through `fields`."""
        path = self.path
        if len(path) >= 4 and path[0] == "issues" and path[2] == "fields":
            return str(path[3])
        return None


def loads(content: bytes | str) -> Any:
    """Decode JSON text with orjson, or with `json` for what orjson rejects (NaN, Infinity).

    Raises:
        JsonDepthError: the text nests deeper than `MAX_DEPTH` levels. NOTE: text that only
            `json` decodes fails earlier, near Python's recursion limit.
        ValueError: the text is not JSON (`json.JSONDecodeError` or `UnicodeDecodeError`).
    """
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(content)
    except RecursionError:
        raw = content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content
        raise _depth_error(raw) from None


def json_text(
    value: Any,
    *,
    separators: tuple[str, str] = (",", ":"),
    default: Callable[[Any], Any] | None = None,
) -> str:
    """Write a value as JSON text with non-ASCII characters kept, as `json.dumps` does.

    `json.dumps` recurses once per level of nesting, so a value nested close to Python's
    recursion limit is written from an explicit stack instead, to the same text.
    """
    try:
        return json.dumps(value, ensure_ascii=False, separators=separators, default=default)
    except RecursionError:
        return _json_text_from_stack(value, separators, default)


def quote_value(value: Any, limit: int = 80) -> str:
    """Return a payload value for a message: a string as it is, any other value as JSON text.

    Text longer than `limit` characters is cut and ends with `...`.
    """
    text = (
        value if isinstance(value, str) else json_text(value, separators=(", ", ": "), default=str)
    )
    return text if len(text) <= limit else text[: limit - 3] + "..."


def format_path(path: list[str | int]) -> str:
    """Write a path like `issues[2].fields.description`, with `...` when it was cut."""
    text = ""
    for element in path[:_MESSAGE_PATH_LENGTH]:
        if isinstance(element, int):
            text += f"[{element}]"
        elif text:
            text += f".{element}"
        else:
            text = element
    if len(path) > _MESSAGE_PATH_LENGTH:
        text += "..."
    return text or "the top level"


def _json_text_from_stack(
    value: Any, separators: tuple[str, str], default: Callable[[Any], Any] | None
) -> str:
    item_separator, key_separator = separators
    parts: list[str] = []
    # Pending work, last entry first: (True, text) writes text, (False, value) writes a value.
    pending: list[tuple[bool, Any]] = [(False, value)]
    while pending:
        is_text, item = pending.pop()
        if is_text:
            parts.append(item)
        elif isinstance(item, dict) and item:
            parts.append("{")
            pending.append((True, "}"))
            entries = list(item.items())
            for position in range(len(entries) - 1, -1, -1):
                key, member = entries[position]
                pending.append((False, member))
                key_text = json.dumps(key if isinstance(key, str) else str(key), ensure_ascii=False)
                before = item_separator if position else ""
                pending.append((True, before + key_text + key_separator))
        elif isinstance(item, list | tuple) and item:
            parts.append("[")
            pending.append((True, "]"))
            for position in range(len(item) - 1, -1, -1):
                pending.append((False, item[position]))
                if position:
                    pending.append((True, item_separator))
        else:
            # Scalars, and empty lists and objects, do not nest.
            parts.append(json.dumps(item, ensure_ascii=False, default=default))
    return "".join(parts)


@dataclass(slots=True)
class _OpenContainer:
    """An array or object whose closing bracket the scan has not reached yet."""

    is_object: bool
    # The key of the current member of an object, or the position of the current list item.
    current: str | int | None
    # True in an object whose next string is a key.
    expects_key: bool


def _depth_error(content: bytes) -> JsonDepthError:
    """Measure how deep `content` nests and where, without decoding it."""
    open_containers: list[_OpenContainer] = []
    deepest = 0
    deepest_path: list[str | int] = []
    crossed = False
    issue_keys: dict[int, str] = {}

    for match in _TOKEN.finditer(content):
        token = match.group()
        first = token[:1]
        top = open_containers[-1] if open_containers else None

        if first in (b"{", b"["):
            if len(open_containers) + 1 > deepest:
                deepest = len(open_containers) + 1
                # The path stays at the first container past the limit, where decoding failed.
                if not crossed:
                    kept = open_containers[: _MESSAGE_PATH_LENGTH + 1]
                    deepest_path = [entry.current for entry in kept if entry.current is not None]
                    crossed = deepest > MAX_DEPTH
            is_object = first == b"{"
            open_containers.append(_OpenContainer(is_object, None if is_object else 0, is_object))
        elif first in (b"}", b"]"):
            if top is None:
                break
            open_containers.pop()
        elif top is None:
            continue
        elif first == b",":
            if top.is_object:
                top.expects_key = True
            elif isinstance(top.current, int):
                top.current += 1
        elif first == b'"' and top.is_object:
            text = _string(token)
            if top.expects_key:
                top.current, top.expects_key = text, False
            elif top.current == "key" and len(open_containers) == 3:
                _remember_issue_key(open_containers, text, issue_keys)

    issue_key = None
    if len(deepest_path) >= 2 and deepest_path[0] == "issues":
        position = deepest_path[1]
        issue_key = issue_keys.get(position) if isinstance(position, int) else None
    return JsonDepthError(deepest, deepest_path, issue_key)


def _remember_issue_key(
    open_containers: list[_OpenContainer], key: str, issue_keys: dict[int, str]
) -> None:
    """Store the `key` of the issue object at `issues[n]` of a search or bulk fetch page."""
    page, issues = open_containers[0], open_containers[1]
    if page.current == "issues" and isinstance(issues.current, int):
        issue_keys[issues.current] = key


def _string(token: bytes) -> str:
    try:
        text = json.loads(token)
    except ValueError:
        return token[1:-1].decode("utf-8", "replace")
    return text if isinstance(text, str) else ""
