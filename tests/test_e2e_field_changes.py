"""Custom fields that a Jira admin changes between runs.

Jira cannot change a field's type in place, so an admin deletes the field and creates another
one, with a new id, often under the same name. A field can also leave the account's view. A
proxy on 127.0.0.1 in front of the emulator plays such a site: it lists the changed fields in
`/field` and converts their values in every issue payload.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg2
import pytest

from pipelines.emulator import Emulator
from tests.helpers import (
    POSTGRES_DSN,
    CliResult,
    RewritingProxy,
    postgres_schema,
    query,
    run_cli,
    site_run_args,
    snapshot,
)

START = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
STORY_POINTS = "customfield_10026"
SEVERITY = "customfield_10040"
PLATFORMS = "customfield_10041"
SPRINT = "customfield_10020"
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


class FieldChangeProxy(RewritingProxy):
    """Serve the emulator with the fields in `changes` replaced or removed.

    `changes` maps an emulator field id to its replacement field and a function that converts
    the old value to the new one. A field mapped to None leaves `/field` and the issue payloads,
    as a deleted field or one hidden from the account does.
    """

    def __init__(self, upstream: str) -> None:
        self.changes: dict[str, tuple[dict[str, Any], Callable[[Any], Any]] | None] = {}
        super().__init__(upstream)

    def renames(self) -> dict[str, str]:
        return {old: change[0]["id"] for old, change in self.changes.items() if change}

    def request_path(self, path: str) -> str:
        for old, new in self.renames().items():
            path = path.replace(new, old)
        return path

    def request_body(self, path: str, body: bytes | None) -> bytes | None:
        for old, new in self.renames().items():
            body = body.replace(new.encode(), old.encode()) if body else body
        return body

    def rewrite(self, path: str, body: bytes | None, answer: httpx.Response) -> bytes:
        if not self.changes or "json" not in answer.headers.get("content-type", ""):
            return answer.content
        payload = json.loads(answer.content)
        if path.partition("?")[0].endswith("/field"):
            fields = [f for f in payload if f["id"] not in self.changes]
            fields += [change[0] for change in self.changes.values() if change]
            return json.dumps(fields).encode()
        for fields in issue_fields(payload):
            for old, change in self.changes.items():
                if old not in fields:
                    continue
                value = fields.pop(old)
                if change is not None:
                    new_field, convert = change
                    fields[new_field["id"]] = convert(value)
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
def site() -> Iterator[tuple[Emulator, FieldChangeProxy]]:
    with Emulator(issues=40, seed=5, start=START) as emu:
        proxy = FieldChangeProxy(emu.site_url)
        try:
            yield emu, proxy
        finally:
            proxy.close()


def load(emu: Emulator, proxy: FieldChangeProxy, folder: Path, *extra: str) -> CliResult:
    args = site_run_args(proxy.url, proxy.url, folder / "jira.duckdb", folder / "pipelines", *extra)
    return run_cli(args, env={"JIRA_TOKEN": emu.scoped_token})


def test_number_field_recreated_as_text(
    site: tuple[Emulator, FieldChangeProxy], tmp_path: Path
) -> None:
    emu, proxy = site
    database = tmp_path / "jira.duckdb"
    first = load(emu, proxy, tmp_path)
    assert first.exit_code == 0, first.output
    column_types = "select column_name, data_type from information_schema.columns"
    assert ("story_points", "DOUBLE") in query(
        database, f"{column_types} where table_name = 'issues'"
    )

    proxy.changes[STORY_POINTS] = (TEXT_FIELD, as_text)
    emu.advance(120)
    truth = {issue["key"]: issue["story_points"] for issue in emu.truth()}
    edited = sorted(key for key, points in truth.items() if points is not None)[:3]
    for key in edited:
        emu.edit_issue(key, summary="Edited after the field became text")
    second = load(emu, proxy, tmp_path)
    assert second.exit_code == 0, second.output

    # The text field gets a column of its own, and the number column keeps its type.
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
    site: tuple[Emulator, FieldChangeProxy], tmp_path: Path
) -> None:
    emu, proxy = site
    database = tmp_path / "jira.duckdb"
    proxy.changes[STORY_POINTS] = (TEXT_FIELD, as_text)
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


def postgres_rows(schema: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg2.connect(POSTGRES_DSN) as connection, connection.cursor() as cursor:
        cursor.execute(f'set search_path to "{schema}"')
        cursor.execute(sql)
        return cursor.fetchall()


@pytest.mark.parametrize("destination", ["duckdb", "postgres"])
def test_removed_fields_lose_stored_values(
    site: tuple[Emulator, FieldChangeProxy], tmp_path: Path, destination: str
) -> None:
    emu, proxy = site
    with postgres_schema("helpera_removed") as schema:
        extra: tuple[str, ...] = ()
        env = {"JIRA_TOKEN": emu.scoped_token}
        if destination == "postgres":
            extra = ("--destination", "postgres", "--dataset", schema)
            env["DESTINATION__POSTGRES__CREDENTIALS"] = POSTGRES_DSN

        def rows(sql: str) -> list[tuple[Any, ...]]:
            if destination == "postgres":
                return postgres_rows(schema, sql)
            return query(tmp_path / "jira.duckdb", sql)

        def run() -> CliResult:
            args = site_run_args(
                proxy.url, proxy.url, tmp_path / "jira.duckdb", tmp_path / "pipelines", *extra
            )
            return run_cli(args, env=env)

        first = run()
        assert first.exit_code == 0, first.output
        values_sql = "select field_id, count(*) from issue_field_values group by field_id"
        before = dict(rows(values_sql))
        assert rows("select count(severity) from issues")[0][0] > 0
        assert before[PLATFORMS] > 0

        assert rows("select count(*) from issue_sprints")[0][0] > 0

        # Severity, Platforms and Sprint are deleted in Jira, or hidden from the account.
        proxy.changes = {SEVERITY: None, PLATFORMS: None, SPRINT: None}
        emu.advance(120)
        emu.edit_issue("ABC-1", summary="Edited after three fields were removed")
        second = run()
        assert second.exit_code == 0, second.output

        assert rows("select count(*), count(distinct id), count(severity) from issues") == [
            (40, 40, 0)
        ]
        after = dict(rows(values_sql))
        assert PLATFORMS not in after
        assert after == {field: count for field, count in before.items() if field != PLATFORMS}
        assert rows("select count(*) from issue_sprints") == [(0,)]
        listed = rows(
            f"select field_id from fields where field_id in ('{SEVERITY}', '{PLATFORMS}')"
        )
        assert listed == []


class CutCatalogProxy(FieldChangeProxy):
    """Serve `/field` without the system fields and the fields in `unlisted`, issues unchanged."""

    unlisted: set[str] = set()

    def rewrite(self, path: str, body: bytes | None, answer: httpx.Response) -> bytes:
        if not path.partition("?")[0].endswith("/field") or not self.unlisted:
            return answer.content
        fields = json.loads(answer.content)
        kept = [f for f in fields if f.get("custom") and f["id"] not in self.unlisted]
        return json.dumps(kept).encode()


def test_cut_field_list_keeps_stored_values(tmp_path: Path) -> None:
    with Emulator(issues=40, seed=5, start=START) as emu:
        proxy = CutCatalogProxy(emu.site_url)
        try:
            first = load(emu, proxy, tmp_path)
            assert first.exit_code == 0, first.output
            database = tmp_path / "jira.duckdb"
            before = query(database, "select id, severity from issues where severity is not null")
            assert before

            # Jira lists its system fields to every account, so this list was cut on its way.
            proxy.unlisted = {SEVERITY}
            emu.advance(120)
            second = load(emu, proxy, tmp_path)
        finally:
            proxy.close()
    assert second.exit_code == 0, second.output
    assert "its list has no `updated` field" in second.output
    after = query(database, "select id, severity from issues where severity is not null")
    # The run read again the issue at the cursor, whose payload the cut catalog no longer maps;
    # every other issue keeps its value.
    assert "finished: 1 issues read" in second.output
    assert set(after) <= set(before)
    assert len(after) == len(before) - 1


def test_selected_field_removed_from_jira(
    site: tuple[Emulator, FieldChangeProxy], tmp_path: Path
) -> None:
    emu, proxy = site
    database = tmp_path / "jira.duckdb"
    first = load(emu, proxy, tmp_path, "--custom-fields", "Story Points,Severity")
    assert first.exit_code == 0, first.output
    assert query(database, "select count(severity) from issues")[0][0] > 0

    proxy.changes = {SEVERITY: None}
    emu.advance(120)
    emu.edit_issue("ABC-1", summary="Edited after Severity was removed")
    before = snapshot(database)
    unchanged = load(emu, proxy, tmp_path, "--custom-fields", "Story Points,Severity")
    assert unchanged.exit_code == 2, unchanged.output
    assert "Unknown custom field `Severity` in --custom-fields" in unchanged.output
    assert "hidden from the account is not listed, so remove it" in unchanged.output
    assert snapshot(database) == before

    # Leaving out a field that Jira no longer lists needs no full refresh.
    narrowed = load(emu, proxy, tmp_path, "--custom-fields", "Story Points")
    assert narrowed.exit_code == 0, narrowed.output
    assert query(database, "select count(severity) from issues") == [(0,)]
    expected = {issue["key"]: issue["story_points"] for issue in emu.truth()}
    assert dict(query(database, "select key, story_points from issues")) == expected


@pytest.mark.parametrize("sent", ["NaN", "Infinity", "1e999"])
def test_non_finite_number_stops_run(
    site: tuple[Emulator, FieldChangeProxy], tmp_path: Path, sent: str
) -> None:
    emu, proxy = site
    database = tmp_path / "jira.duckdb"
    first = load(emu, proxy, tmp_path)
    assert first.exit_code == 0, first.output
    before = snapshot(database)

    # The number field keeps its id and schema, but its values arrive as `sent`.
    number_field = {
        "id": STORY_POINTS,
        "name": "Story Points",
        "custom": True,
        "schema": {
            "type": "number",
            "custom": "com.atlassian.jira.plugin.system.customfieldtypes:float",
            "customId": 10026,
        },
    }
    proxy.changes[STORY_POINTS] = (number_field, lambda points: None if points is None else sent)
    emu.advance(120)
    key = next(issue["key"] for issue in emu.truth() if issue["story_points"] is not None)
    emu.edit_issue(key, summary="Edited while the field sends text")
    failed = load(emu, proxy, tmp_path)

    assert failed.exit_code == 1, failed.output
    assert f"has value `{sent}`, expected a finite number." in failed.output
    assert "Nothing was loaded and the cursor did not move." in failed.output
    assert snapshot(database) == before


def test_report_after_refresh_changed_column(
    site: tuple[Emulator, FieldChangeProxy], tmp_path: Path
) -> None:
    emu, proxy = site
    database = tmp_path / "jira.duckdb"
    first = load(emu, proxy, tmp_path)
    assert first.exit_code == 0, first.output
    applied = run_cli(["sql", "apply", "--duckdb-path", str(database)])
    assert applied.exit_code == 0, applied.output

    # After a full refresh, the text field takes the plain `story_points` name.
    proxy.changes[STORY_POINTS] = (TEXT_FIELD, as_text)
    refreshed = load(emu, proxy, tmp_path, "--full-refresh")
    assert refreshed.exit_code == 0, refreshed.output
    column_types = "select data_type from information_schema.columns where table_name = 'issues'"
    assert query(database, f"{column_types} and column_name = 'story_points'") == [("VARCHAR",)]

    stale = run_cli(["report", "--duckdb-path", str(database)])
    assert stale.exit_code == 1, stale.output
    assert "Traceback" not in stale.output
    assert "Error: Reading view `jira.weekly_throughput` failed: Conversion Error" in stale.output
    assert "run `jira-etl sql apply` again." in stale.output

    again = run_cli(["sql", "apply", "--duckdb-path", str(database)])
    assert again.exit_code == 0, again.output
    reported = run_cli(["report", "--duckdb-path", str(database)])
    assert reported.exit_code == 0, reported.output
