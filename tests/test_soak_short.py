"""A short soak: incremental runs of the real CLI under site changes, faults and SIGKILLs."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.emulator import Emulator
from pipelines.soak import SoakReport, cli_env, compare, soak
from tests.helpers import emulator_run_args, run_cli


def test_short_soak_finds_no_errors(tmp_path: Path) -> None:
    report = soak(
        5,
        seed=2,
        kill_rate=0.4,
        fault_rate=0.05,
        issues=40,
        workdir=tmp_path / "made" / "by" / "soak",
    )
    text = "\n".join(report.lines())
    assert report.kills >= 1, text
    assert report.faults >= 1, text
    assert report.mutations >= 10, text
    assert report.issues_checked >= 30, text
    assert (report.lost, report.doubled, report.stale) == (0, 0, 0), text
    assert not report.problems, text


def test_compare_counts_doubled_and_missing_child_rows(tmp_path: Path) -> None:
    database = tmp_path / "jira.duckdb"
    with Emulator(issues=30, seed=4) as emu:
        loaded = run_cli(emulator_run_args(emu, database, tmp_path / "p"), env=cli_env(emu))
        assert loaded.exit_code == 0, loaded.output
        clean = SoakReport()
        compare(emu, database, clean)
        assert (clean.lost, clean.doubled, clean.stale) == (0, 0, 0), clean.problems
        with duckdb.connect(str(database)) as connection:
            connection.execute("use jira.jira")
            (component,) = connection.execute(
                "select issue_id from issue_components order by issue_id limit 1"
            ).fetchone()
            connection.execute(
                f"insert into issue_components select * from issue_components "
                f"where issue_id = {component} limit 1"
            )
            (sprint,) = connection.execute(
                "select issue_id from issue_sprints order by issue_id limit 1"
            ).fetchone()
            connection.execute(f"delete from issue_sprints where issue_id = {sprint}")
        report = SoakReport()
        compare(emu, database, report)
    assert report.doubled == 1, report.problems
    assert report.lost >= 1, report.problems
    assert any(p.startswith("issue_components: doubled") for p in report.problems)
    assert any(p.startswith(f"issue_sprints: missing ({sprint},") for p in report.problems)
