"""Under change: edits between search pages, a lagging search index, zone and DST changes.

No issue may be skipped in a run or the next one, and the cursor never passes an issue that was
not loaded. Expected values come from the emulator's truth.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from pipelines.emulator import Emulator
from tests.helpers import query, run_cli

# One minute before Los Angeles switches to daylight-saving time (2026-03-08 02:00 PST).
BEFORE_DST = dt.datetime(2026, 3, 8, 9, 59, 2, tzinfo=dt.UTC)


def load(emu: Emulator, tmp_path: Path, *extra: str) -> str:
    result = run_cli(
        [
            "run",
            "--site-url",
            emu.site_url,
            "--gateway-url",
            emu.gateway_url,
            "--duckdb-path",
            str(tmp_path / "jira.duckdb"),
            "--pipelines-dir",
            str(tmp_path / "pipelines"),
            "--tables",
            "sprints",
            *extra,
        ],
        env={"JIRA_TOKEN": emu.scoped_token},
    )
    assert result.exit_code == 0, result.output
    return result.output


def loaded(tmp_path: Path) -> dict[int, tuple]:
    rows = query(tmp_path / "jira.duckdb", "select id, key, summary, updated_at from issues")
    return {row[0]: row[1:] for row in rows}


def truth(emu: Emulator) -> dict[int, tuple]:
    return {t["id"]: (t["key"], t["summary"], t["updated"]) for t in emu.truth()}


def cursor(tmp_path: Path) -> dt.datetime:
    state = json.loads((tmp_path / "pipelines" / "jira_jira" / "state.json").read_text())
    return dt.datetime.fromisoformat(state["sources"]["jira"]["issues_cursor"])


def test_edits_between_pages_skip_nothing(tmp_path: Path) -> None:
    with Emulator(issues=60, seed=31, start=BEFORE_DST) as emu:
        ids_before = set(truth(emu))
        emu.script.edit_between_pages(2)
        load(emu, tmp_path, "--page-size", "7", "--strategy", "sequential")
        assert len(emu.script.edited) >= 10
        # Every issue of the run's start is loaded; the edited ones at least at some version.
        assert ids_before <= set(loaded(tmp_path))
        # The cursor stays at or below the newest version search could show.
        assert cursor(tmp_path) <= max(t["updated"] for t in emu.truth())
        emu.script.stop()
        emu.advance(5)
        load(emu, tmp_path, "--page-size", "7")
        assert loaded(tmp_path) == truth(emu)


def test_lagging_index_caught_up_next_run(tmp_path: Path) -> None:
    with Emulator(issues=30, seed=32, start=BEFORE_DST) as emu:
        load(emu, tmp_path)
        emu.visibility_lag_seconds = 40
        emu.advance(10)
        late = emu.edit_issue("ABC-4", summary="indexed late")
        emu.advance(5)
        emu.edit_issue("XYZ-3", summary="also indexed late")
        load(emu, tmp_path)
        # Search still showed the old versions: the cursor must not pass the late edits.
        assert loaded(tmp_path)[late["id"]][1] != "indexed late"
        assert cursor(tmp_path) < late["updated"]
        emu.advance(60)
        load(emu, tmp_path)
        assert loaded(tmp_path) == truth(emu)


def test_zone_and_dst_changes_skip_nothing(tmp_path: Path) -> None:
    with Emulator(issues=30, seed=33, time_zone="America/Los_Angeles", start=BEFORE_DST) as emu:
        load(emu, tmp_path, "--lookback", "0")
        # Across the DST switch: the local clock jumps from 01:59 to 03:00.
        emu.advance(90)
        emu.edit_issue("ABC-2", summary="after the switch")
        emu.set_time_zone("Asia/Kolkata")
        load(emu, tmp_path, "--lookback", "0")
        assert loaded(tmp_path) == truth(emu)
        emu.advance(30)
        emu.edit_issue("ABC-3", summary="seen from Chatham")
        emu.create_issue("XYZ", summary="created far east")
        emu.set_time_zone("Pacific/Chatham")
        load(emu, tmp_path, "--lookback", "0")
        assert loaded(tmp_path) == truth(emu)


def test_sequential_edits_leave_no_stale_rows(tmp_path: Path) -> None:
    """An issue read, then edited and pushed back across a page boundary, is read again."""
    with Emulator(issues=400, seed=34, start=BEFORE_DST) as emu:
        emu.script.edit_between_pages(12)
        load(emu, tmp_path, "--page-size", "25", "--strategy", "sequential", "--lookback", "0")
        emu.script.stop()
        reached = cursor(tmp_path)
        expected = {i: v for i, v in truth(emu).items() if v[2] <= reached}
        got = loaded(tmp_path)
        stale = sorted(i for i, version in expected.items() if got.get(i) != version)
        assert len(emu.script.edited) >= 100
        assert stale == []


def test_issue_read_twice_keeps_newest_child_rows(tmp_path: Path) -> None:
    # Both versions of an edited issue reach one load package. Their child rows share keys,
    # and the merge must keep the newer version's rows, the ones the issue has now.
    with Emulator(issues=300, seed=3, start=BEFORE_DST) as emu:
        emu.script.edit_between_pages(2)
        load(emu, tmp_path, "--page-size", "9", "--strategy", "sequential", "--lookback", "0")
        emu.script.stop()
        assert len(emu.script.edited) >= 10
        current = {t["id"]: t for t in emu.truth()}
    stored = loaded(tmp_path)
    # Issues stored at the version the site has now; the others are read again next run.
    up_to_date = {
        i for i, row in stored.items() if i in current and row[2] == current[i]["updated"]
    }
    assert len(up_to_date & set(emu.script.edited)) >= 5
    labels = query(tmp_path / "jira.duckdb", "select issue_id, label from issue_labels")
    stored_labels = {row for row in labels if row[0] in up_to_date}
    expected = {(i, label) for i in up_to_date for label in current[i]["labels"]}
    assert len(labels) == len(set(labels))
    assert stored_labels == expected
