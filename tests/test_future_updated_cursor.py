"""An issue whose `updated` lies in the future.

The cursor must not follow that date, or every later run would skip the edits made before it.
A small proxy on 127.0.0.1 between the CLI and the emulator gives one issue a date in 2031
in the search and bulk fetch responses.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pipelines.emulator import Emulator
from pipelines.window import cursor_after_read
from tests.helpers import CliResult, RewritingProxy, query, run_cli, site_run_args

FUTURE_KEY = "ABC-2"
FUTURE_UPDATED = "2031-01-02T03:04:05.678+0000"
T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)


class FutureDateProxy(RewritingProxy):
    """Forward to the emulator, and set `FUTURE_KEY`'s `updated` to `FUTURE_UPDATED`."""

    def rewrite(self, path: str, body: bytes | None, answer: httpx.Response) -> bytes:
        if not path.endswith(("/search/jql", "/issue/bulkfetch")):
            return answer.content
        page = json.loads(answer.content)
        for issue in page.get("issues", []):
            if issue.get("key") == FUTURE_KEY and "updated" in issue.get("fields", {}):
                issue["fields"]["updated"] = FUTURE_UPDATED
        return json.dumps(page).encode()


@pytest.fixture
def site() -> Iterator[tuple[Emulator, FutureDateProxy]]:
    # The cursor is compared with the local clock, so the emulator runs on it.
    start = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with Emulator(issues=20, seed=5, start=start) as emu:
        proxy = FutureDateProxy(emu.site_url)
        try:
            yield emu, proxy
        finally:
            proxy.close()


def load(proxy: FutureDateProxy, emu: Emulator, tmp_path: Path, *extra: str) -> CliResult:
    args = site_run_args(
        proxy.url,
        proxy.url,
        tmp_path / "jira.duckdb",
        tmp_path / "pipelines",
        "--tables",
        "issue_changelog",
        "--skip-delete-sweep",
        *extra,
    )
    return run_cli(args, env={"JIRA_TOKEN": emu.scoped_token})


def test_edit_after_future_dated_issue_loads(
    site: tuple[Emulator, FutureDateProxy], tmp_path: Path
) -> None:
    emu, proxy = site
    first = load(proxy, emu, tmp_path)
    assert first.exit_code == 0, first.output
    emu.advance(60)
    emu.edit_issue("ABC-1", summary="edited after the future-dated import")
    second = load(proxy, emu, tmp_path)
    assert second.exit_code == 0, second.output
    rows = query(tmp_path / "jira.duckdb", "select summary from issues where key = 'ABC-1'")
    assert rows == [("edited after the future-dated import",)]
    assert "later than the time now" in first.stderr


@pytest.mark.parametrize(
    ("previous", "reached", "expected"),
    [
        (None, None, None),
        (None, T0 - dt.timedelta(hours=1), T0 - dt.timedelta(hours=1)),
        (None, T0 + dt.timedelta(days=900), T0),
        (T0 - dt.timedelta(hours=2), T0 + dt.timedelta(days=900), T0),
        (T0 - dt.timedelta(hours=2), T0 - dt.timedelta(hours=3), T0 - dt.timedelta(hours=2)),
        (T0 + dt.timedelta(days=1), T0 + dt.timedelta(days=2), T0 + dt.timedelta(days=1)),
    ],
)
def test_cursor_capped_at_read_start(
    previous: dt.datetime | None, reached: dt.datetime | None, expected: dt.datetime | None
) -> None:
    assert cursor_after_read(previous, reached, T0) == expected


def test_future_stored_cursor_stops_run(
    site: tuple[Emulator, FutureDateProxy], tmp_path: Path
) -> None:
    # Earlier code stored a future-dated issue's `updated` as the cursor.
    emu, proxy = site
    assert load(proxy, emu, tmp_path).exit_code == 0
    state_file = tmp_path / "pipelines" / "jira_jira" / "state.json"
    state = json.loads(state_file.read_text())
    state["sources"]["jira"]["issues_cursor"] = "2031-01-02T03:04:05.678Z"
    state_file.write_text(json.dumps(state))
    before = query(tmp_path / "jira.duckdb", "select key, summary from issues order by key")
    emu.advance(60)
    emu.edit_issue("ABC-1", summary="edited while the cursor was in the future")

    stopped = load(proxy, emu, tmp_path)

    assert stopped.exit_code == 1, stopped.output
    assert "The stored cursor 2031-01-02T03:04:05.678Z is later than the time now" in stopped.stderr
    assert "Run once with --full-refresh" in stopped.stderr
    assert query(tmp_path / "jira.duckdb", "select key, summary from issues order by key") == before
    stored = json.loads(state_file.read_text())["sources"]["jira"]["issues_cursor"]
    assert stored == "2031-01-02T03:04:05.678Z"
    refreshed = load(proxy, emu, tmp_path, "--full-refresh")
    assert refreshed.exit_code == 0, refreshed.output
    rows = query(tmp_path / "jira.duckdb", "select summary from issues where key = 'ABC-1'")
    assert rows == [("edited while the cursor was in the future",)]
