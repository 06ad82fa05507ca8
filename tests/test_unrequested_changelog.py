"""Histories embedded in responses to searches that did not request `expand=changelog`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from pipelines.emulator import Emulator
from tests.helpers import RewritingProxy, history_rows, query, run_cli, site_run_args

SEARCH_PATH = re.compile(r"/rest/api/\d/(search|search/jql|issue/bulkfetch)(\?|$)")


class EmptyChangelogProxy(RewritingProxy):
    """Add an empty changelog whose `total` matches it to every issue the searches return."""

    def rewrite(self, path: str, body: bytes | None, answer: httpx.Response) -> bytes:
        if answer.status_code != 200 or not SEARCH_PATH.search(path):
            return answer.content
        page = answer.json()
        for issue in page.get("issues", []):
            issue["changelog"] = {"startAt": 0, "maxResults": 0, "total": 0, "histories": []}
        return json.dumps(page).encode()


@pytest.mark.parametrize(
    ("flavor", "extra"),
    [
        ("cloud", ["--auth", "bearer"]),
        ("dc", ["--auth", "pat", "--strategy", "sequential"]),
        ("dc", ["--auth", "pat", "--changelog-mode", "per_issue"]),
    ],
)
def test_unrequested_changelog_not_trusted(flavor: str, extra: list[str], tmp_path: Path) -> None:
    with Emulator(issues=30, flavor=flavor) as emu:
        truth = history_rows(emu)
        proxy = EmptyChangelogProxy(emu.site_url)
        try:
            db = tmp_path / "jira.duckdb"
            args = site_run_args(proxy.url, proxy.url, db, tmp_path / "pipelines", *extra)
            token = emu.pat if flavor == "dc" else emu.scoped_token
            result = run_cli(args, env={"JIRA_TOKEN": token})
        finally:
            proxy.close()
    assert result.exit_code == 0, result.output
    loaded = query(
        db, "select issue_id, history_id, item_position from issue_changelog where history_id > 0"
    )
    assert truth
    assert set(loaded) == truth
