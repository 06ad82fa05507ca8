"""A status and a component renamed in Jira between runs.

Jira keeps the ids and does not edit the issues, so a run reads again only the issues edited
since. A proxy on 127.0.0.1 in front of the emulator plays the renamed site: every response
after the rename carries the new names, in `/status`, in the component listings and in the
issue payloads alike.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import httpx

from pipelines.emulator import Emulator
from tests.helpers import CliResult, RewritingProxy, query, run_cli, site_run_args

START = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
STATUS_ID = "3"
COMPONENT_ID = "10100"


class ChangingProxy(RewritingProxy):
    """A proxy whose `rewrite` changes responses once `active` is set."""

    active = False


def run_before_and_after(
    emu: Emulator, proxy: ChangingProxy, tmp_path: Path
) -> tuple[CliResult, CliResult]:
    """Load through `proxy`, activate it, edit ABC-1 an hour later, and load again."""
    args = site_run_args(proxy.url, proxy.url, tmp_path / "jira.duckdb", tmp_path / "p")
    env = {"JIRA_TOKEN": emu.scoped_token}
    first = run_cli(args, env=env)
    proxy.active = True
    emu.advance(3600)
    emu.edit_issue("ABC-1", summary="Edited after the site changed")
    second = run_cli(args, env=env)
    return first, second


class RenamingProxy(ChangingProxy):
    """Serve status 3 as `Doing` and component 10100 as `Public API` once active."""

    def rewrite(self, path: str, body: bytes | None, answer: httpx.Response) -> bytes:
        if not self.active or "json" not in answer.headers.get("content-type", ""):
            return answer.content
        payload = json.loads(answer.content)
        rename(payload, inside_components=path.partition("?")[0].endswith("/components"))
        return json.dumps(payload).encode()


def rename(node: Any, inside_components: bool = False) -> None:
    """Rename the status and the component wherever `node` contains them."""
    if isinstance(node, list):
        for item in node:
            rename(item, inside_components)
    elif isinstance(node, dict):
        if node.get("id") == STATUS_ID and "statusCategory" in node:
            node["name"] = "Doing"
        if inside_components and node.get("id") == COMPONENT_ID:
            node["name"] = "Public API"
        for key, value in node.items():
            rename(value, inside_components or key == "components")


def test_renamed_status_and_component_reach_older_issues(tmp_path: Path) -> None:
    with Emulator(issues=60, seed=5, start=START) as emu:
        proxy = RenamingProxy(emu.site_url)
        try:
            first, second = run_before_and_after(emu, proxy, tmp_path)
        finally:
            proxy.close()

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    database = tmp_path / "jira.duckdb"
    statuses = query(
        database,
        f"select status, count(*) from issues where status_id = {STATUS_ID} group by status",
    )
    assert len(statuses) == 1
    assert statuses[0][0] == "Doing"
    assert statuses[0][1] > 1
    components = query(
        database,
        "select component_name, count(*) from issue_components "
        f"where component_id = {COMPONENT_ID} group by component_name",
    )
    assert len(components) == 1
    assert components[0][0] == "Public API"
    assert components[0][1] > 1
    assert query(database, "select name from components where id = 10100") == [("Public API",)]


class MalformedListingProxy(ChangingProxy):
    """Serve status 3 without its name and category, and OPS without its key and name."""

    def rewrite(self, path: str, body: bytes | None, answer: httpx.Response) -> bytes:
        if not self.active or "json" not in answer.headers.get("content-type", ""):
            return answer.content
        route = path.partition("?")[0]
        payload = json.loads(answer.content)
        if route.endswith("/status"):
            for status in payload:
                if status.get("id") == STATUS_ID:
                    del status["name"], status["statusCategory"]
        if route.endswith("/project/search"):
            for project in payload["values"]:
                if project.get("key") == "OPS":
                    del project["key"], project["name"]
        return json.dumps(payload).encode()


def test_nameless_reference_rows_keep_issue_names(tmp_path: Path) -> None:
    with Emulator(issues=60, seed=5, start=START) as emu:
        proxy = MalformedListingProxy(emu.site_url)
        try:
            first, second = run_before_and_after(emu, proxy, tmp_path)
            truth = emu.truth()
        finally:
            proxy.close()

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    expected = {
        (issue["id"], issue["key"], issue["project_key"], issue["status"], issue["status_category"])
        for issue in truth
    }
    stored = query(
        tmp_path / "jira.duckdb",
        "select id, key, project_key, status, status_category from issues",
    )
    assert set(stored) == expected
    assert any(str(issue["status_id"]) == STATUS_ID for issue in truth)
    assert any(issue["project_key"] == "OPS" for issue in truth)
    names = query(tmp_path / "jira.duckdb", "select distinct project_name from issues")
    assert ("Operations",) in names
    assert (None,) not in names
