"""Atlassian Document Format (ADF) to plain text that keeps the document's structure.

Each paragraph, heading and list item becomes one line. Lists use `- ` and `1. ` markers and
indent nested lists by two spaces a level. Table rows become one line with cells separated by
` | `. Code blocks are kept verbatim, blockquote lines start with `> `, and a rule is `---`.
Inline nodes become their visible text: mentions and emoji by their text, cards by their URL,
links as `text (url)`, media as `[media: name]`, dates from their timestamp. Node types this
module does not know are rendered through their content, so an unknown node type does
not raise.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

Node = dict[str, Any]

INDENT = "  "

# Inline node types. A run of them inside a block-level parent forms one paragraph.
_INLINE_TYPES = frozenset(
    {
        "text",
        "hardBreak",
        "mention",
        "emoji",
        "inlineCard",
        "date",
        "status",
        "mediaInline",
        "placeholder",
        "inlineExtension",
    }
)


def adf_to_text(doc: dict[str, Any] | str | None) -> str | None:
    """Convert an ADF document to plain text with one line per block.

    Args:
        doc: an ADF node (usually `{"type": "doc", ...}`), a Data Center wiki markup string,
            or None.

    Returns:
        The text, lines joined with `\\n` and trailing blank lines removed. A string passes
        through unchanged and None stays None.

    Raises:
        TypeError: `doc` is neither a dict, a string nor None.
    """
    if doc is None or isinstance(doc, str):
        return doc
    if not isinstance(doc, dict):
        raise TypeError(f"Expected an ADF document (dict) or a string, got {type(doc).__name__}.")
    lines = _render_blocks([doc])
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines)


def _children(node: Node) -> list[Node]:
    content = node.get("content")
    if not isinstance(content, list):
        return []
    return [child for child in content if isinstance(child, dict)]


def _attrs(node: Node) -> dict[str, Any]:
    attrs = node.get("attrs")
    return attrs if isinstance(attrs, dict) else {}


# Block rendering: each function returns the block's lines.


def _render_blocks(nodes: list[Node]) -> list[str]:
    lines: list[str] = []
    inline_run: list[Node] = []
    for node in nodes:
        if node.get("type") in _INLINE_TYPES:
            inline_run.append(node)
            continue
        if inline_run:
            lines.extend(_render_inline(inline_run).split("\n"))
            inline_run = []
        lines.extend(_render_block(node))
    if inline_run:
        lines.extend(_render_inline(inline_run).split("\n"))
    return lines


def _render_block(node: Node) -> list[str]:
    renderer = _BLOCK_RENDERERS.get(node.get("type", ""))
    if renderer is not None:
        return renderer(node)
    return _render_blocks(_children(node))


def _paragraph(node: Node) -> list[str]:
    # A hardBreak inside the paragraph splits it into several lines.
    return _render_inline(_children(node)).split("\n")


def _bullet_list(node: Node) -> list[str]:
    return _list_lines(node, lambda _index: "- ")


def _ordered_list(node: Node) -> list[str]:
    start = _attrs(node).get("order", 1)
    if not isinstance(start, int):
        start = 1
    return _list_lines(node, lambda index: f"{start + index}. ")


def _task_list(node: Node) -> list[str]:
    lines: list[str] = []
    for item in _children(node):
        if item.get("type") == "taskList":
            lines.extend(INDENT + line for line in _task_list(item))
            continue
        done = _attrs(item).get("state") == "DONE"
        lines.extend(_item_lines(item, "- [x] " if done else "- [ ] "))
    return lines


def _list_lines(node: Node, marker: Callable[[int], str]) -> list[str]:
    lines: list[str] = []
    for index, item in enumerate(_children(node)):
        lines.extend(_item_lines(item, marker(index)))
    return lines


def _item_lines(item: Node, marker: str) -> list[str]:
    """Render one list item: the marker on its first line, every further line indented."""
    body = _render_blocks(_children(item))
    if not body:
        return [marker.rstrip()]
    return [marker + body[0]] + [INDENT + line for line in body[1:]]


def _code_block(node: Node) -> list[str]:
    code = "".join(child.get("text", "") for child in _children(node))
    return code.split("\n")


def _blockquote(node: Node) -> list[str]:
    return ["> " + line if line else ">" for line in _render_blocks(_children(node))]


def _rule(_node: Node) -> list[str]:
    return ["---"]


def _table(node: Node) -> list[str]:
    lines: list[str] = []
    for row in _children(node):
        if row.get("type") != "tableRow":
            lines.extend(_render_block(row))
            continue
        cells = [" ".join(_render_blocks(_children(cell))).strip() for cell in _children(row)]
        lines.append(" | ".join(cells))
    return lines


def _expand(node: Node) -> list[str]:
    title = _attrs(node).get("title")
    lines = [title] if isinstance(title, str) and title else []
    return lines + _render_blocks(_children(node))


def _media(node: Node) -> list[str]:
    return [_media_label(node)]


def _card(node: Node) -> list[str]:
    url = _card_url(node)
    return [url] if url else []


_BLOCK_RENDERERS: dict[str, Callable[[Node], list[str]]] = {
    "paragraph": _paragraph,
    "heading": _paragraph,
    "bulletList": _bullet_list,
    "orderedList": _ordered_list,
    "taskList": _task_list,
    "decisionList": _bullet_list,
    "codeBlock": _code_block,
    "blockquote": _blockquote,
    "rule": _rule,
    "table": _table,
    "expand": _expand,
    "nestedExpand": _expand,
    "media": _media,
    "blockCard": _card,
    "embedCard": _card,
}


# Inline rendering: each function returns the node's text; `\n` marks a hard break.


def _render_inline(nodes: list[Node]) -> str:
    parts: list[str] = []
    for node in nodes:
        renderer = _INLINE_RENDERERS.get(node.get("type", ""))
        if renderer is not None:
            parts.append(renderer(node))
        elif isinstance(node.get("text"), str):
            parts.append(node["text"])
        else:
            parts.append(_render_inline(_children(node)))
    return "".join(parts)


def _text(node: Node) -> str:
    text = node.get("text")
    text = text if isinstance(text, str) else ""
    for mark in node.get("marks") or ():
        if isinstance(mark, dict) and mark.get("type") == "link":
            href = _attrs(mark).get("href")
            if isinstance(href, str) and href and href != text:
                return f"{text} ({href})" if text else href
    return text


def _hard_break(_node: Node) -> str:
    return "\n"


def _mention(node: Node) -> str:
    attrs = _attrs(node)
    text = attrs.get("text")
    if isinstance(text, str) and text:
        return text
    return f"@{attrs.get('id', '')}"


def _emoji(node: Node) -> str:
    attrs = _attrs(node)
    text = attrs.get("text")
    if isinstance(text, str) and text:
        return text
    short_name = attrs.get("shortName")
    return short_name if isinstance(short_name, str) else ""


def _attr_text(node: Node) -> str:
    text = _attrs(node).get("text")
    return text if isinstance(text, str) else ""


def _date(node: Node) -> str:
    # ADF stores a date node as epoch milliseconds in a string, always at UTC midnight.
    timestamp = _attrs(node).get("timestamp")
    if not isinstance(timestamp, str | int):
        return ""
    try:
        moment = datetime.fromtimestamp(int(timestamp) / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return str(timestamp)
    return moment.date().isoformat()


def _inline_card(node: Node) -> str:
    return _card_url(node)


def _inline_media(node: Node) -> str:
    return _media_label(node)


def _placeholder(_node: Node) -> str:
    # A placeholder is editor hint text that Jira does not display in the issue.
    return ""


_INLINE_RENDERERS: dict[str, Callable[[Node], str]] = {
    "text": _text,
    "hardBreak": _hard_break,
    "mention": _mention,
    "emoji": _emoji,
    "status": _attr_text,
    "date": _date,
    "inlineCard": _inline_card,
    "mediaInline": _inline_media,
    "placeholder": _placeholder,
}


def _card_url(node: Node) -> str:
    attrs = _attrs(node)
    url = attrs.get("url")
    if isinstance(url, str):
        return url
    data = attrs.get("data")
    if isinstance(data, dict) and isinstance(data.get("url"), str):
        return data["url"]
    return ""


def _media_label(node: Node) -> str:
    attrs = _attrs(node)
    for name in ("alt", "filename", "fileName", "__fileName", "id", "url"):
        value = attrs.get(name)
        if isinstance(value, str) and value:
            return f"[media: {value}]"
    return "[media]"
