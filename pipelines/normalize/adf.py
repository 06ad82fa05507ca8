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


# Block rendering: each function returns the block's lines. The hot paths read a node's
# `content` directly and skip entries that are not objects, which is what `_children` does,
# so they build no filtered copy of each list.


def _render_blocks(content: Any) -> list[str]:
    """Render a node's `content` with one line per block and per run of inline nodes."""
    lines: list[str] = []
    if not isinstance(content, list):
        return lines
    inline_run: list[Node] = []
    for node in content:
        if not isinstance(node, dict):
            continue
        node_type = node.get("type", "")
        if node_type == "paragraph":
            # Paragraphs, the commonest block, skip the lookups and the call of `_paragraph`.
            if inline_run:
                lines.extend(_render_inline(inline_run).split("\n"))
                inline_run = []
            text = _render_inline(node.get("content"))
            if "\n" in text:
                lines.extend(text.split("\n"))
            else:
                lines.append(text)
            continue
        if node_type in _INLINE_TYPES:
            inline_run.append(node)
            continue
        if inline_run:
            lines.extend(_render_inline(inline_run).split("\n"))
            inline_run = []
        renderer = _BLOCK_RENDERERS.get(node_type)
        if renderer is not None:
            lines.extend(renderer(node))
        else:
            lines.extend(_render_blocks(node.get("content")))
    if inline_run:
        lines.extend(_render_inline(inline_run).split("\n"))
    return lines


def _render_block(node: Node) -> list[str]:
    renderer = _BLOCK_RENDERERS.get(node.get("type", ""))
    if renderer is not None:
        return renderer(node)
    return _render_blocks(node.get("content"))


def _paragraph(node: Node) -> list[str]:
    # A hardBreak inside the paragraph splits it into several lines.
    return _render_inline(node.get("content")).split("\n")


def _bullet_list(node: Node) -> list[str]:
    return _list_lines(node, None)


def _ordered_list(node: Node) -> list[str]:
    start = _attrs(node).get("order", 1)
    if not isinstance(start, int):
        start = 1
    return _list_lines(node, start)


def _task_list(node: Node) -> list[str]:
    lines: list[str] = []
    for item in _children(node):
        if item.get("type") == "taskList":
            lines.extend(INDENT + line for line in _task_list(item))
            continue
        done = _attrs(item).get("state") == "DONE"
        _append_item(lines, item, "- [x] " if done else "- [ ] ")
    return lines


def _list_lines(node: Node, start: int | None) -> list[str]:
    """Render list items with `- ` markers, or numbered from `start` when it is set."""
    lines: list[str] = []
    content = node.get("content")
    if not isinstance(content, list):
        return lines
    index = 0
    for item in content:
        if not isinstance(item, dict):
            continue
        marker = "- " if start is None else f"{start + index}. "
        _append_item(lines, item, marker)
        index += 1
    return lines


def _append_item(lines: list[str], item: Node, marker: str) -> None:
    """Append one list item: the marker on its first line, every further line indented."""
    body = _render_blocks(item.get("content"))
    if not body:
        lines.append(marker.rstrip())
        return
    lines.append(marker + body[0])
    for line in body[1:]:
        lines.append(INDENT + line)


def _code_block(node: Node) -> list[str]:
    code = "".join(child.get("text", "") for child in _children(node))
    return code.split("\n")


def _blockquote(node: Node) -> list[str]:
    return ["> " + line if line else ">" for line in _render_blocks(node.get("content"))]


def _rule(_node: Node) -> list[str]:
    return ["---"]


def _table(node: Node) -> list[str]:
    lines: list[str] = []
    for row in _children(node):
        if row.get("type") != "tableRow":
            lines.extend(_render_block(row))
            continue
        cells = [_table_cell(cell) for cell in _children(row)]
        lines.append(" | ".join(cells))
    return lines


def _table_cell(cell: Node) -> str:
    lines = _render_blocks(cell.get("content"))
    if len(lines) == 1:
        return lines[0].strip()
    return " ".join(lines).strip()


def _expand(node: Node) -> list[str]:
    title = _attrs(node).get("title")
    lines = [title] if isinstance(title, str) and title else []
    return lines + _render_blocks(node.get("content"))


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


def _render_inline(content: Any) -> str:
    """Render inline nodes to one string, skipping entries that are not objects."""
    if not isinstance(content, list):
        return ""
    if len(content) == 1:
        # A paragraph of one unmarked text node, the commonest case, needs no joined list.
        node = content[0]
        if isinstance(node, dict) and node.get("type") == "text" and not node.get("marks"):
            text = node.get("text")
            return text if isinstance(text, str) else ""
    parts: list[str] = []
    for node in content:
        if not isinstance(node, dict):
            continue
        node_type = node.get("type", "")
        if node_type == "text":
            # Text nodes are the commonest inline node, so they are read here without a call.
            text = node.get("text")
            if not isinstance(text, str):
                text = ""
            if node.get("marks"):
                text = _marked_text(node, text)
            parts.append(text)
            continue
        renderer = _INLINE_RENDERERS.get(node_type)
        if renderer is not None:
            parts.append(renderer(node))
        elif isinstance(node.get("text"), str):
            parts.append(node["text"])
        else:
            parts.append(_render_inline(node.get("content")))
    return "".join(parts)


def _marked_text(node: Node, text: str) -> str:
    """Return a text node's text, followed by the `href` of its link mark when it has one."""
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
