"""An issue's comments change between the pages of their listing.

Jira runs a listing again for each page, so a comment deleted before the next page's offset
shifts the rest by one. A proxy on 127.0.0.1 between the CLI and the emulator deletes or adds
a comment of ABC-1 while the second page of its comments is requested.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from pipelines.collections.paging import LISTING_ATTEMPTS
from pipelines.emulator import Emulator
from tests.helpers import RewritingProxy, query, run_cli, site_run_args, snapshot

START = dt.datetime(2026, 7, 1, 9, 0, 1, tzinfo=dt.UTC)
KEY = "ABC-1"
# More than the 100 comments of one page.
COMMENTS = 230


class ChangingProxy(RewritingProxy):
    """Run `change` before forwarding each request for a later page of KEY's comments."""

    def __init__(self, upstream: str, issue_id: int, changes: int) -> None:
        self.issue_id = issue_id
        self.changes = changes
        self.change: Callable[[], None] = lambda: None
        super().__init__(upstream)

    def rewrite(self, path: str, body: bytes | None, answer: httpx.Response) -> bytes:
        return answer.content

    def before(self, path: str) -> None:
        url = urlsplit(path)
        later_page = int(parse_qs(url.query).get("startAt", ["0"])[0]) > 0
        if url.path.endswith(f"/issue/{self.issue_id}/comment") and later_page and self.changes:
            self.changes -= 1
            self.change()


@pytest.fixture
def emu() -> Emulator:
    with Emulator(issues=5, seed=9, start=START) as server:
        for number in range(COMMENTS - len(server.comments_of(KEY))):
            server.add_comment(KEY, f"comment {number} before the run")
        yield server


def load(emu: Emulator, proxy: ChangingProxy, tmp_path: Path) -> tuple[int, str]:
    args = site_run_args(proxy.url, proxy.url, tmp_path / "jira.duckdb", tmp_path / "p")
    result = run_cli(args, env={"JIRA_TOKEN": emu.scoped_token})
    return result.exit_code, result.output


def stored_comment_ids(tmp_path: Path, issue_id: int) -> set[str]:
    rows = query(
        tmp_path / "jira.duckdb", f"select id from issue_comments where issue_id = {issue_id}"
    )
    return {str(row[0]) for row in rows}


def proxy_for(emu: Emulator, changes: int) -> ChangingProxy:
    issue_id = emu.store.get(KEY).id
    proxy = ChangingProxy(emu.site_url, issue_id, changes)
    forward = proxy.server.RequestHandlerClass.forward

    def forward_after_change(handler, method: str) -> None:  # type: ignore[no-untyped-def]
        proxy.before(handler.path)
        forward(handler, method)

    proxy.server.RequestHandlerClass.forward = forward_after_change
    return proxy


@pytest.mark.parametrize("change", ["delete early comment", "add comment"])
def test_comments_whole_after_change(emu: Emulator, tmp_path: Path, change: str) -> None:
    proxy = proxy_for(emu, changes=1)
    comments = emu.comments_of(KEY)
    if change == "delete early comment":
        proxy.change = lambda: emu.delete_comment(comments[2]["id"])
    else:
        proxy.change = lambda: emu.add_comment(KEY, "written while the run read the comments")
    try:
        exit_code, output = load(emu, proxy, tmp_path)
    finally:
        proxy.server.shutdown()

    assert exit_code == 0, output
    assert proxy.changes == 0
    expected = {str(comment["id"]) for comment in emu.comments_of(KEY)}
    assert stored_comment_ids(tmp_path, proxy.issue_id) == expected


def test_comments_changing_every_reading_fail(emu: Emulator, tmp_path: Path) -> None:
    proxy = proxy_for(emu, changes=0)
    try:
        assert load(emu, proxy, tmp_path)[0] == 0
        before = snapshot(tmp_path / "jira.duckdb")
        emu.advance(60)
        emu.edit_issue(KEY, summary="edited, so the next run reads the comments again")
        live = emu.comments_of(KEY)
        proxy.change = lambda: emu.delete_comment(live.pop(0)["id"])
        proxy.changes = LISTING_ATTEMPTS
        exit_code, output = load(emu, proxy, tmp_path)
    finally:
        proxy.server.shutdown()

    assert exit_code == 1, output
    assert f"changed while it was read, in each of {LISTING_ATTEMPTS} readings" in output
    assert snapshot(tmp_path / "jira.duckdb") == before


class OneCommentProxy(RewritingProxy):
    """Return only the first comment of each page of an issue's comments, fewer than requested."""

    def __init__(self, upstream: str, issue_id: int) -> None:
        self.issue_id = issue_id
        super().__init__(upstream)

    def rewrite(self, path: str, body: bytes | None, answer: httpx.Response) -> bytes:
        if not urlsplit(path).path.endswith(f"/issue/{self.issue_id}/comment"):
            return answer.content
        page = answer.json()
        page["comments"] = page["comments"][:1]
        page["maxResults"] = 1
        return json.dumps(page).encode()


def test_comments_whole_in_pages_of_one(tmp_path: Path) -> None:
    with Emulator(issues=5, seed=9, start=START) as emu:
        for number in range(5):
            emu.add_comment(KEY, f"comment {number} before the run")
        expected = {str(comment["id"]) for comment in emu.comments_of(KEY)}
        proxy = OneCommentProxy(emu.site_url, emu.store.get(KEY).id)
        try:
            args = site_run_args(proxy.url, proxy.url, tmp_path / "jira.duckdb", tmp_path / "p")
            result = run_cli(args, env={"JIRA_TOKEN": emu.scoped_token})
        finally:
            proxy.close()

    assert result.exit_code == 0, result.output
    assert len(expected) >= 5
    assert stored_comment_ids(tmp_path, proxy.issue_id) == expected


def test_deletion_after_page_of_overlap_only(tmp_path: Path) -> None:
    with Emulator(issues=5, seed=9, start=START) as emu:
        for number in range(5):
            emu.add_comment(KEY, f"comment {number} before the run")
        first = emu.comments_of(KEY)[0]["id"]
        proxy = OneCommentProxy(emu.site_url, emu.store.get(KEY).id)
        forward = proxy.server.RequestHandlerClass.forward
        requests = []

        def forward_after_change(handler, method: str) -> None:  # type: ignore[no-untyped-def]
            if urlsplit(handler.path).path.endswith(f"/issue/{proxy.issue_id}/comment"):
                requests.append(handler.path)
                # The first page, then a page of only the overlapping first comment: the
                # third request starts after it, as the first comment is deleted.
                if len(requests) == 3:
                    emu.delete_comment(first)
            forward(handler, method)

        proxy.server.RequestHandlerClass.forward = forward_after_change
        try:
            args = site_run_args(proxy.url, proxy.url, tmp_path / "jira.duckdb", tmp_path / "p")
            result = run_cli(args, env={"JIRA_TOKEN": emu.scoped_token})
        finally:
            proxy.close()
        expected = {str(comment["id"]) for comment in emu.comments_of(KEY)}

    assert result.exit_code == 0, result.output
    assert len(requests) > 3
    assert str(first) not in expected
    assert stored_comment_ids(tmp_path, proxy.issue_id) == expected
