"""Tables a token cannot read in full: the run loads the rest and names them in its summary."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import httpx

from pipelines.emulator import Emulator
from tests.helpers import RewritingProxy, emulator_run_args, query, run_cli

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def test_missing_scopes_named_in_summary_and_status(tmp_path: Path) -> None:
    db, pipelines_dir = tmp_path / "jira.duckdb", tmp_path / "p"
    with Emulator(issues=12, seed=4, start=START) as emu:
        # Issues and their collections, but neither users nor the agile API.
        emu.add_token("work-only-token", {"read:jira-work"})
        result = run_cli(
            emulator_run_args(emu, db, pipelines_dir), env={"JIRA_TOKEN": "work-only-token"}
        )
        issues = len(emu.truth())
    status = run_cli(["status", "--duckdb-path", str(db), "--pipelines-dir", str(pipelines_dir)])

    assert result.exit_code == 0, result.output
    assert query(db, "select count(*) from issues") == [(issues,)]
    assert "tables not loaded in full:" in result.stdout
    assert "users: the token lacks the scope `read:jira-user`" in result.stdout
    assert "sprints: the token lacks the scope `read:board-scope:jira-software`" in result.stdout
    assert status.exit_code == 0, status.output
    assert "users: not loaded in full by the last run: the token lacks the scope" in status.stdout


def test_full_scopes_name_no_table(tmp_path: Path) -> None:
    db, pipelines_dir = tmp_path / "jira.duckdb", tmp_path / "p"
    with Emulator(issues=12, seed=4, start=START) as emu:
        result = run_cli(
            emulator_run_args(emu, db, pipelines_dir), env={"JIRA_TOKEN": emu.scoped_token}
        )
    status = run_cli(["status", "--duckdb-path", str(db), "--pipelines-dir", str(pipelines_dir)])

    assert result.exit_code == 0, result.output
    assert "not loaded in full" not in result.stdout
    assert "not loaded in full" not in status.stdout


class CappedIssueChangelog(RewritingProxy):
    """Embed one history of each issue in searches and `GET /issue/{id}?expand=changelog`.

    `total` stays the number of all of them, as a server that caps embedded lists sends it.
    """

    def rewrite(self, path: str, body: bytes | None, answer: httpx.Response) -> bytes:
        if re.search(r"/api/2/search(\?|$)", path):
            page = answer.json()
            for issue in page.get("issues", []):
                if "changelog" in issue:
                    issue["changelog"]["histories"] = issue["changelog"]["histories"][:1]
            return json.dumps(page).encode()
        if not re.search(r"/issue/\d+\?", path) or "expand=changelog" not in path:
            return answer.content
        issue = answer.json()
        issue["changelog"]["histories"] = issue["changelog"]["histories"][:1]
        return json.dumps(issue).encode()


def test_partial_histories_named_in_summary(tmp_path: Path) -> None:
    db, pipelines_dir = tmp_path / "jira.duckdb", tmp_path / "p"
    with Emulator(issues=12, seed=4, start=START, flavor="dc") as emu:
        # A server without the changelog endpoint, whose issue endpoint caps the histories.
        emu.add_fault(r"/issue/\d+/changelog$", 404, times=None)
        proxy = CappedIssueChangelog(emu.site_url)
        try:
            args = ["run", "--auth", "pat", "--site-url", proxy.url, "--duckdb-path", str(db)]
            result = run_cli(
                [*args, "--pipelines-dir", str(pipelines_dir)], env={"JIRA_TOKEN": emu.pat}
            )
        finally:
            proxy.close()
        capped = [issue["id"] for issue in emu.truth() if issue["history_count"] > 1]
    assert capped
    assert result.exit_code == 0, result.output
    assert "tables not loaded in full:" in result.stdout
    assert "issue_changelog: the server returned only part of some issues' histories" in (
        result.stdout
    )
    for issue_id in capped:
        assert f"Issue {issue_id}: /rest/api/2/issue/{issue_id} returned 1 of " in result.stderr
