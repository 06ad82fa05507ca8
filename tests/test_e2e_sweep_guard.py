"""The delete sweep's guard, end to end: a listing without the issues the run has just read
marks nothing, and a real deletion is marked by the next normal run.

A small proxy on 127.0.0.1 between the CLI and the emulator empties the `issues` list of the
sweep's id-only search pages, the ones whose JQL ends with `id > N ORDER BY id ASC`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pipelines.emulator import Emulator
from tests.helpers import CliResult, RewritingProxy, query, run_cli, site_run_args

START = dt.datetime(2026, 5, 4, 12, 0, 2, tzinfo=dt.UTC)
ISSUES = 40
SWEEP_JQL = re.compile(r"\bid > \d+ ORDER BY id ASC$")


class SweepProxy(RewritingProxy):
    """Forward requests to the emulator, and empty the sweep's pages while `empty_sweep` is set.

    Attributes:
        sweep_pages: sweep pages forwarded so far, emptied or not.
        emptied: sweep pages whose `issues` list was emptied.
    """

    def __init__(self, upstream: str) -> None:
        self.empty_sweep = False
        self.sweep_pages = 0
        self.emptied = 0
        self._lock = threading.Lock()
        super().__init__(upstream)

    def rewrite(self, path: str, body: bytes | None, answer: httpx.Response) -> bytes:
        if not path.endswith("/search/jql") or not body or answer.status_code != 200:
            return answer.content
        jql = json.loads(body).get("jql", "")
        if not SWEEP_JQL.search(jql):
            return answer.content
        page = answer.json()
        with self._lock:
            self.sweep_pages += 1
            if not self.empty_sweep:
                return answer.content
            self.emptied += 1
        page["issues"] = []
        page.pop("nextPageToken", None)
        page["isLast"] = True
        return json.dumps(page).encode()


@pytest.fixture
def site() -> Iterator[tuple[Emulator, SweepProxy]]:
    with Emulator(issues=ISSUES, seed=5, start=START) as emu:
        proxy = SweepProxy(emu.site_url)
        try:
            yield emu, proxy
        finally:
            proxy.close()


def load(emu: Emulator, proxy: SweepProxy, tmp_path: Path) -> CliResult:
    database, pipelines = tmp_path / "jira.duckdb", tmp_path / "pipelines"
    args = site_run_args(proxy.url, proxy.url, database, pipelines, "--tables", "sprints")
    return run_cli(args, env={"JIRA_TOKEN": emu.scoped_token})


def ids_where(tmp_path: Path, condition: str) -> set[int]:
    rows = query(tmp_path / "jira.duckdb", f"select id from issues where {condition}")
    return {row[0] for row in rows}


def delete_one_issue(emu: Emulator) -> int:
    """Delete an issue without sub-tasks in the emulator and return its id."""
    parents = {t["parent_id"] for t in emu.truth() if t["parent_id"] is not None}
    before = {t["id"] for t in emu.truth()}
    deleted_id = next(t["id"] for t in emu.truth() if t["id"] not in parents)
    emu.delete_issue(deleted_id)
    # The precondition: exactly one issue left the emulator.
    assert before - {t["id"] for t in emu.truth()} == {deleted_id}
    return deleted_id


def test_empty_sweep_listing_marks_nothing(
    site: tuple[Emulator, SweepProxy], tmp_path: Path
) -> None:
    emu, proxy = site
    first = load(emu, proxy, tmp_path)
    assert first.exit_code == 0, first.output
    assert ids_where(tmp_path, "not is_deleted") == {t["id"] for t in emu.truth()}
    # A real deletion, which the emptied listing must not let through either.
    deleted_id = delete_one_issue(emu)
    emu.advance(60)
    edited = [t["key"] for t in emu.truth()[:2]]
    for key in edited:
        emu.edit_issue(key, summary="edited before the sweep is emptied")
    proxy.empty_sweep = True

    guarded = load(emu, proxy, tmp_path)

    # The load succeeded, so the run exits with 0. A doubtful sweep only skips the marking.
    assert guarded.exit_code == 0, guarded.output
    assert proxy.emptied >= 1
    assert ids_where(tmp_path, "is_deleted") == set()
    assert len(ids_where(tmp_path, "not is_deleted")) == ISSUES
    assert deleted_id in ids_where(tmp_path, "not is_deleted")
    lacking = re.search(
        r"WARNING .*The delete sweep lacks (\d+) of the (\d+) issues this run has just read",
        guarded.stderr,
    )
    assert lacking is not None, guarded.stderr
    # An empty listing lacks every issue read, and the run read at least the edited ones.
    assert lacking.group(1) == lacking.group(2)
    assert int(lacking.group(2)) >= len(edited)
    assert "so no issue is marked deleted this run" in guarded.stderr
    # The summary reports that deleted issues were not checked, and why, instead of "0 marked".
    reason = (
        f"the sweep lacks {lacking.group(1)} of the {lacking.group(2)} issues this run read "
        "from the same filter"
    )
    assert f"  deleted issues: not checked in this run ({reason})\n" in guarded.stdout
    assert "deleted issues: 0 marked" not in guarded.stdout
    assert "Traceback" not in guarded.output


def test_deleted_issue_marked_through_proxy(
    site: tuple[Emulator, SweepProxy], tmp_path: Path
) -> None:
    emu, proxy = site
    first = load(emu, proxy, tmp_path)
    assert first.exit_code == 0, first.output
    deleted_id = delete_one_issue(emu)
    emu.advance(60)
    pages_before = proxy.sweep_pages

    result = load(emu, proxy, tmp_path)

    assert result.exit_code == 0, result.output
    # The sweep went through the proxy unchanged.
    assert proxy.sweep_pages > pages_before
    assert proxy.emptied == 0
    assert ids_where(tmp_path, "is_deleted") == {deleted_id}
    assert ids_where(tmp_path, "not is_deleted") == {t["id"] for t in emu.truth()}
    assert "  deleted issues: 1 marked, 0 present again\n" in result.stdout
    assert "not checked" not in result.stdout
    assert "The delete sweep lacks" not in result.stderr


def test_summary_of_doubted_sweep(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    from pipelines.cli import print_summary
    from pipelines.runner import RunSummary

    summary = RunSummary(pipeline_name="jira_jira", dataset="jira", destination="duckdb")
    summary.deleted_unchecked_reason = "the sweep listed no issue for the filter"
    with caplog.at_level("INFO", logger="jira_etl"):
        print_summary(summary)
    printed = capsys.readouterr().out
    assert (
        "  deleted issues: not checked in this run (the sweep listed no issue for the filter)\n"
        in printed
    )
    assert "marked" not in printed
    (finished,) = [r for r in caplog.records if getattr(r, "event", None) == "run_finished"]
    figures = finished.summary  # type: ignore[attr-defined]
    assert figures["deleted_checked"] is False
    assert figures["deleted_unchecked_reason"] == "the sweep listed no issue for the filter"
