"""Deeply nested JSON values for tests, built with loops, and their JSON text built from strings.

The text is written by string concatenation, independently of the encoders under test. Python's
`json` and `==` on such values recurse, so tests compare the text, never the values.
"""

from __future__ import annotations

from typing import Any


def quoted_doc(depth: int, text: str = "deep") -> dict[str, Any]:
    """Build an ADF document that nests `depth` JSON levels: blockquotes around one text node.

    Each blockquote adds two levels (its object and its `content` list). When `depth` is even,
    the text node carries an empty `marks` list, one level more.
    """
    levels, marks = _quote_levels(depth)
    leaf: dict[str, Any] = {"type": "text", "text": text}
    if marks:
        leaf["marks"] = []
    node: dict[str, Any] = {"type": "paragraph", "content": [leaf]}
    for _ in range(levels):
        node = {"type": "blockquote", "content": [node]}
    return {"type": "doc", "version": 1, "content": [node]}


def quoted_doc_json(depth: int, text: str = "deep", item: str = ",", key: str = ":") -> str:
    """Return `quoted_doc(depth, text)` as JSON text with the given separators."""
    levels, marks = _quote_levels(depth)
    doc_open = f'{{"type"{key}"doc"{item}"version"{key}1{item}"content"{key}['
    quote_open = f'{{"type"{key}"blockquote"{item}"content"{key}['
    leaf = f'{{"type"{key}"text"{item}"text"{key}"{text}"'
    if marks:
        leaf += f'{item}"marks"{key}[]'
    paragraph = f'{{"type"{key}"paragraph"{item}"content"{key}[{leaf}}}]}}'
    return doc_open + quote_open * levels + paragraph + "]}" * levels + "]}"


def quoted_doc_levels(depth: int) -> int:
    """Return how many blockquotes `quoted_doc(depth)` nests."""
    return _quote_levels(depth)[0]


def nested_lists(depth: int) -> list[Any]:
    """Build `depth` lists, each the only item of the one around it."""
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


def nested_lists_json(depth: int) -> str:
    return "[" * depth + "]" * depth


def _quote_levels(depth: int) -> tuple[int, bool]:
    # The document, its content, the paragraph, its content and the text node: 5 levels.
    if depth < 5:
        raise ValueError(f"Invalid depth {depth}: a quoted document nests at least 5 levels.")
    levels, extra = divmod(depth - 5, 2)
    return levels, bool(extra)
