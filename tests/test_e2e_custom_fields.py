"""`--custom-fields`: only the chosen custom fields get columns, and changing them needs a refresh."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pipelines.emulator import Emulator
from tests.helpers import CliResult, emulator_run_args, query, run_cli, snapshot

START = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
ISSUES = 80
# One custom field by id, one by its name in another case: "Story point estimate".
CHOSEN = "customfield_10026, story POINT estimate"
CHOSEN_IDS = {"customfield_10026", "customfield_10016"}


def columns(database: Path, table: str) -> set[str]:
    sql = f"select column_name from information_schema.columns where table_name = '{table}'"
    return {row[0] for row in query(database, sql)}


def run_with_fields(emu: Emulator, database: Path, folder: Path, fields: str | None) -> CliResult:
    """Run `jira-etl run` into `database`, with `--custom-fields FIELDS` unless None."""
    args = emulator_run_args(emu, database, folder)
    if fields is not None:
        args += ["--custom-fields", fields]
    return run_cli(args, env={"JIRA_TOKEN": emu.scoped_token})


def test_chosen_fields_alone_get_columns(tmp_path: Path) -> None:
    everything = tmp_path / "all.duckdb"
    chosen = tmp_path / "chosen.duckdb"
    with Emulator(issues=ISSUES, seed=5, start=START) as emu:
        full = run_with_fields(emu, everything, tmp_path / "p1", None)
        result = run_with_fields(emu, chosen, tmp_path / "p2", CHOSEN)
        truth = {issue["id"]: issue for issue in emu.truth()}
    assert full.exit_code == 0, full.output
    assert result.exit_code == 0, result.output

    # The custom fields left out are those the full load gave an `issues` column.
    fields_sql = "select field_id, column_name from fields where is_custom"
    custom_columns = dict(query(everything, fields_sql))
    left_out = {
        column
        for field_id, column in custom_columns.items()
        if field_id not in CHOSEN_IDS and column in columns(everything, "issues")
    }
    assert left_out, "the emulator offers no other single-valued custom field"
    assert columns(chosen, "issues") == columns(everything, "issues") - left_out

    points = query(chosen, "select id, story_points, story_point_estimate from issues order by id")
    assert len(points) == ISSUES
    for issue_id, story_points, estimate in points:
        assert story_points == truth[issue_id]["story_points"]
        assert estimate == truth[issue_id]["story_point_estimate"]

    # Sprint and the multi-valued fields were not chosen, so their tables stay empty.
    assert query(everything, "select count(*) from issue_sprints")[0][0] > 0
    assert query(chosen, "select count(*) from issue_sprints") == [(0,)]
    assert query(everything, "select count(*) from issue_field_values")[0][0] > 0
    assert query(chosen, "select count(*) from issue_field_values") == [(0,)]

    # The `fields` table still lists every field; only the chosen custom ones have a column.
    chosen_fields = dict(query(chosen, fields_sql))
    assert set(chosen_fields) == set(custom_columns)
    assert {fid for fid, column in chosen_fields.items() if column is not None} == CHOSEN_IDS


def test_changed_fields_require_full_refresh(tmp_path: Path) -> None:
    database = tmp_path / "changed.duckdb"
    folder = tmp_path / "p"
    with Emulator(issues=ISSUES, seed=5, start=START) as emu:
        first = run_with_fields(emu, database, folder, "customfield_10026")
        assert first.exit_code == 0, first.output
        before = snapshot(database)

        emu.advance(60)
        emu.edit_issue(emu.truth()[0]["id"], summary="Edited after the first load")
        changed = run_with_fields(emu, database, folder, "customfield_10026,Severity")
        after_changed = snapshot(database)
        every = run_with_fields(emu, database, folder, None)
        after_every = snapshot(database)
        args = emulator_run_args(emu, database, folder, "--full-refresh")
        args += ["--custom-fields", "customfield_10026,Severity"]
        refreshed = run_cli(args, env={"JIRA_TOKEN": emu.scoped_token})
    assert changed.exit_code == 2, changed.output
    assert (
        "The custom fields changed from customfield_10026 to customfield_10026, "
        "customfield_10040 since the data in this dataset was loaded." in changed.output
    )
    assert "--full-refresh" in changed.output
    assert after_changed == before

    assert every.exit_code == 2, every.output
    assert "changed from customfield_10026 to every custom field" in every.output
    assert after_every == before

    assert refreshed.exit_code == 0, refreshed.output
    assert "severity" in columns(database, "issues")
    assert query(database, "select count(*) from issues") == [(ISSUES,)]


def test_unknown_or_shared_field_name_stops_before_loading(tmp_path: Path) -> None:
    database = tmp_path / "unknown.duckdb"
    folder = tmp_path / "p"
    with Emulator(issues=ISSUES, seed=5, start=START) as emu:
        unknown = run_with_fields(emu, database, folder, "Story Points,No Such Field")
        shared = run_with_fields(emu, database, folder, "Team")
        empty = run_with_fields(emu, database, folder, " , ")

    assert unknown.exit_code == 2, unknown.output
    assert "Unknown custom field `No Such Field` in --custom-fields" in unknown.output
    assert "Traceback" not in unknown.output

    # The emulator has two custom fields named Team, as a Jira site can.
    assert shared.exit_code == 2, shared.output
    assert (
        "Ambiguous custom field `Team` in --custom-fields: 2 custom fields have this name "
        "(customfield_10049, customfield_10050)." in shared.output
    )

    assert empty.exit_code == 2, empty.output
    assert "--custom-fields" in empty.output
    assert "names no field" in empty.output

    # The file may exist, but nothing was loaded into the dataset.
    assert not database.exists() or snapshot(database) == {}


def test_changed_fields_after_failed_run(tmp_path: Path) -> None:
    database = tmp_path / "failed.duckdb"
    folder = tmp_path / "p"
    with Emulator(issues=300, seed=5, start=START) as emu:
        # The third bulk fetch fails for good, after the first parts are loaded and before the
        # last one, which would store the cursor.
        emu.add_fault(r"/issue/bulkfetch$", 400, times=1, every=3)
        args = emulator_run_args(emu, database, folder, "--issues-per-load", "100")
        failed = run_cli(
            [*args, "--custom-fields", "Severity"], env={"JIRA_TOKEN": emu.scoped_token}
        )
        emu.clear_faults()
        assert failed.exit_code == 1, failed.output
        loaded = query(database, "select count(*) from issues")[0][0]
        assert 0 < loaded < 300
        before = snapshot(database)

        changed = run_with_fields(emu, database, folder, "Story Points")
    assert changed.exit_code == 2, changed.output
    assert "changed from customfield_10040 to customfield_10026" in changed.output
    assert snapshot(database) == before
