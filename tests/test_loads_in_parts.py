"""A large window loads in parts: the same rows as one load, and a failed part loses nothing."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import dlt
import pytest

from pipelines.emulator import Emulator
from pipelines.runner import RunOptions, run
from pipelines.source import ISSUES_PER_LOAD
from tests.helpers import emulator_run_args, query, run_cli, snapshot
from tests.test_parallel_equivalence import table_rows

START = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
ISSUES = 450
PART = 100


def settings(emu: Emulator, strategy: str, issues_per_load: int) -> dict[str, Any]:
    return {
        "auth": "bearer",
        "token": emu.scoped_token,
        "site_url": emu.site_url,
        "gateway_url": emu.gateway_url,
        "strategy": strategy,
        "max_in_flight": 4,
        "issues_per_load": issues_per_load,
    }


def options(folder: Path, name: str, *, full_refresh: bool = False) -> RunOptions:
    return RunOptions(
        pipeline_name=name,
        duckdb_path=str(folder / f"{name}.duckdb"),
        pipelines_dir=str(folder / f"pipelines_{name}"),
        full_refresh=full_refresh,
    )


def stored_cursor(pipelines_dir: Path, name: str) -> str | None:
    """Read the cursor from a pipeline's local state."""
    pipeline = dlt.attach(pipeline_name=name, pipelines_dir=str(pipelines_dir))
    return (pipeline.state.get("sources", {}).get("jira", {}) or {}).get("issues_cursor")


def cli_args(emu: Emulator, tmp_path: Path) -> list[str]:
    return emulator_run_args(emu, tmp_path / "jira.duckdb", tmp_path / "p")


@pytest.mark.parametrize("strategy", ["parallel", "sequential"])
def test_parts_match_one_load(
    strategy: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    with Emulator(issues=ISSUES, seed=11, start=START) as emu:
        whole = run(options(tmp_path, "whole"), settings(emu, strategy, 0))
        parts = run(options(tmp_path, "parts"), settings(emu, strategy, PART))
        newest = max(issue["updated"] for issue in emu.truth())
    assert len(whole.load_ids) == 1
    assert len(parts.load_ids) == math.ceil(ISSUES / PART)
    assert parts.issues_read == whole.issues_read == ISSUES
    assert parts.issues_new == ISSUES
    assert parts.issues_updated == 0
    assert table_rows(tmp_path / "parts.duckdb") == table_rows(tmp_path / "whole.duckdb")
    assert stored_cursor(tmp_path / "pipelines_parts", "parts") == stored_cursor(
        tmp_path / "pipelines_whole", "whole"
    )
    assert parts.cursor == newest


def test_failed_part_keeps_cursor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    monkeypatch.setenv("JIRA_MIN_RETRY_WAIT", "0.05")
    with Emulator(issues=ISSUES, seed=11, start=START) as emu:
        run(options(tmp_path, "jira"), settings(emu, "parallel", PART))
        first_cursor = stored_cursor(tmp_path / "pipelines_jira", "jira")
        emu.advance(60)
        for issue in emu.truth():
            emu.edit_issue(issue["id"], summary=f"edited {issue['key']}")
        # The third bulk fetch of the next run fails for good: two parts are loaded by then.
        emu.add_fault(r"/issue/bulkfetch$", 400, times=1, every=3)
        with pytest.raises(Exception) as failure:
            run(options(tmp_path, "jira"), settings(emu, "parallel", PART))
        assert "400" in str(failure.value) or "bulkfetch" in str(failure.value)
        assert stored_cursor(tmp_path / "pipelines_jira", "jira") == first_cursor
        db = tmp_path / "jira.duckdb"
        edited = query(db, "select count(*) from issues where summary like 'edited %'")[0][0]
        assert edited == 2 * PART
        assert query(db, "select count(*), count(distinct id) from issues")[0] == (ISSUES, ISSUES)

        emu.clear_faults()
        summary = run(options(tmp_path, "jira"), settings(emu, "parallel", PART))
        truth = {issue["id"]: issue for issue in emu.truth()}
    assert summary.issues_read == ISSUES
    assert summary.cursor == max(issue["updated"] for issue in truth.values())
    rows = query(db, "select id, summary from issues")
    assert sorted(rows) == sorted((i, t["summary"]) for i, t in truth.items())
    assert all(summary_text.startswith("edited ") for _, summary_text in rows)


def test_cli_option_splits_run(tmp_path: Path) -> None:
    with Emulator(issues=ISSUES, seed=11, start=START) as emu:
        result = run_cli(
            cli_args(emu, tmp_path),
            env={"JIRA_TOKEN": emu.scoped_token, "JIRA_ISSUES_PER_LOAD": "200"},
        )
    assert result.exit_code == 0, result.output
    assert result.output.count("reading the rest of the window") == math.ceil(ISSUES / 200) - 1
    assert query(tmp_path / "jira.duckdb", "select count(*) from issues")[0][0] == ISSUES


def test_default_part_size_documented() -> None:
    readme = (Path(__file__).resolve().parent.parent / "docs" / "operations.md").read_text()
    assert f"{ISSUES_PER_LOAD:,}" in readme


def test_outside_worklog_deletion_applied(tmp_path: Path) -> None:
    # The worklog feed's first position comes from the local clock, so the emulator runs on it.
    start = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with Emulator(issues=25, seed=9, start=start) as emu:
        cli = [*cli_args(emu, tmp_path), "--jql", "project = ABC", "--lookback", "0"]
        env = {"JIRA_TOKEN": emu.scoped_token}
        assert run_cli(cli, env=env).exit_code == 0
        # The worklog feed is site-wide: a new worklog on an XYZ issue loads its worklogs.
        outside = next(t for t in emu.truth() if t["key"].startswith("XYZ-"))
        emu.advance(61)
        kept_worklog = emu.add_worklog(outside["id"], 600)
        deleted_worklog = emu.add_worklog(outside["id"], 1200)
        emu.advance(61)
        first = run_cli(cli, env=env)
        assert first.exit_code == 0, first.output
        db = tmp_path / "jira.duckdb"
        stored = f"select id from worklogs where issue_id = {outside['id']} and not _jira_clear"
        before = {row[0] for row in query(db, stored)}
        assert {int(kept_worklog["id"]), int(deleted_worklog["id"])} <= before
        # Later changes elsewhere move both feeds past the two new worklogs, so the next run
        # lists only the deletion and must find the worklog's issue in the stored rows.
        emu.advance(600)
        emu.add_worklog(next(t["id"] for t in emu.truth() if t["key"] == "ABC-3"), 60)
        emu.delete_worklog(emu.worklogs_of("ABC-1")[0]["id"])
        emu.advance(61)
        assert run_cli(cli, env=env).exit_code == 0
        emu.delete_worklog(deleted_worklog["id"])
        emu.advance(61)
        second = run_cli(cli, env=env)
        assert second.exit_code == 0, second.output
        expected = {int(w["id"]) for w in emu.worklogs_of(outside["id"])}
    after = {row[0] for row in query(db, stored)}
    assert int(deleted_worklog["id"]) not in after
    assert after == expected


def test_failed_part_message(tmp_path: Path) -> None:
    with Emulator(issues=ISSUES, seed=11, start=START) as emu:
        emu.add_fault(r"/issue/bulkfetch$", 400, times=1, every=3)
        result = run_cli(
            [*cli_args(emu, tmp_path), "--issues-per-load", str(PART)],
            env={"JIRA_TOKEN": emu.scoped_token},
        )
    assert result.exit_code == 1, result.output
    assert "The first 2 part(s) of this run were loaded" in result.stderr
    assert "Nothing was loaded" not in result.stderr
    assert query(tmp_path / "jira.duckdb", "select count(*) from issues")[0][0] == 2 * PART


def test_duckdb_out_of_memory_advice(tmp_path: Path) -> None:
    with Emulator(issues=60, seed=3, start=START) as emu:
        env = {"JIRA_TOKEN": emu.scoped_token}
        tiny = {**env, "DESTINATION__DUCKDB__CREDENTIALS__GLOBAL_CONFIG": '{"memory_limit": "4MB"}'}
        result = run_cli(cli_args(emu, tmp_path), env=tiny)
        assert result.exit_code == 1, result.output
        assert "Out of Memory Error" in result.stderr
        assert "memory_limit" in result.stderr
        assert "--issues-per-load" in result.stderr
        # The package waits, unloaded: the destination has no issues and no cursor yet.
        assert loaded_issue_tables(tmp_path / "jira.duckdb") == []
        # With DuckDB's default settings the pending package loads and the run completes.
        again = run_cli(cli_args(emu, tmp_path), env=env)
        assert again.exit_code == 0, again.output
        expected = len(emu.truth())
    assert query(tmp_path / "jira.duckdb", "select count(*) from issues")[0][0] == expected
    assert stored_cursor(tmp_path / "p", "jira_jira") is not None


def loaded_issue_tables(path: Path) -> list[str]:
    """List which of the dataset's `issues` and `_dlt_pipeline_state` tables contain rows."""
    import duckdb

    if not path.exists():
        # A failed first run removes the file it created when no table was loaded into it.
        return []
    with duckdb.connect(str(path), read_only=True) as connection:
        found = []
        for (name,) in connection.sql(
            "select table_name from information_schema.tables where table_schema = 'jira' "
            "and table_name in ('issues', '_dlt_pipeline_state')"
        ).fetchall():
            if connection.sql(f"select count(*) from jira.jira.{name}").fetchone()[0]:
                found.append(name)
        return found


def test_library_source_loads_whole_window(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipelines import jira_source

    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    with Emulator(issues=ISSUES, seed=11, start=START) as emu:
        pipeline = dlt.pipeline(
            pipeline_name="library",
            destination=dlt.destinations.duckdb(str(tmp_path / "library.duckdb")),
            dataset_name="jira",
            pipelines_dir=str(tmp_path / "p"),
        )
        pipeline.run(
            jira_source(token=emu.scoped_token, site_url=emu.site_url, gateway_url=emu.gateway_url)
        )
        newest = max(issue["updated"] for issue in emu.truth())
    stored = pipeline.state["sources"]["jira"]["issues_cursor"]
    assert query(tmp_path / "library.duckdb", "select count(*) from issues")[0][0] == ISSUES
    assert stored.startswith(newest.strftime("%Y-%m-%dT%H:%M:%S"))


def test_failed_full_refresh_keeps_tables(tmp_path: Path) -> None:
    with Emulator(issues=ISSUES, seed=11, start=START) as emu:
        env = {"JIRA_TOKEN": emu.scoped_token, "JIRA_ISSUES_PER_LOAD": str(PART)}
        first = run_cli(cli_args(emu, tmp_path), env=env)
        assert first.exit_code == 0, first.output
        before = snapshot(tmp_path / "jira.duckdb")
        emu.add_fault(r"/issue/bulkfetch$", 400, times=1, every=3)
        # --full-refresh without --issues-per-load on the command line loads in one package.
        refresh = run_cli(
            [*cli_args(emu, tmp_path), "--full-refresh"], env={"JIRA_TOKEN": emu.scoped_token}
        )
    assert refresh.exit_code == 1, refresh.output
    assert "Nothing was loaded" in refresh.stderr
    assert snapshot(tmp_path / "jira.duckdb") == before


def test_failure_message_sentences() -> None:
    from pipelines.cli import failure_message
    from pipelines.errors import JiraEtlError

    plain = JiraEtlError("Jira's message: Unauthorized")
    assert failure_message(plain) == (
        "Jira's message: Unauthorized. Nothing was loaded and the cursor did not move."
    )
    pending = JiraEtlError("The load step failed: Disk full.")
    pending.loaded_parts = 2  # type: ignore[attr-defined]
    pending.pending_load = True  # type: ignore[attr-defined]
    text = failure_message(pending)
    assert text.startswith("The load step failed: Disk full. The first 2 part(s)")
    assert "pending load package" in text
    assert "Nothing was loaded" not in text
    refresh = JiraEtlError("Bulk fetch failed.")
    refresh.loaded_parts = 1  # type: ignore[attr-defined]
    refresh.full_refresh = True  # type: ignore[attr-defined]
    assert "dropped the old tables" in failure_message(refresh)


def test_kill_after_normalize_commit_recovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finish a package that dlt normalized but whose extracted copy a kill left behind."""
    import shutil

    from pipelines.observer import RunObserver
    from pipelines.runner import build_source, make_pipeline

    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    with Emulator(issues=60, seed=3, start=START) as emu:
        run_options = options(tmp_path, "jira")
        pipeline = make_pipeline(run_options)
        pipeline.extract(build_source(settings(emu, "parallel", 0), RunObserver()))
        extracted = Path(pipeline.working_dir) / "normalize" / "extracted"
        (package,) = list(extracted.iterdir())
        shutil.copytree(package, tmp_path / "extracted_copy")
        pipeline.normalize()
        assert not package.exists()
        # The state a killed second normalize left: the extracted copy and a half-made package.
        shutil.copytree(tmp_path / "extracted_copy", package)
        normalized = Path(pipeline.working_dir) / "load" / "normalized" / package.name
        shutil.copytree(normalized, Path(pipeline.working_dir) / "load" / "new" / package.name)

        summary = run(run_options, settings(emu, "parallel", 0))
        truth = emu.truth()
    assert not package.exists()
    assert summary.issues_read == len(truth)
    stored = query(tmp_path / "jira.duckdb", "select count(*), count(distinct id) from issues")
    assert stored[0] == (len(truth), len(truth))
    assert stored_cursor(tmp_path / "pipelines_jira", "jira") is not None


def test_deselected_changelog_skips_histories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipelines import jira_source

    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    with Emulator(issues=ISSUES, seed=11, start=START) as emu:
        requests: dict[str, int] = {}
        for selection in (("issues", "issue_changelog"), ("issues",)):
            name = "_".join(selection)
            pipeline = dlt.pipeline(
                pipeline_name=name,
                destination=dlt.destinations.duckdb(str(tmp_path / f"{name}.duckdb")),
                dataset_name="jira",
                pipelines_dir=str(tmp_path / "p"),
            )
            before = len(emu.requests)
            source = jira_source(
                token=emu.scoped_token, site_url=emu.site_url, gateway_url=emu.gateway_url
            )
            pipeline.run(source.with_resources(*selection))
            later = emu.requests[before:]
            requests[name] = sum(1 for r in later if r["path"].endswith("/changelog/bulkfetch"))
            stored = query(tmp_path / f"{name}.duckdb", "select count(*) from issues")
            assert stored == [(ISSUES,)]
    assert requests["issues_issue_changelog"] > 0
    assert requests["issues"] == 0


def test_changed_filter_after_partial_first_load_stops(tmp_path: Path) -> None:
    with Emulator(issues=ISSUES, seed=11, start=START) as emu:
        env = {"JIRA_TOKEN": emu.scoped_token, "JIRA_ISSUES_PER_LOAD": str(PART)}
        # The third bulk fetch fails for good, after two parts of the first run are loaded.
        emu.add_fault(r"/issue/bulkfetch$", 400, times=1, every=3)
        first = run_cli([*cli_args(emu, tmp_path), "--jql", "project = ABC"], env=env)
        assert first.exit_code == 1, first.output
        db = tmp_path / "jira.duckdb"
        before = query(db, "select id, is_deleted from issues order by id")
        assert len(before) == 2 * PART
        emu.clear_faults()
        changed = run_cli([*cli_args(emu, tmp_path), "--jql", "project = OPS"], env=env)
        after = query(db, "select id, is_deleted from issues order by id")
    assert changed.exit_code == 2, changed.output
    assert "The JQL filter changed from `project = ABC` to `project = OPS`" in changed.stderr
    assert after == before
