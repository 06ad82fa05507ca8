"""Custom fields that a Jira admin changes between runs.

Jira cannot change a field's type in place, so an admin deletes the field and creates another
one, with a new id, often under the same name. A proxy on 127.0.0.1 in front of the emulator
plays such a site. It lists the new field in `/field` in place of the old one, and it returns
the old field's values, converted, under the new id in every issue payload.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pipelines.emulator import Emulator
from tests.helpers import CliResult, RewritingProxy, query, run_cli, site_run_args

START = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
STORY_POINTS = "customfield_10026"
TEXT_POINTS = "customfield_10100"
TEXT_FIELD = {
    "id": TEXT_POINTS,
    "key": TEXT_POINTS,
    "name": "Story Points",
    "custom": True,
    "orderable": True,
    "navigable": True,
    "searchable": True,
    "clauseNames": ["cf[10100]", "Story Points"],
    "schema": {
        "type": "string",
        "custom": "com.atlassian.jira.plugin.system.customfieldtypes:textfield",
        "customId": 10100,
    },
}


def as_text(points: Any) -> str | None:
    return None if points is None else f"{points:g} points"


class RecreatedFieldProxy(RewritingProxy):
    """Serve the emulator with field `old_id` replaced by `new_field` once `active` is set."""

    def __init__(
        self, upstream: str, old_id: str, new_field: dict[str, Any], convert: Callable[[Any], Any]
    ) -> None:
        self.old_id = old_id
        self.new_field = new_field
        self.convert = convert
        self.active = False
        super().__init__(upstream)

    def request_path(self, path: str) -> str:
        return path.replace(self.new_field["id"], self.old_id) if self.active else path

    def request_body(self, path: str, body: bytes | None) -> bytes | None:
        if not self.active or body is None:
            return body
        return body.replace(self.new_field["id"].encode(), self.old_id.encode())

    def rewrite(self, path: str, body: bytes | None, answer: httpx.Response) -> bytes:
        if not self.active or "json" not in answer.headers.get("content-type", ""):
            return answer.content
        payload = json.loads(answer.content)
        if path.partition("?")[0].endswith("/field"):
            fields = [f for f in payload if f["id"] != self.old_id] + [self.new_field]
            return json.dumps(fields).encode()
        for fields in issue_fields(payload):
            if self.old_id in fields:
                fields[self.new_field["id"]] = self.convert(fields.pop(self.old_id))
        return json.dumps(payload).encode()


def issue_fields(node: Any) -> Iterator[dict[str, Any]]:
    """Yield the `fields` object of every issue in a response."""
    if isinstance(node, list):
        for item in node:
            yield from issue_fields(item)
    elif isinstance(node, dict):
        if "id" in node and isinstance(node.get("fields"), dict):
            yield node["fields"]
        for value in node.values():
            yield from issue_fields(value)


@pytest.fixture
def site() -> Iterator[tuple[Emulator, RecreatedFieldProxy]]:
    with Emulator(issues=40, seed=5, start=START) as emu:
        proxy = RecreatedFieldProxy(emu.site_url, STORY_POINTS, TEXT_FIELD, as_text)
        try:
            yield emu, proxy
        finally:
            proxy.close()


def load(emu: Emulator, proxy: RecreatedFieldProxy, folder: Path, *extra: str) -> CliResult:
    args = site_run_args(proxy.url, proxy.url, folder / "jira.duckdb", folder / "pipelines", *extra)
    return run_cli(args, env={"JIRA_TOKEN": emu.scoped_token})


def test_number_field_recreated_as_text(
    site: tuple[Emulator, RecreatedFieldProxy], tmp_path: Path
) -> None:
    emu, proxy = site
    database = tmp_path / "jira.duckdb"
    first = load(emu, proxy, tmp_path)
    assert first.exit_code == 0, first.output
    column_types = "select column_name, data_type from information_schema.columns"
    assert ("story_points", "DOUBLE") in query(
        database, f"{column_types} where table_name = 'issues'"
    )

    proxy.active = True
    emu.advance(120)
    truth = {issue["key"]: issue["story_points"] for issue in emu.truth()}
    edited = sorted(key for key, points in truth.items() if points is not None)[:3]
    for key in edited:
        emu.edit_issue(key, summary="Edited after the field became text")
    second = load(emu, proxy, tmp_path)
    assert second.exit_code == 0, second.output

    # The text field gets a column of its own; the number column keeps its type.
    columns = dict(query(database, f"{column_types} where table_name = 'issues'"))
    assert columns["story_points"] == "DOUBLE"
    assert columns["story_points_10100"] == "VARCHAR"
    listed = query(database, f"select column_name from fields where field_id = '{TEXT_POINTS}'")
    assert listed == [("story_points_10100",)]

    keys = ", ".join(f"'{key}'" for key in edited)
    loaded = dict(
        query(database, f"select key, story_points_10100 from issues where key in ({keys})")
    )
    assert loaded == {key: as_text(truth[key]) for key in edited}
    assert query(database, "select count(*), count(distinct id) from issues") == [(40, 40)]


def test_text_story_points_left_out_of_views(
    site: tuple[Emulator, RecreatedFieldProxy], tmp_path: Path
) -> None:
    emu, proxy = site
    database = tmp_path / "jira.duckdb"
    proxy.active = True
    loaded = load(emu, proxy, tmp_path)
    assert loaded.exit_code == 0, loaded.output
    assert query(database, "select count(story_points) from issues")[0][0] > 0

    applied = run_cli(["sql", "apply", "--duckdb-path", str(database), "--as-of", "2026-12-01"])
    assert applied.exit_code == 0, applied.output
    assert (
        "Column `jira.issues.story_points` has type VARCHAR, not a number: the views read no "
        "story points from it." in applied.output
    )
    assert "has no column(s)" not in applied.output

    reported = run_cli(["report", "--duckdb-path", str(database)])
    assert reported.exit_code == 0, reported.output
    assert "Traceback" not in reported.output

    # Story points now come from the number field "Story point estimate" alone.
    expected = {issue["key"]: issue["story_point_estimate"] for issue in emu.truth()}
    points = dict(query(database, "select issue_key, story_points from issue_enhanced"))
    assert points == expected
