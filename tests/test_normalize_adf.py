"""ADF to text on recorded documents and on hand-built documents for each node type."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pipelines.normalize.adf import adf_to_text


def doc(*content: dict[str, Any]) -> dict[str, Any]:
    return {"type": "doc", "version": 1, "content": list(content)}


def para(*content: dict[str, Any]) -> dict[str, Any]:
    return {"type": "paragraph", "content": list(content)}


def text(value: str, **extra: Any) -> dict[str, Any]:
    return {"type": "text", "text": value, **extra}


def item(*content: dict[str, Any]) -> dict[str, Any]:
    return {"type": "listItem", "content": list(content)}


def load(samples_dir: Path, name: str) -> Any:
    return json.loads((samples_dir / name).read_text())


def test_airbyte_issue_description(samples_dir: Path) -> None:
    (issue,) = load(samples_dir, "airbyte_search_issues_v3.json")["issues"]
    assert adf_to_text(issue["fields"]["description"]) == "Test issue"


def test_airbyte_comment_bodies(samples_dir: Path) -> None:
    comments = load(samples_dir, "airbyte_issue_comments_v3.json")["comments"]
    assert [adf_to_text(c["body"]) for c in comments] == [
        "Closed",
        "Lorem ipsum dolor sit amet, consectetur adipiscing elit. Pellentesque eget venenatis "
        "elit. Duis eu justo eget augue iaculis fermentum. Sed semper quam laoreet nisi egestas "
        "at posuere augue semper.",
    ]


def test_airbyte_worklog_comment(samples_dir: Path) -> None:
    worklogs = load(samples_dir, "airbyte_issue_worklogs_v3.json")["worklogs"]
    assert adf_to_text(worklogs[0]["comment"]) == "I did some work here."


def test_pragati_descriptions(samples_dir: Path) -> None:
    issues = load(samples_dir, "pragati_search_jql_page_v3.json")["issues"]
    texts = {i["key"]: adf_to_text(i["fields"]["description"]) for i in issues}
    # Only TMSP-23 has a description; its trailing space is kept verbatim.
    assert texts["TMSP-23"] == "clone "
    assert [key for key, value in texts.items() if value is not None] == ["TMSP-23"]


def test_jiracli_issue_description(samples_dir: Path) -> None:
    issue = load(samples_dir, "jiracli_issue.json")
    assert adf_to_text(issue["fields"]["description"]) == "Test description"


def test_paragraphs_and_headings_one_line_each() -> None:
    document = doc(
        {"type": "heading", "attrs": {"level": 2}, "content": [text("Steps")]},
        para(text("First "), text("bold", marks=[{"type": "strong"}]), text(".")),
        para(text("Second")),
    )
    assert adf_to_text(document) == "Steps\nFirst bold.\nSecond"


def test_hard_break_starts_new_line() -> None:
    assert adf_to_text(doc(para(text("one"), {"type": "hardBreak"}, text("two")))) == "one\ntwo"


def test_nested_lists_indent_two_spaces() -> None:
    document = doc(
        {
            "type": "bulletList",
            "content": [
                item(
                    para(text("fruit")),
                    {
                        "type": "orderedList",
                        "attrs": {"order": 1},
                        "content": [
                            item(
                                para(text("apple")),
                                {"type": "bulletList", "content": [item(para(text("green")))]},
                            ),
                            item(para(text("pear"))),
                        ],
                    },
                ),
                item(para(text("bread"))),
            ],
        },
        {"type": "orderedList", "attrs": {"order": 3}, "content": [item(para(text("third")))]},
    )
    assert adf_to_text(document) == (
        "- fruit\n  1. apple\n    - green\n  2. pear\n- bread\n3. third"
    )


def test_table_rows_join_cells() -> None:
    def cell(kind: str, value: str) -> dict[str, Any]:
        return {"type": kind, "content": [para(text(value))]}

    document = doc(
        {
            "type": "table",
            "content": [
                {
                    "type": "tableRow",
                    "content": [cell("tableHeader", "Key"), cell("tableHeader", "Owner")],
                },
                {
                    "type": "tableRow",
                    "content": [cell("tableCell", "ABC-1"), cell("tableCell", "ops")],
                },
            ],
        }
    )
    assert adf_to_text(document) == "Key | Owner\nABC-1 | ops"


def test_code_block_kept_verbatim() -> None:
    code = "def f(x):\n    return x  # keep spacing\n"
    document = doc(
        para(text("Run:")),
        {"type": "codeBlock", "attrs": {"language": "python"}, "content": [text(code)]},
    )
    assert adf_to_text(document) == "Run:\ndef f(x):\n    return x  # keep spacing"


def test_blockquote_prefixes_lines() -> None:
    document = doc({"type": "blockquote", "content": [para(text("quoted")), para(text("more"))]})
    assert adf_to_text(document) == "> quoted\n> more"


def test_mention_emoji_and_status() -> None:
    document = doc(
        para(
            {"type": "mention", "attrs": {"id": "acc-0003", "text": "@user-3"}},
            text(" done "),
            {"type": "emoji", "attrs": {"shortName": ":tada:", "text": "🎉"}},
            text(" "),
            {"type": "emoji", "attrs": {"shortName": ":custom-icon:"}},
            text(" "),
            {"type": "status", "attrs": {"text": "IN REVIEW", "color": "blue"}},
        )
    )
    assert adf_to_text(document) == "@user-3 done 🎉 :custom-icon: IN REVIEW"


def test_cards_and_link_marks() -> None:
    url = "https://example.atlassian.net/browse/ABC-1"
    document = doc(
        para(
            text("See "),
            {"type": "inlineCard", "attrs": {"url": url}},
            text(" and "),
            text(
                "the guide", marks=[{"type": "link", "attrs": {"href": "https://docs.invalid/g"}}]
            ),
            text(" or "),
            text(
                "https://docs.invalid/h",
                marks=[{"type": "link", "attrs": {"href": "https://docs.invalid/h"}}],
            ),
        ),
        {"type": "blockCard", "attrs": {"url": "https://docs.invalid/card"}},
    )
    assert adf_to_text(document) == (
        f"See {url} and the guide (https://docs.invalid/g) or https://docs.invalid/h\n"
        "https://docs.invalid/card"
    )


def test_media_labels() -> None:
    document = doc(
        {
            "type": "mediaSingle",
            "content": [
                {"type": "media", "attrs": {"id": "f1", "type": "file", "alt": "screen.png"}}
            ],
        },
        {
            "type": "mediaGroup",
            "content": [{"type": "media", "attrs": {"id": "5a4c-77", "type": "file"}}],
        },
        para(text("inline "), {"type": "mediaInline", "attrs": {"id": "x", "filename": "log.txt"}}),
    )
    assert adf_to_text(document) == (
        "[media: screen.png]\n[media: 5a4c-77]\ninline [media: log.txt]"
    )


def test_date_rule_panel_expand() -> None:
    document = doc(
        # 1582152559000 ms is 2020-02-19T22:49:19Z.
        para(text("Due "), {"type": "date", "attrs": {"timestamp": "1582152559000"}}),
        {"type": "rule"},
        {"type": "panel", "attrs": {"panelType": "info"}, "content": [para(text("Heads up"))]},
        {"type": "expand", "attrs": {"title": "Details"}, "content": [para(text("hidden"))]},
    )
    assert adf_to_text(document) == "Due 2020-02-19\n---\nHeads up\nDetails\nhidden"


def test_task_list_marks_state() -> None:
    document = doc(
        {
            "type": "taskList",
            "content": [
                {"type": "taskItem", "attrs": {"state": "DONE"}, "content": [text("write")]},
                {"type": "taskItem", "attrs": {"state": "TODO"}, "content": [text("review")]},
            ],
        }
    )
    assert adf_to_text(document) == "- [x] write\n- [ ] review"


def test_unknown_nodes_render_content() -> None:
    document = doc(
        {
            "type": "layoutSection",
            "content": [
                {"type": "layoutColumn", "content": [para(text("left"))]},
                {
                    "type": "futureBlock",
                    "content": [para(text("right"), {"type": "sparkle", "content": [text("!")]})],
                },
            ],
        },
        {"type": "mysteryLeaf"},
    )
    assert adf_to_text(document) == "left\nright!"


def test_wiki_markup_passes_through() -> None:
    wiki = "h1. Title\n* item with [~accountid:acc-0011] and {code}x = 1{code}"
    assert adf_to_text(wiki) == wiki


def test_none_stays_none() -> None:
    assert adf_to_text(None) is None


def test_malformed_content_is_ignored() -> None:
    document = {
        "type": "doc",
        "content": [para(text("ok")), "junk", {"type": "paragraph", "content": "x"}],
    }
    assert adf_to_text(document) == "ok"


def test_non_document_raises_type_error() -> None:
    with pytest.raises(TypeError):
        adf_to_text(["not", "a", "doc"])  # type: ignore[arg-type]


def retyped(node: Any, old: str, new: str) -> Any:
    """Copy an ADF tree, changing the type of every node of type `old` without marks to `new`."""
    if isinstance(node, list):
        return [retyped(child, old, new) for child in node]
    if not isinstance(node, dict):
        return node
    copied = {key: retyped(value, old, new) for key, value in node.items()}
    if copied.get("type") == old and not copied.get("marks"):
        copied["type"] = new
    return copied


def recorded_documents(samples_dir: Path) -> list[dict[str, Any]]:
    documents = [
        issue["fields"]["description"]
        for issue in load(samples_dir, "pragati_search_jql_page_v3.json")["issues"]
    ]
    documents += [
        c["body"] for c in load(samples_dir, "airbyte_issue_comments_v3.json")["comments"]
    ]
    documents += [
        w["comment"] for w in load(samples_dir, "airbyte_issue_worklogs_v3.json")["worklogs"]
    ]
    documents.append(
        load(samples_dir, "airbyte_search_issues_v3.json")["issues"][0]["fields"]["description"]
    )
    documents.append(load(samples_dir, "jiracli_issue.json")["fields"]["description"])
    documents.append(
        doc(
            para(text("one"), {"type": "hardBreak"}, text("two", marks=[{"type": "em"}])),
            "junk",
            {"type": "bulletList", "content": [item(para(text("a")), para(text("b")))]},
            {"type": "blockquote", "content": [para(text("quoted")), para()]},
            {
                "type": "table",
                "content": [{"type": "tableRow", "content": [item(para(text("c")))]}],
            },
            para(text("link", marks=[{"type": "link", "attrs": {"href": "https://example.com"}}])),
        )
    )
    return [document for document in documents if isinstance(document, dict)]


def test_paragraph_path_matches_heading_path(samples_dir: Path) -> None:
    # Paragraphs take a shortcut, but headings go through the renderer table like other blocks.
    documents = recorded_documents(samples_dir)
    assert len(documents) >= 6
    for document in documents:
        assert adf_to_text(document) == adf_to_text(retyped(document, "paragraph", "heading"))


def test_text_path_matches_unknown_inline_path(samples_dir: Path) -> None:
    # Text nodes take a shortcut. An unknown inline node with a `text` string renders that text.
    for document in recorded_documents(samples_dir):
        retyped_document = retyped(document, "text", "futureText")
        expected = adf_to_text(retyped(retyped_document, "paragraph", "heading"))
        assert adf_to_text(document) == expected


# Nesting levels of the deep documents below: more than Python's default recursion limit of
# 1,000 frames, which a renderer that recursed once per level would exceed.
DEEP = 1200


def deep_blockquotes() -> tuple[dict[str, Any], str]:
    node = {"type": "blockquote", "content": [para(text("deep"))]}
    for _ in range(DEEP - 1):
        node = {"type": "blockquote", "content": [para(text("b")), node, para(text("a"))]}
    before = ["> " * level + "b" for level in range(1, DEEP)]
    after = ["> " * level + "a" for level in range(DEEP - 1, 0, -1)]
    return doc(node), "\n".join([*before, "> " * DEEP + "deep", *after])


def deep_lists(kind: str, marker: str) -> tuple[dict[str, Any], str]:
    node: dict[str, Any] = {"type": kind, "content": [item(para(text("deep")))]}
    for _ in range(DEEP - 1):
        node = {"type": kind, "content": [item(para(text("b")), node)]}
    lines = ["  " * level + marker + "b" for level in range(DEEP - 1)]
    return doc(node), "\n".join([*lines, "  " * (DEEP - 1) + marker + "deep"])


def deep_task_lists() -> tuple[dict[str, Any], str]:
    def task(state: str, value: str) -> dict[str, Any]:
        return {"type": "taskItem", "attrs": {"state": state}, "content": [text(value)]}

    node: dict[str, Any] = {"type": "taskList", "content": [task("DONE", "deep")]}
    for _ in range(DEEP - 1):
        node = {"type": "taskList", "content": [task("TODO", "b"), node]}
    lines = ["  " * level + "- [ ] b" for level in range(DEEP - 1)]
    return doc(node), "\n".join([*lines, "  " * (DEEP - 1) + "- [x] deep"])


def deep_tables() -> tuple[dict[str, Any], str]:
    def table(*cell_content: dict[str, Any]) -> dict[str, Any]:
        cell = {"type": "tableCell", "content": list(cell_content)}
        return {"type": "table", "content": [{"type": "tableRow", "content": [cell]}]}

    node = table(para(text("deep")))
    for _ in range(DEEP - 1):
        node = table(para(text("b")), node)
    # A cell joins its lines with spaces, so every level adds `b ` before the inner row.
    return doc(node), "b " * (DEEP - 1) + "deep"


def deep_expands() -> tuple[dict[str, Any], str]:
    node = para(text("deep"))
    for level in range(DEEP, 0, -1):
        node = {"type": "nestedExpand", "attrs": {"title": f"t{level}"}, "content": [node]}
    return doc(node), "\n".join([*(f"t{level}" for level in range(1, DEEP + 1)), "deep"])


def deep_unknown_blocks() -> tuple[dict[str, Any], str]:
    node = para(text("deep"))
    for _ in range(DEEP):
        node = {"type": "futureBlock", "content": [node]}
    return doc(node), "deep"


def deep_unknown_inline() -> tuple[dict[str, Any], str]:
    node = text("deep")
    for _ in range(DEEP):
        node = {"type": "sparkle", "content": [text("<"), node, text(">")]}
    return doc(para(text("start "), node, text(" end"))), f"start {'<' * DEEP}deep{'>' * DEEP} end"


@pytest.mark.parametrize(
    "build",
    [
        deep_blockquotes,
        lambda: deep_lists("bulletList", "- "),
        lambda: deep_lists("orderedList", "1. "),
        deep_task_lists,
        deep_tables,
        deep_expands,
        deep_unknown_blocks,
        deep_unknown_inline,
    ],
    ids=[
        "blockquotes",
        "bullet_lists",
        "ordered_lists",
        "task_lists",
        "tables",
        "expands",
        "unknown_blocks",
        "unknown_inline",
    ],
)
def test_deep_nesting_renders_every_level(build: Any) -> None:
    document, expected = build()
    assert adf_to_text(document) == expected
