"""Atlassian Document Format (ADF) to plain text that keeps the document's structure.

Each paragraph, heading and list item becomes one line. Lists use `- ` and `1. ` markers and
indent nested lists by two spaces a level. Table rows become one line with cells separated by
` | `. Code blocks are kept verbatim, blockquote lines start with `> `, and a rule is `---`.
Inline nodes become their visible text: mentions and emoji by their text, cards by their URL,
links as `text (url)`, media as `[media: name]`, dates from their timestamp. Node types this
module does not know are rendered through their content, so an unknown node type does
not raise.

Rendering uses no recursion, so a document renders at any nesting depth, including the 1,024
levels of JSON that jira-etl decodes, deeper than Python's default recursion limit of 1,000
frames.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from datetime import UTC, datetime
from typing import Any

Node = dict[str, Any]
# A generator that appends a block's lines to a list it was given. It yields the `Render` of
# each nested block, and `_run` runs that one before resuming it, with a stack of generators
# in place of the call stack.
Render = Generator["Render", None, None]

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
    lines: list[str] = []
    # A `doc` node renders as its content. `_render_block` needs no generator for that, where
    # `_render_blocks([doc])` would make one.
    if doc.get("type") == "doc":
        pending = _render_block(doc, lines)
    else:
        pending = _render_blocks([doc], lines)
    if pending is not None:
        _run(pending)
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


def _run(render: Render) -> None:
    """Run a render and each render it yields, on a stack of generators."""
    stack = [render]
    while stack:
        # A render never yields None, so None from `next` means that it is done.
        nested = next(stack[-1], None)
        if nested is None:
            stack.pop()
        else:
            stack.append(nested)


# Block rendering. Each function appends a block's lines to `lines`. A block that may contain
# blocks is rendered by a `Render`, and so is content that contains such a block, so flat
# content, the common case, is rendered without creating a generator. The hot paths read a
# node's `content` directly and skip entries that are not objects, which is what `_children`
# does, so they build no filtered copy of each list.


def _render_blocks(content: Any, lines: list[str]) -> Render | None:
    """Append one line per block and per run of inline nodes of a node's `content`.

    Returns:
        None when every line is appended, else the `Render` that appends the rest.
    """
    if not isinstance(content, list):
        return None
    index = _render_flat_blocks(content, 0, lines)
    if index == len(content):
        return None
    return _render_nested_blocks(content, index, lines)


def _render_nested_blocks(content: list[Any], index: int, lines: list[str]) -> Render:
    """Append the lines of `content[index:]`, whose first entry may contain blocks."""
    while index < len(content):
        pending = _render_block(content[index], lines)
        if pending is not None:
            yield pending
        index = _render_flat_blocks(content, index + 1, lines)


def _render_flat_blocks(content: list[Any], index: int, lines: list[str]) -> int:
    """Append the lines of `content[index:]` up to the next block that may contain blocks.

    Returns:
        The position of that block, or `len(content)` when the rest of `content` is rendered.
    """
    inline_run: list[Node] = []
    for position in range(index, len(content)):
        node = content[position]
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
        renderer = _FLAT_BLOCK_RENDERERS.get(node_type)
        if renderer is None:
            return position
        lines.extend(renderer(node))
    if inline_run:
        lines.extend(_render_inline(inline_run).split("\n"))
    return len(content)


def _render_block(node: Node, lines: list[str]) -> Render | None:
    """Append the lines of one block, or return the `Render` that appends them."""
    node_type = node.get("type", "")
    renderer = _FLAT_BLOCK_RENDERERS.get(node_type)
    if renderer is not None:
        lines.extend(renderer(node))
        return None
    nesting = _NESTING_BLOCK_RENDERERS.get(node_type)
    if nesting is not None:
        return nesting(node, lines)
    # A block type this module does not know is rendered through its content.
    return _render_blocks(node.get("content"), lines)


def _paragraph(node: Node) -> list[str]:
    # A hardBreak inside the paragraph splits it into several lines.
    return _render_inline(node.get("content")).split("\n")


def _code_block(node: Node) -> list[str]:
    code = "".join(child.get("text", "") for child in _children(node))
    return code.split("\n")


def _rule(_node: Node) -> list[str]:
    return ["---"]


def _media(node: Node) -> list[str]:
    return [_media_label(node)]


def _card(node: Node) -> list[str]:
    url = _card_url(node)
    return [url] if url else []


def _bullet_list(node: Node, lines: list[str]) -> Render:
    return _list_lines(node, None, lines)


def _ordered_list(node: Node, lines: list[str]) -> Render:
    start = _attrs(node).get("order", 1)
    if not isinstance(start, int):
        start = 1
    return _list_lines(node, start, lines)


def _list_lines(node: Node, start: int | None, lines: list[str]) -> Render:
    """Render list items with `- ` markers, or numbered from `start` when it is set."""
    content = node.get("content")
    if not isinstance(content, list):
        return
    index = 0
    for item in content:
        if not isinstance(item, dict):
            continue
        marker = "- " if start is None else f"{start + index}. "
        body: list[str] = []
        pending = _render_blocks(item.get("content"), body)
        if pending is not None:
            yield pending
        _append_item(lines, body, marker)
        index += 1


def _task_list(node: Node, lines: list[str]) -> Render:
    for item in _children(node):
        body: list[str] = []
        if item.get("type") == "taskList":
            yield _task_list(item, body)
            lines.extend(INDENT + line for line in body)
            continue
        pending = _render_blocks(item.get("content"), body)
        if pending is not None:
            yield pending
        done = _attrs(item).get("state") == "DONE"
        _append_item(lines, body, "- [x] " if done else "- [ ] ")


def _append_item(lines: list[str], body: list[str], marker: str) -> None:
    """Append the lines of one list item: the marker on the first, every further one indented."""
    if not body:
        lines.append(marker.rstrip())
        return
    lines.append(marker + body[0])
    for line in body[1:]:
        lines.append(INDENT + line)


def _blockquote(node: Node, lines: list[str]) -> Render:
    quoted: list[str] = []
    pending = _render_blocks(node.get("content"), quoted)
    if pending is not None:
        yield pending
    lines.extend("> " + line if line else ">" for line in quoted)


def _table(node: Node, lines: list[str]) -> Render:
    for row in _children(node):
        if row.get("type") != "tableRow":
            pending = _render_block(row, lines)
            if pending is not None:
                yield pending
            continue
        cells = []
        for cell in _children(row):
            cell_lines: list[str] = []
            pending = _render_blocks(cell.get("content"), cell_lines)
            if pending is not None:
                yield pending
            cells.append(_cell_text(cell_lines))
        lines.append(" | ".join(cells))


def _cell_text(lines: list[str]) -> str:
    if len(lines) == 1:
        return lines[0].strip()
    return " ".join(lines).strip()


def _expand(node: Node, lines: list[str]) -> Render:
    title = _attrs(node).get("title")
    if isinstance(title, str) and title:
        lines.append(title)
    pending = _render_blocks(node.get("content"), lines)
    if pending is not None:
        yield pending


# Renderers of blocks that contain no blocks: each returns the block's lines.
_FLAT_BLOCK_RENDERERS: dict[str, Callable[[Node], list[str]]] = {
    "paragraph": _paragraph,
    "heading": _paragraph,
    "codeBlock": _code_block,
    "rule": _rule,
    "media": _media,
    "blockCard": _card,
    "embedCard": _card,
}

# Renderers of blocks that may contain blocks: each returns a `Render` that appends the lines.
_NESTING_BLOCK_RENDERERS: dict[str, Callable[[Node, list[str]], Render]] = {
    "bulletList": _bullet_list,
    "orderedList": _ordered_list,
    "taskList": _task_list,
    "decisionList": _bullet_list,
    "blockquote": _blockquote,
    "table": _table,
    "expand": _expand,
    "nestedExpand": _expand,
}


# Inline rendering: each function returns the node's text; `\n` marks a hard break.


def _render_inline(content: Any) -> str:
    """Render inline nodes to one string, skipping entries that are not objects.

    An inline node of an unknown type is rendered through its content, in place, from a stack
    of iterators rather than by recursion.
    """
    if not isinstance(content, list):
        return ""
    if len(content) == 1:
        # A paragraph of one unmarked text node, the commonest case, needs no joined list.
        node = content[0]
        if isinstance(node, dict) and node.get("type") == "text" and not node.get("marks"):
            text = node.get("text")
            return text if isinstance(text, str) else ""
    parts: list[str] = []
    pending = [iter(content)]
    while pending:
        for node in pending[-1]:
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
            elif isinstance(node.get("content"), list):
                # Render the nested content first, then go on with this list where it stopped.
                pending.append(iter(node["content"]))
                break
        else:
            pending.pop()
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
