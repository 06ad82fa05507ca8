"""Rich text for generated issues: Atlassian Document Format (Cloud v3) and wiki markup (v2)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from pipelines.emulator.reference import USERS

WORDS = [
    "invoice",
    "refund",
    "export",
    "tax",
    "retry",
    "timeout",
    "cache",
    "token",
    "webhook",
    "queue",
    "cursor",
    "page",
    "sprint",
    "release",
    "rollback",
    "index",
    "schema",
    "migration",
    "latency",
    "payload",
    "parser",
    "widget",
    "login",
    "session",
    "report",
    "dashboard",
    "filter",
    "archive",
    "upload",
]


def _text(value: str, marks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "text", "text": value}
    if marks:
        node["marks"] = marks
    return node


def _sentence(rng: random.Random, words: int = 8) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def _paragraph(*content: dict[str, Any]) -> dict[str, Any]:
    return {"type": "paragraph", "content": list(content)}


def _list(kind: str, items: list[list[dict[str, Any]]]) -> dict[str, Any]:
    return {
        "type": kind,
        "content": [{"type": "listItem", "content": blocks} for blocks in items],
    }


def make_adf(rng: random.Random, rich: bool) -> dict[str, Any]:
    """Build an ADF document; `rich` adds headings, nested lists, a table, code and inline nodes."""
    content: list[dict[str, Any]] = [_paragraph(_text(_sentence(rng)))]
    if not rich:
        return {"type": "doc", "version": 1, "content": content}
    user = rng.choice(USERS)
    content = [
        {"type": "heading", "attrs": {"level": 2}, "content": [_text("Context")]},
        _paragraph(
            _text(_sentence(rng, 5) + " "),
            {
                "type": "mention",
                "attrs": {
                    "id": user.account_id,
                    "text": "@" + user.display_name,
                    "accessLevel": "",
                },
            },
            _text(" please check "),
            _text("the runbook", [{"type": "link", "attrs": {"href": "https://example.com/run"}}]),
            {"type": "hardBreak"},
            _text("bold part", [{"type": "strong"}]),
            _text(" "),
            {"type": "emoji", "attrs": {"shortName": ":thumbsup:", "id": "1f44d", "text": "👍"}},
        ),
        _list(
            "bulletList",
            [
                [_paragraph(_text(_sentence(rng, 4)))],
                [
                    _paragraph(_text(_sentence(rng, 3))),
                    _list("orderedList", [[_paragraph(_text(_sentence(rng, 3)))]]),
                ],
            ],
        ),
        {
            "type": "table",
            "attrs": {"isNumberColumnEnabled": False, "layout": "default"},
            "content": [
                {
                    "type": "tableRow",
                    "content": [
                        {
                            "type": "tableHeader",
                            "attrs": {},
                            "content": [_paragraph(_text("Step"))],
                        },
                        {
                            "type": "tableHeader",
                            "attrs": {},
                            "content": [_paragraph(_text("Result"))],
                        },
                    ],
                },
                {
                    "type": "tableRow",
                    "content": [
                        {"type": "tableCell", "attrs": {}, "content": [_paragraph(_text("1"))]},
                        {"type": "tableCell", "attrs": {}, "content": [_paragraph(_text("ok"))]},
                    ],
                },
            ],
        },
        {
            "type": "codeBlock",
            "attrs": {"language": "python"},
            "content": [_text("retry(max_attempts=3)\nprint('done')")],
        },
        _paragraph({"type": "inlineCard", "attrs": {"url": "https://example.com/browse/ABC-1"}}),
    ]
    return {"type": "doc", "version": 1, "content": content}


# The end of a node's children, for `next`.
_NO_CHILD = object()


def adf_to_text(node: Any) -> str:
    """Flatten ADF to plain text: blocks on their own lines, mentions and emoji as their text.

    Open nodes wait on a stack rather than in recursive calls, so any nesting depth works.
    """
    flattened: list[str] = []
    # Open nodes: the node's type, its children still to visit, the texts of those visited.
    open_nodes: list[tuple[Any, Iterator[Any], list[str]]] = []
    texts = flattened
    while True:
        leaf = _leaf_text(node)
        if leaf is None:
            open_nodes.append((node.get("type"), iter(node.get("content", [])), []))
        else:
            texts.append(leaf)
        # Visit the next child of the innermost open node, joining the nodes that are done.
        while open_nodes:
            kind, children, child_texts = open_nodes[-1]
            node = next(children, _NO_CHILD)
            if node is not _NO_CHILD:
                texts = child_texts
                break
            open_nodes.pop()
            parent_texts = open_nodes[-1][2] if open_nodes else flattened
            parent_texts.append(_join(kind, child_texts))
        else:
            return flattened[0]


def _leaf_text(node: Any) -> str | None:
    """Return the text of a node without children, or None for a node to flatten its content."""
    if not isinstance(node, dict):
        return ""
    kind = node.get("type")
    if kind == "text":
        return str(node.get("text", ""))
    if kind == "hardBreak":
        return "\n"
    if kind in ("mention", "emoji"):
        return str(node.get("attrs", {}).get("text", ""))
    if kind == "inlineCard":
        return str(node.get("attrs", {}).get("url", ""))
    return None


def _join(kind: Any, texts: list[str]) -> str:
    if kind in ("doc", "bulletList", "orderedList", "listItem", "table", "tableRow"):
        return "\n".join(part for part in texts if part)
    if kind in ("tableCell", "tableHeader"):
        return " ".join(texts)
    return "".join(texts)


def adf_to_wiki(node: Any, depth: int = 0, bullet: str = "*") -> str:
    """Render ADF as Jira wiki markup, the rich-text form Data Center and v2 responses use.

    NOTE: this recursion raises RecursionError once a document nests about 1,000 JSON levels
    deep, so Data Center and v2 responses cannot carry such a description or comment.
    """
    if not isinstance(node, dict):
        return ""
    kind = node.get("type")
    attrs = node.get("attrs", {})
    if kind == "text":
        text = str(node.get("text", ""))
        for mark in node.get("marks", []):
            if mark["type"] == "strong":
                text = f"*{text}*"
            elif mark["type"] == "link":
                text = f"[{text}|{mark['attrs']['href']}]"
        return text
    if kind == "hardBreak":
        return "\\\\ "
    if kind == "mention":
        return f"[~accountid:{attrs.get('id', '')}]"
    if kind == "emoji":
        return "(y)" if attrs.get("shortName") == ":thumbsup:" else str(attrs.get("text", ""))
    if kind == "inlineCard":
        return f"[{attrs.get('url', '')}|{attrs.get('url', '')}|smart-link]"
    if kind == "heading":
        return f"h{attrs.get('level', 1)}. " + "".join(adf_to_wiki(c) for c in node["content"])
    if kind == "codeBlock":
        body = "".join(adf_to_wiki(c) for c in node.get("content", []))
        return f"{{code:{attrs.get('language', 'none')}}}{body}{{code}}"
    if kind in ("bulletList", "orderedList"):
        mark = bullet[:depth] + ("*" if kind == "bulletList" else "#")
        return "\n".join(adf_to_wiki(item, depth + 1, mark) for item in node["content"])
    if kind == "listItem":
        lines = []
        for child in node["content"]:
            if child["type"] in ("bulletList", "orderedList"):
                lines.append(adf_to_wiki(child, depth, bullet))
            else:
                lines.append(f"{bullet} {adf_to_wiki(child, depth)}")
        return "\n".join(lines)
    if kind == "tableRow":
        cells = node["content"]
        sep = "||" if cells and cells[0]["type"] == "tableHeader" else "|"
        return sep + sep.join(adf_to_wiki(cell) for cell in cells) + sep
    if kind in ("tableCell", "tableHeader", "paragraph"):
        return "".join(adf_to_wiki(c, depth) for c in node.get("content", []))
    parts = [adf_to_wiki(c, depth) for c in node.get("content", [])]
    return ("\n\n" if kind == "doc" else "\n").join(parts)
