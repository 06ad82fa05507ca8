"""Data Center histories taken from the searches that fetch the issues, when they are whole."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from pipelines.client.search import _with_changelog_advice
from pipelines.collections.changelog import embedded_histories
from pipelines.emulator import Emulator
from pipelines.errors import RetryableError
from tests.helpers import RewritingProxy, query, run_cli, site_run_args

SAMPLES = Path(__file__).parent / "jira-samples"
PER_ISSUE_PATH = re.compile(r"/rest/api/2/issue/\d+(/changelog)?$")


def _sample_issues() -> list[dict[str, Any]]:
    page = json.loads((SAMPLES / "devlake_board_issues_v2.json").read_text())
    return page["issues"]


def test_recorded_embedded_changelogs_are_whole() -> None:
    issues = _sample_issues()
    for issue in issues:
        changelog = issue["changelog"]
        assert embedded_histories(issue) == changelog["histories"]
        assert len(changelog["histories"]) == changelog["total"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"total": 26}, "total above the number embedded"),
        ({"startAt": 5}, "a list that does not start at the first history"),
        ({"total": True}, "a boolean total"),
        ({"total": "25"}, "a total written as text"),
        ({"histories": None}, "no histories list"),
    ],
)
def test_embedded_changelog_not_vouched_for(change: dict[str, Any], reason: str) -> None:
    issue = copy.deepcopy(_sample_issues()[0])
    assert issue["changelog"]["total"] == 25
    issue["changelog"].update(change)
    assert embedded_histories(issue) is None, reason


def test_issue_without_embedded_changelog() -> None:
    issue = copy.deepcopy(_sample_issues()[0])
    del issue["changelog"]
    assert embedded_histories(issue) is None
    issue["changelog"] = {"startAt": 0, "total": 1, "histories": ["not an object"]}
    assert embedded_histories(issue) is None


def _truth(emu: Emulator) -> tuple[set[tuple[int, int]], int, dict[int, int]]:
    """The emulator's histories: (issue id, history id) pairs, item count, histories per issue."""
    pairs: set[tuple[int, int]] = set()
    items = 0
    per_issue: dict[int, int] = {}
    with emu.store.lock:
        for record in emu.store.records.values():
            histories = emu.store.histories(record)
            per_issue[record.id] = len(histories)
            for history in histories:
                pairs.add((record.id, int(history["id"])))
                items += len(history["items"])
    return pairs, items, per_issue


def _changelog_requests(emu: Emulator) -> list[str]:
    return [r["path"] for r in emu.requests if PER_ISSUE_PATH.search(r["path"])]


class SearchWatch(RewritingProxy):
    """Pass every request through, and keep the `expand` value of each search."""

    def __init__(self, upstream: str) -> None:
        super().__init__(upstream)
        self.expands: list[str | None] = []

    def rewrite(self, path: str, body: bytes | None, answer: httpx.Response) -> bytes:
        if path.startswith("/rest/api/2/search") and body:
            self.expands.append(json.loads(body).get("expand"))
        return answer.content


def _run_dc(emu: Emulator, tmp_path: Path, *extra: str) -> tuple[set[tuple[int, int]], int, int]:
    """Run against `emu` through a `SearchWatch`.

    Returns:
        The loaded (issue id, history id) pairs, the number of `issue_changelog` rows, and the
        number of searches that asked for `expand=changelog`.
    """
    db = tmp_path / "jira.duckdb"
    watch = SearchWatch(emu.site_url)
    try:
        args = site_run_args(watch.url, watch.url, db, tmp_path / "pipelines", "--auth", "pat")
        result = run_cli([*args, *extra], env={"JIRA_TOKEN": emu.pat})
    finally:
        watch.close()
    assert result.exit_code == 0, result.output
    tables = {name for (name,) in query(db, "select table_name from information_schema.tables")}
    if "issue_changelog" not in tables:
        return set(), 0, _expanded(watch)
    loaded = query(db, "select issue_id, history_id, count(*) from issue_changelog group by all")
    pairs = {(issue_id, history_id) for issue_id, history_id, _ in loaded}
    return pairs, sum(count for _, _, count in loaded), _expanded(watch)


def _expanded(watch: SearchWatch) -> int:
    return sum(1 for expand in watch.expands if expand and "changelog" in expand)


@pytest.mark.parametrize(
    "options",
    [(), ("--strategy", "sequential", "--changelog-mode", "bulk")],
    ids=["parallel", "sequential-bulk"],
)
def test_dc_run_reads_histories_from_the_search(tmp_path: Path, options: tuple[str, ...]) -> None:
    with Emulator(issues=60, flavor="dc") as emu:
        pairs, items, per_issue = _truth(emu)
        assert sum(1 for count in per_issue.values() if count) > 30
        loaded_pairs, loaded_items, expanded = _run_dc(emu, tmp_path, *options)
        assert _changelog_requests(emu) == []
    assert expanded > 0
    assert loaded_pairs == pairs
    assert loaded_items == items


def test_dc_per_issue_mode_reads_every_issue(tmp_path: Path) -> None:
    with Emulator(issues=30, flavor="dc") as emu:
        pairs, items, per_issue = _truth(emu)
        loaded_pairs, loaded_items, expanded = _run_dc(
            emu, tmp_path, "--changelog-mode", "per_issue"
        )
        requested = {int(path.split("/")[5]) for path in _changelog_requests(emu)}
    assert expanded == 0
    assert requested == set(per_issue)
    assert (loaded_pairs, loaded_items) == (pairs, items)


def test_dc_run_without_changelog_table_asks_for_none(tmp_path: Path) -> None:
    with Emulator(issues=30, flavor="dc") as emu:
        loaded_pairs, loaded_items, expanded = _run_dc(
            emu, tmp_path, "--skip-tables", "issue_changelog"
        )
        assert _changelog_requests(emu) == []
    assert expanded == 0
    assert (loaded_pairs, loaded_items) == (set(), 0)
    assert query(tmp_path / "jira.duckdb", "select count(*) from issues") == [(30,)]


def test_dc_run_reads_capped_histories_per_issue(tmp_path: Path) -> None:
    with Emulator(issues=60, flavor="dc") as emu:
        emu.store.dc_embedded_histories = 2
        pairs, items, per_issue = _truth(emu)
        capped = {issue_id for issue_id, count in per_issue.items() if count > 2}
        assert 0 < len(capped) < len(per_issue)
        loaded_pairs, loaded_items, expanded = _run_dc(emu, tmp_path)
        requested = {int(path.split("/")[5]) for path in _changelog_requests(emu)}
    assert expanded > 0
    assert requested == capped
    assert loaded_pairs == pairs
    assert loaded_items == items


class SlowChangelogSearches(RewritingProxy):
    """Return 504 to every search that requests the histories, as a strained server's proxy."""

    def _asks_for_histories(self, path: str, body: bytes | None) -> bool:
        return path.startswith("/rest/api/2/search") and b'"expand"' in (body or b"")

    def status(self, path: str, body: bytes | None, answer: httpx.Response) -> int:
        return 504 if self._asks_for_histories(path, body) else answer.status_code

    def rewrite(self, path: str, body: bytes | None, answer: httpx.Response) -> bytes:
        if self._asks_for_histories(path, body):
            return b"<html><body>504 Gateway Time-out</body></html>"
        return answer.content


def test_dc_search_timeouts_advise_per_issue_mode(tmp_path: Path) -> None:
    with Emulator(issues=30, flavor="dc") as emu:
        pairs, items, _ = _truth(emu)
        proxy = SlowChangelogSearches(emu.site_url)
        try:
            args = site_run_args(
                proxy.url, proxy.url, tmp_path / "jira.duckdb", tmp_path / "p", "--auth", "pat"
            )
            env = {"JIRA_TOKEN": emu.pat}
            failed = run_cli([*args, "--max-retries", "1"], env=env)
            left_file = (tmp_path / "jira.duckdb").exists()
            passed = run_cli([*args, "--changelog-mode", "per_issue"], env=env)
        finally:
            proxy.close()
    assert failed.exit_code not in (0, None), failed.output
    message = failed.stderr.strip().splitlines()[-1]
    assert message.startswith("Error: HTTP 504 from ")
    assert "run with --changelog-mode per_issue" in message
    assert not left_file
    assert passed.exit_code == 0, passed.output
    loaded = query(tmp_path / "jira.duckdb", "select issue_id, history_id from issue_changelog")
    assert set(loaded) == pairs
    assert query(tmp_path / "jira.duckdb", "select count(*) from issue_changelog") == [(items,)]


@pytest.mark.parametrize(
    ("status", "text", "expand", "advised"),
    [
        (504, "HTTP 504 from search after 6 attempts.", "changelog", True),
        (None, "search did not respond (ReadTimeout) after 6 attempts.", "changelog", True),
        (429, "HTTP 429 from search after 6 attempts.", "changelog", False),
        (None, "Could not connect to search (ConnectError) after 6 attempts.", "changelog", False),
        (504, "HTTP 504 from search after 6 attempts.", None, False),
        (504, "HTTP 504 from search after 6 attempts.", "renderedFields", False),
        (None, "Could not connect to search (RemoteProtocolError) after 6.", "changelog", True),
        (503, "HTTP 503 from search: Jira asked to wait 1000 s (Retry-After).", "changelog", False),
    ],
)
def test_changelog_advice_only_for_slow_searches(
    status: int | None, text: str, expand: str | None, advised: bool
) -> None:
    retry_after = 1000.0 if "Retry-After" in text else None
    error = RetryableError(text, status=status, url="search", retry_after=retry_after)
    result = _with_changelog_advice(error, expand)
    assert ("--changelog-mode per_issue" in str(result)) is advised
    assert str(result).startswith(text)
    assert (result.status, result.url) == (status, "search")
