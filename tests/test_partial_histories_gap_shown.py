"""A run that cannot read again the issues whose histories came back in part shows the gap."""

from __future__ import annotations

import contextlib
from pathlib import Path

from pipelines.emulator import Emulator
from tests.helpers import history_rows, query, run_cli
from tests.test_dc_embedded_changelog_faults import _capped_without_endpoint


def _run_args(emu: Emulator, duckdb_path: Path, pipelines_dir: Path) -> list[str]:
    """The arguments of a Data Center run against `emu` with a Personal Access Token."""
    paths = ["--duckdb-path", str(duckdb_path), "--pipelines-dir", str(pipelines_dir)]
    return ["run", "--auth", "pat", "--site-url", emu.site_url, *paths]


def _lacking(emu: Emulator, duckdb_path: Path) -> set[int]:
    """The issues with a history item that the emulator has and the table lacks."""
    truth = history_rows(emu)
    loaded = set(
        query(
            duckdb_path,
            "select issue_id, history_id, item_position from issue_changelog where history_id > 0",
        )
    )
    return {issue_id for issue_id, _, _ in truth - loaded}


def test_hidden_partial_histories_shown_as_gap(tmp_path: Path) -> None:
    # The first run gets the histories of ABC's issues only in part. The second run has the
    # changelog endpoint back but cannot see ABC, so those issues keep their partial rows.
    # Its summary and `status` still name issue_changelog as not loaded in full.
    duckdb_path, pipelines_dir = tmp_path / "jira.duckdb", tmp_path / "p"
    with Emulator(issues=30, flavor="dc") as emu:
        _capped_without_endpoint(emu, 2)
        args = _run_args(emu, duckdb_path, pipelines_dir)
        env = {"JIRA_TOKEN": emu.pat}
        first = run_cli(args, env=env)
        emu.clear_faults()
        emu.revoke_project("ABC")
        hidden = run_cli(args, env=env)
        status = run_cli(["status", *args[5:]], env=env)
        lacking = _lacking(emu, duckdb_path)

    assert first.exit_code == 0, first.output
    assert hidden.exit_code == 0, hidden.output
    assert lacking, "the hidden project's issues should still lack histories"
    assert "tables not loaded in full:" in hidden.stdout, hidden.stdout
    assert "issue_changelog: not loaded in full" in status.stdout, status.stdout


def test_deleted_partial_histories_leave_the_queue(tmp_path: Path) -> None:
    # Every issue's histories come back in part on the first run. The 5,000 issues with the
    # lowest ids are then deleted, and the changelog endpoint comes back. A run reads at most
    # 5,000 queued issues again by id. The deleted ones go to the back of the queue and leave
    # it once the tables mark them deleted, so the other 300 get their turn.
    duckdb_path, pipelines_dir = tmp_path / "jira.duckdb", tmp_path / "p"
    with Emulator(issues=5300, flavor="dc") as emu:
        _capped_without_endpoint(emu, 0)
        args = _run_args(emu, duckdb_path, pipelines_dir)
        env = {"JIRA_TOKEN": emu.pat}
        first = run_cli(args, env=env, timeout=600)
        with emu.store.lock:
            ids = sorted(record.id for record in emu.store.records.values())
        for issue_id in ids[:5000]:
            # A sub-task may be gone already, deleted with its parent.
            with contextlib.suppress(KeyError):
                emu.delete_issue(issue_id)
        emu.clear_faults()
        later = [run_cli(args, env=env, timeout=600) for _ in range(2)]
        lacking = _lacking(emu, duckdb_path)

    assert first.exit_code == 0, first.output
    for result in later:
        assert result.exit_code == 0, result.output
    assert not lacking, f"{len(lacking)} issues lack histories"
    assert "tables not loaded in full:" in later[0].stdout, later[0].stdout
    assert "tables not loaded in full:" not in later[-1].stdout, later[-1].stdout
