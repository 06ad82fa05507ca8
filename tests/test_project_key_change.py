"""A project's key and name change in Jira between two runs.

Jira then gives every issue of the project a key with the new project key and the same
number, and does not update the issues, so no run reads them again. A proxy on 127.0.0.1
between the CLI and the emulator returns the project listing with the new key and name in
the second run, as Jira does after the change.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from pipelines.emulator import Emulator
from tests.helpers import RewritingProxy, query, run_cli, site_run_args

START = dt.datetime(2026, 7, 1, 9, 0, 1, tzinfo=dt.UTC)
OLD_KEY = "XYZ"
NEW_KEY = "XYW"
NEW_NAME = "Renamed project"


class RenamingProxy(RewritingProxy):
    """Return the project listing with OLD_KEY's project renamed, once `renamed` is set."""

    def __init__(self, upstream: str) -> None:
        self.renamed = False
        super().__init__(upstream)

    def rewrite(self, path: str, body: bytes | None, answer: httpx.Response) -> bytes:
        if not self.renamed or not urlsplit(path).path.endswith("/project/search"):
            return answer.content
        page = answer.json()
        for project in page["values"]:
            if project["key"] == OLD_KEY:
                project["key"] = NEW_KEY
                project["name"] = NEW_NAME
        return json.dumps(page).encode()


def load(emu: Emulator, url: str, tmp_path: Path) -> tuple[int, str]:
    args = site_run_args(url, url, tmp_path / "jira.duckdb", tmp_path / "p")
    result = run_cli(args, env={"JIRA_TOKEN": emu.scoped_token})
    return result.exit_code, result.output


def test_project_key_change_renames_issues(tmp_path: Path) -> None:
    with Emulator(issues=12, seed=4, start=START) as emu:
        truth = emu.truth()
        proxy = RenamingProxy(emu.site_url)
        try:
            first_exit, first_output = load(emu, proxy.url, tmp_path)
            emu.advance(600)
            proxy.renamed = True
            second_exit, second_output = load(emu, proxy.url, tmp_path)
        finally:
            proxy.close()

    renamed = {
        issue["id"]: NEW_KEY + "-" + issue["key"].split("-")[1]
        for issue in truth
        if issue["key"].startswith(OLD_KEY + "-")
    }
    others = {issue["id"]: issue["key"] for issue in truth if issue["id"] not in renamed}
    rows = query(tmp_path / "jira.duckdb", "select id, key, project_key, project_name from issues")
    stored = {row[0]: row[1:] for row in rows}

    assert first_exit == 0, first_output
    assert second_exit == 0, second_output
    assert renamed
    assert others
    assert {issue_id: stored[issue_id][0] for issue_id in renamed} == renamed
    assert {stored[issue_id][1] for issue_id in renamed} == {NEW_KEY}
    assert {stored[issue_id][2] for issue_id in renamed} == {NEW_NAME}
    assert {issue_id: stored[issue_id][0] for issue_id in others} == others
