"""Bulk fetch listing an issue in `issueErrors`.

Jira Cloud leaves out of a bulk fetch the issues that are gone or hidden, and lists in
`issueErrors` those it could not return for a retriable reason or the size of the response. Such
an issue still exists and changed in the window, so the run requests it again and loads it, or
stops with the cursor and the tables as they were.

A small proxy on 127.0.0.1 between the CLI and the emulator moves one issue from `issues` to
`issueErrors` in bulk fetch responses.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pipelines.client.search import BulkPage
from pipelines.client.transport import JsonBody
from pipelines.emulator import Emulator
from tests.helpers import CliResult, RewritingProxy, query, run_cli, site_run_args, snapshot

START = dt.datetime(2026, 7, 1, 8, 0, 2, tzinfo=dt.UTC)
TARGET = "ABC-3"
MESSAGE = "The issue could not be retrieved in time. Try again."


class IssueErrorProxy(RewritingProxy):
    """Forward to the emulator, and list `TARGET` in `issueErrors` for `failures` responses.

    Jira's API reference gives each entry as `{"id", "errorMessage"}`; `entry` builds it.
    """

    def __init__(self, upstream: str, target_id: str) -> None:
        self.target_id = target_id
        self.failures = 0
        self.entry: dict[str, Any] = {"id": target_id, "errorMessage": MESSAGE}
        super().__init__(upstream)

    def rewrite(self, path: str, body: bytes | None, answer: httpx.Response) -> bytes:
        if not path.endswith("/issue/bulkfetch") or self.failures <= 0:
            return answer.content
        page = json.loads(answer.content)
        remaining_issues = [issue for issue in page["issues"] if issue["id"] != self.target_id]
        if len(remaining_issues) == len(page["issues"]):
            return answer.content
        self.failures -= 1
        page["issues"] = remaining_issues
        page["issueErrors"] = [self.entry]
        return json.dumps(page).encode()


@pytest.fixture
def site() -> Iterator[tuple[Emulator, IssueErrorProxy]]:
    with Emulator(issues=25, seed=41, start=START) as emu:
        proxy = IssueErrorProxy(emu.site_url, str(emu.store.get(TARGET).id))
        try:
            yield emu, proxy
        finally:
            proxy.close()


def load(proxy: IssueErrorProxy, emu: Emulator, tmp_path: Path) -> CliResult:
    args = site_run_args(
        proxy.url,
        proxy.url,
        tmp_path / "jira.duckdb",
        tmp_path / "pipelines",
        "--tables",
        "issue_changelog",
        "--max-retries",
        "3",
    )
    return run_cli(args, env={"JIRA_TOKEN": emu.scoped_token})


def summary_of(tmp_path: Path, key: str) -> str:
    rows = query(tmp_path / "jira.duckdb", f"select summary from issues where key = '{key}'")
    assert len(rows) == 1, rows
    return rows[0][0]


@pytest.mark.parametrize(
    "shape", ["documented", "key and message list"], ids=["documented", "alternative"]
)
def test_issue_error_retried_and_loaded(
    site: tuple[Emulator, IssueErrorProxy], tmp_path: Path, shape: str
) -> None:
    emu, proxy = site
    if shape != "documented":
        proxy.entry = {"issueIdOrKey": proxy.target_id, "errorMessages": [MESSAGE], "errors": {}}
    assert load(proxy, emu, tmp_path).exit_code == 0
    emu.advance(30)
    emu.edit_issue(TARGET, summary="edited while bulk fetch failed on it")
    emu.edit_issue("ABC-1", summary="a healthy edit in the same window")
    proxy.failures = 2
    result = load(proxy, emu, tmp_path)
    assert result.exit_code == 0, result.output
    assert proxy.failures == 0
    assert summary_of(tmp_path, TARGET) == "edited while bulk fetch failed on it"
    assert summary_of(tmp_path, "ABC-1") == "a healthy edit in the same window"


def test_lasting_issue_error_fails_without_changes(
    site: tuple[Emulator, IssueErrorProxy], tmp_path: Path
) -> None:
    emu, proxy = site
    assert load(proxy, emu, tmp_path).exit_code == 0
    state_file = tmp_path / "pipelines" / "jira_jira" / "state.json"
    before, state_before = snapshot(tmp_path / "jira.duckdb"), state_file.read_text()
    emu.advance(30)
    emu.edit_issue(TARGET, summary="edited while bulk fetch kept failing on it")
    proxy.failures = 100
    failed = load(proxy, emu, tmp_path)
    assert failed.exit_code == 1, failed.output
    assert failed.stderr.count("Error:") == 1, failed.stderr
    assert proxy.target_id in failed.stderr, failed.stderr
    assert "issueErrors" in failed.stderr, failed.stderr
    assert MESSAGE.rstrip(".") in failed.stderr, failed.stderr
    assert "Traceback" not in failed.stderr, failed.stderr
    assert snapshot(tmp_path / "jira.duckdb") == before
    assert json.loads(state_file.read_text())["sources"] == json.loads(state_before)["sources"]


def test_issue_error_without_id_fails(
    site: tuple[Emulator, IssueErrorProxy], tmp_path: Path
) -> None:
    emu, proxy = site
    assert load(proxy, emu, tmp_path).exit_code == 0
    before = snapshot(tmp_path / "jira.duckdb")
    emu.advance(30)
    emu.edit_issue(TARGET, summary="edited while bulk fetch named no issue")
    proxy.failures = 1
    proxy.entry = {"errorMessage": MESSAGE}

    failed = load(proxy, emu, tmp_path)

    assert failed.exit_code == 1, failed.output
    assert "listed an entry without an issue id in `issueErrors`" in failed.stderr
    assert snapshot(tmp_path / "jira.duckdb") == before


def bulk_page(text: str) -> BulkPage:
    body = JsonBody(text.encode(), 200, "application/json", "https://jira.test/bulkfetch")
    return BulkPage("/rest/api/3/issue/bulkfetch", body)


def test_empty_issue_errors_read_without_decoding() -> None:
    # The issues are cut short, so decoding the body would fail.
    assert bulk_page('{"issues": [{"id": "1"}, {"id": "2"  ], "issueErrors": [ ]}').errors() == {}
    assert bulk_page('{"issues": [{"id": "1"}').errors() == {}


def test_nested_issue_errors_key_not_mistaken() -> None:
    # An issue field has an `issueErrors` key, so only decoding finds the page's own list.
    text = json.dumps(
        {
            "issues": [{"id": "1", "fields": {"customfield_1": {"issueErrors": []}}}],
            "issueErrors": [{"id": "2", "errorMessage": MESSAGE}],
        }
    )
    assert bulk_page(text).errors() == {"2": MESSAGE}
