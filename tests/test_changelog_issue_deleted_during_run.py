"""An issue is deleted after the run fetched it and before it read the changelogs.

Cloud's changelog bulk fetch leaves out an issue that has no history, and also one that is
gone. A proxy on 127.0.0.1 between the CLI and the emulator deletes the issue just before it
forwards the first changelog bulk fetch. The delete sweep then marks the issue deleted, and its
changelog rows must stay, as the rows of its other tables do.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pipelines.emulator import Emulator
from tests.helpers import RewritingProxy, history_rows, query, run_cli, site_run_args

START = dt.datetime(2026, 7, 1, 9, 0, 1, tzinfo=dt.UTC)
KEY = "ABC-2"


def load(emu: Emulator, url: str, tmp_path: Path) -> tuple[int, str]:
    args = site_run_args(url, url, tmp_path / "jira.duckdb", tmp_path / "p")
    result = run_cli(args, env={"JIRA_TOKEN": emu.scoped_token})
    return result.exit_code, result.output


def stored_history_rows(tmp_path: Path, issue_id: int) -> set[tuple[int, int, int]]:
    rows = query(
        tmp_path / "jira.duckdb",
        "select issue_id, history_id, item_position from issue_changelog "
        f"where issue_id = {issue_id}",
    )
    return {(row[0], row[1], row[2]) for row in rows}


def test_deleted_issue_keeps_changelog(tmp_path: Path) -> None:
    with Emulator(issues=6, seed=4, start=START) as emu:
        issue_id = emu.store.get(KEY).id
        emu.edit_issue(KEY, summary="edited before the first run")
        expected = {row for row in history_rows(emu) if row[0] == issue_id}
        proxy = RewritingProxy(emu.site_url)
        forward = proxy.server.RequestHandlerClass.forward
        deleted: list[int] = []

        def forward_after_delete(handler, method: str) -> None:  # type: ignore[no-untyped-def]
            if handler.path.endswith("/changelog/bulkfetch") and not deleted:
                emu.delete_issue(KEY)
                deleted.append(issue_id)
            forward(handler, method)

        try:
            first_exit, first_output = load(emu, proxy.url, tmp_path)
            stored_first = stored_history_rows(tmp_path, issue_id)
            emu.advance(60)
            # Every issue is edited, because the sweep marks nothing when most of the issues
            # that a run has just read are missing from its list.
            for issue in emu.truth():
                emu.edit_issue(issue["id"], summary="edited again, so the next run fetches it")
            proxy.server.RequestHandlerClass.forward = forward_after_delete
            second_exit, second_output = load(emu, proxy.url, tmp_path)
        finally:
            proxy.close()

    assert first_exit == 0, first_output
    assert expected
    assert stored_first == expected
    assert deleted == [issue_id]
    assert second_exit == 0, second_output
    flags = query(tmp_path / "jira.duckdb", f"select is_deleted from issues where id = {issue_id}")
    assert flags == [(True,)]
    assert stored_history_rows(tmp_path, issue_id) == expected
