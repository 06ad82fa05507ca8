"""Faults of Data Center runs whose fetch searches embed the histories."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import httpx

from pipelines.emulator import Emulator
from tests.helpers import RewritingProxy, history_rows, query, run_cli, site_run_args

PARTIAL_WARNING = re.compile(r"Issue (\d+): \S+ returned \d+ of \d+ histories")


def _capped_without_endpoint(emu: Emulator, cap: int) -> set[int]:
    """Embed at most `cap` histories, serve no changelog endpoint; return the capped issues."""
    emu.store.dc_embedded_histories = cap
    emu.add_fault(r"/rest/api/2/issue/\d+/changelog$", 404, times=None)
    with emu.store.lock:
        return {
            record.id
            for record in emu.store.records.values()
            if len(emu.store.histories(record)) > cap
        }


def test_dc_partial_histories_read_once(tmp_path: Path) -> None:
    with Emulator(issues=30, flavor="dc") as emu:
        capped = _capped_without_endpoint(emu, 2)
        assert capped
        args = site_run_args(
            emu.site_url, emu.site_url, tmp_path / "jira.duckdb", tmp_path / "p", "--auth", "pat"
        )
        result = run_cli(args, env={"JIRA_TOKEN": emu.pat})
        issue_reads = Counter(
            int(request["path"].rsplit("/", 1)[1])
            for request in emu.requests
            if re.search(r"/rest/api/2/issue/\d+$", request["path"])
        )
    assert result.exit_code == 0, result.output
    warned = Counter(int(m) for m in PARTIAL_WARNING.findall(result.stderr))
    assert set(warned) == capped
    assert max(warned.values()) == 1, "each partial issue is warned about once"
    assert {issue_reads[issue_id] for issue_id in capped} == {1}, "each partial issue is read once"


def test_dc_retry_after_not_advised(tmp_path: Path) -> None:
    # A 503 with a long Retry-After is maintenance or rate limiting, not a slow page, and the
    # per-issue reads would get the same response.
    with Emulator(issues=10, flavor="dc") as emu:
        emu.add_fault(r"/rest/api/2/search$", 503, times=None, retry_after=1000, html=True)
        args = site_run_args(
            emu.site_url, emu.site_url, tmp_path / "jira.duckdb", tmp_path / "p", "--auth", "pat"
        )
        options = ["--strategy", "sequential", "--changelog-mode", "bulk"]
        result = run_cli([*args, *options], env={"JIRA_TOKEN": emu.pat})
    message = result.stderr.strip().splitlines()[-1]
    assert result.exit_code == 1, result.output
    assert "Retry-After" in message
    assert "--changelog-mode per_issue" not in message


def test_dc_partial_histories_loaded_later(tmp_path: Path) -> None:
    # The first run loads only the issues whose histories are whole. Once the server serves the
    # changelog endpoint again, a run loads the histories the first one left out.
    with Emulator(issues=30, flavor="dc") as emu:
        emu.store.dc_embedded_histories = 2
        truth = history_rows(emu)
        args = site_run_args(
            emu.site_url, emu.site_url, tmp_path / "jira.duckdb", tmp_path / "p", "--auth", "pat"
        )
        emu.add_fault(r"/rest/api/2/issue/\d+/changelog$", 404, times=None)
        partial = run_cli(args, env={"JIRA_TOKEN": emu.pat})
        emu.clear_faults()
        later = run_cli(args, env={"JIRA_TOKEN": emu.pat})
    assert partial.exit_code == 0, partial.output
    assert later.exit_code == 0, later.output
    loaded = query(
        tmp_path / "jira.duckdb", "select issue_id, history_id, item_position from issue_changelog"
    )
    assert len(loaded) == len(set(loaded))
    assert set(loaded) == truth


def test_dc_partial_histories_stay_listed(tmp_path: Path) -> None:
    # While the server still returns part of them, every run reads those issues again and
    # names the table as not loaded in full.
    with Emulator(issues=20, flavor="dc") as emu:
        capped = _capped_without_endpoint(emu, 2)
        args = site_run_args(
            emu.site_url, emu.site_url, tmp_path / "jira.duckdb", tmp_path / "p", "--auth", "pat"
        )
        first = run_cli(args, env={"JIRA_TOKEN": emu.pat})
        emu.requests.clear()
        second = run_cli(args, env={"JIRA_TOKEN": emu.pat})
        read_again = _issue_reads(emu)
        emu.requests.clear()
        # A run that does not load the histories does not read those issues again.
        comments = run_cli([*args, "--tables", "issue_comments"], env={"JIRA_TOKEN": emu.pat})
        read_for_comments = _issue_reads(emu)
    assert capped
    for result in (first, second):
        assert result.exit_code == 0, result.output
        assert "tables not loaded in full:" in result.stdout
    assert read_again == capped
    reread = re.search(r"of which read by id: (\d+) whose histories", second.stdout)
    assert reread is not None, second.stdout
    assert 0 < int(reread[1]) <= len(capped)
    assert comments.exit_code == 0, comments.output
    assert read_for_comments == set()
    assert "whose histories" not in comments.stdout


def _issue_reads(emu: Emulator) -> set[int]:
    """The issues read one at a time (`GET /issue/{id}`) since the request log was cleared."""
    return {
        int(request["path"].rsplit("/", 1)[1])
        for request in emu.requests
        if re.search(r"/rest/api/2/issue/\d+$", request["path"])
    }


def test_malformed_embedded_history_names_per_issue_mode(tmp_path: Path) -> None:
    with Emulator(issues=10, flavor="dc") as emu:
        proxy = NoItemsProxy(emu.site_url)
        try:
            args = site_run_args(
                proxy.url, proxy.url, tmp_path / "jira.duckdb", tmp_path / "p", "--auth", "pat"
            )
            result = run_cli(args, env={"JIRA_TOKEN": emu.pat})
        finally:
            proxy.close()
    message = result.stderr.strip().splitlines()[-1]
    assert result.exit_code == 1, result.output
    assert "has no `items` list" in message
    assert "--changelog-mode per_issue reads them" in message
    assert message.endswith("Nothing was loaded and the cursor did not move.")


class NoItemsProxy(RewritingProxy):
    """Drop the `items` of the first embedded history of every issue a search returns."""

    def rewrite(self, path: str, body: bytes | None, answer: httpx.Response) -> bytes:
        if not path.startswith("/rest/api/2/search") or answer.status_code != 200:
            return answer.content
        page = answer.json()
        for issue in page.get("issues", []):
            histories = (issue.get("changelog") or {}).get("histories") or []
            if histories:
                del histories[0]["items"]
        return json.dumps(page).encode()
