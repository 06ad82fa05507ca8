"""Issues with partial Data Center histories in a project hidden from the account for a run."""

from __future__ import annotations

from pathlib import Path

from pipelines.emulator import Emulator
from tests.helpers import history_rows, query, run_cli, site_run_args


def test_partial_histories_named_after_project_restored(tmp_path: Path) -> None:
    # Only issues of ABC come back partial. While ABC is hidden, the run cannot read them by
    # id. Once it is visible again, a run that still lacks their histories names the table as
    # not loaded in full.
    with Emulator(issues=30, flavor="dc") as emu:
        emu.store.dc_embedded_histories = 2
        with emu.store.lock:
            partial = sorted(
                record.id
                for record in emu.store.records.values()
                if record.project == 0 and len(emu.store.histories(record)) > 2
            )
        truth = history_rows(emu)
        ids = "|".join(str(issue_id) for issue_id in partial)
        emu.add_fault(rf"/rest/api/2/issue/({ids})/changelog$", 404, times=None)
        args = site_run_args(
            emu.site_url, emu.site_url, tmp_path / "jira.duckdb", tmp_path / "p", "--auth", "pat"
        )
        first = run_cli(args, env={"JIRA_TOKEN": emu.pat})
        emu.revoke_project("ABC")
        hidden = run_cli(args, env={"JIRA_TOKEN": emu.pat})
        emu.restore_project("ABC")
        restored = run_cli(args, env={"JIRA_TOKEN": emu.pat})
    assert partial
    for result in (first, hidden, restored):
        assert result.exit_code == 0, result.output
    loaded = set(
        query(
            tmp_path / "jira.duckdb",
            "select issue_id, history_id, item_position from issue_changelog where history_id > 0",
        )
    )
    lacking = {issue_id for issue_id, _, _ in truth - loaded}
    assert lacking == set(partial)
    assert "tables not loaded in full:" in restored.stdout, restored.stdout
