"""Deeply nested values from Jira, end to end: `jira-etl run` against the emulator into DuckDB.

A search page puts 4 levels (the page, its issue list, the issue, its fields) above a field
value, and orjson decodes 1,024 levels. A description nested 1,020 levels deep therefore
loads, its text and its JSON alike. One level more fails the run with one message naming the
issue and the field, and leaves the tables and the cursor as they were.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.emulator import Emulator
from pipelines.emulator.reference import CF_ACCEPTANCE, CF_STORY_POINTS
from tests.deep_json import nested_lists, quoted_doc, quoted_doc_json, quoted_doc_levels
from tests.helpers import CliResult, emulator_run_args, query, run_cli, snapshot

START = dt.datetime(2026, 7, 1, 8, 0, 2, tzinfo=dt.UTC)
TARGET = "ABC-3"


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(issues=25, seed=41, start=START) as emulator:
        yield emulator


def load(emu: Emulator, tmp_path: Path) -> CliResult:
    args = emulator_run_args(
        emu,
        tmp_path / "jira.duckdb",
        tmp_path / "pipelines",
        "--tables",
        "sprints,issue_changelog",
        "--max-retries",
        "1",
    )
    return run_cli(args, env={"JIRA_TOKEN": emu.scoped_token})


def test_description_at_max_depth_loads(emu: Emulator, tmp_path: Path) -> None:
    assert load(emu, tmp_path).exit_code == 0
    emu.advance(30)
    emu.edit_issue(
        TARGET,
        description=quoted_doc(1020),
        **{CF_ACCEPTANCE: quoted_doc(1020, text="criteria")},
    )
    loaded = load(emu, tmp_path)
    assert loaded.exit_code == 0, loaded.output
    ((text, adf, criteria),) = query(
        tmp_path / "jira.duckdb",
        "select description_text, description_adf, acceptance_criteria_text from issues "
        f"where key = '{TARGET}'",
    )
    levels = quoted_doc_levels(1020)
    assert text == "> " * levels + "deep"
    assert adf == quoted_doc_json(1020)
    assert criteria == "> " * levels + "criteria"
    # The emulator writes a changed rich-text value into the changelog as compact JSON.
    changes = query(
        tmp_path / "jira.duckdb",
        "select c.to_string from issue_changelog c join issues i on i.id = c.issue_id "
        f"where i.key = '{TARGET}' and c.field_id = 'description'",
    )
    assert changes == [(quoted_doc_json(1020),)]


def test_description_beyond_max_depth_fails(emu: Emulator, tmp_path: Path) -> None:
    assert load(emu, tmp_path).exit_code == 0
    state_file = tmp_path / "pipelines" / "jira_jira" / "state.json"
    before, state_before = snapshot(tmp_path / "jira.duckdb"), state_file.read_text()
    emu.advance(30)
    emu.edit_issue(TARGET, description=quoted_doc(1021))
    emu.edit_issue("ABC-1", summary="a healthy edit in the same window")
    failed = load(emu, tmp_path)
    assert failed.exit_code == 1, failed.output
    assert failed.stderr.count("Error:") == 1, failed.stderr
    assert "Traceback" not in failed.stderr, failed.stderr
    assert f"Issue `{TARGET}`: field `description` nests too deep to decode" in failed.stderr
    # The bulk fetch contains both edited issues, in an order the test does not fix.
    assert re.search(r"reaches 1,025 levels at `issues\[[01]\]\.fields\.description", failed.stderr)
    assert f"add `key != {TARGET}` to --jql" in failed.stderr
    assert "run once with --full-refresh" in failed.stderr
    assert snapshot(tmp_path / "jira.duckdb") == before
    assert json.loads(state_file.read_text())["sources"] == json.loads(state_before)["sources"]


def test_deep_wrong_type_value_fails(emu: Emulator, tmp_path: Path) -> None:
    assert load(emu, tmp_path).exit_code == 0
    state_file = tmp_path / "pipelines" / "jira_jira" / "state.json"
    before, state_before = snapshot(tmp_path / "jira.duckdb"), state_file.read_text()
    emu.advance(30)
    emu.edit_issue(TARGET, **{CF_STORY_POINTS: nested_lists(1000)})
    failed = load(emu, tmp_path)
    assert failed.exit_code == 1, failed.output
    assert failed.stderr.count("Error:") == 1, failed.stderr
    assert "Traceback" not in failed.stderr, failed.stderr
    assert f"Issue `{TARGET}`: field `{CF_STORY_POINTS}` (column `story_points`)" in failed.stderr
    assert "`" + "[" * 77 + "...`, expected a number" in failed.stderr
    assert snapshot(tmp_path / "jira.duckdb") == before
    assert json.loads(state_file.read_text())["sources"] == json.loads(state_before)["sources"]


def test_deep_comment_names_issue_and_table(emu: Emulator, tmp_path: Path) -> None:
    def load_comments() -> CliResult:
        args = emulator_run_args(
            emu, tmp_path / "jira.duckdb", tmp_path / "pipelines", "--tables", "issue_comments"
        )
        return run_cli(args, env={"JIRA_TOKEN": emu.scoped_token})

    assert load_comments().exit_code == 0
    before = snapshot(tmp_path / "jira.duckdb")
    emu.advance(30)
    # More comments than a search embeds, so the run reads them from the comment endpoint.
    for number in range(21):
        emu.add_comment(TARGET, f"comment {number}")
    record = emu.store.get(TARGET)
    emu.store.comment_changes.added[record.id][-1]["body"] = quoted_doc(1022)
    failed = load_comments()
    assert failed.exit_code == 1, failed.output
    assert failed.stderr.count("Error:") == 1, failed.stderr
    assert "Traceback" not in failed.stderr, failed.stderr
    assert f"Issue `{TARGET}`, table `issue_comments`: " in failed.stderr
    assert "nests too deep to decode" in failed.stderr
    assert "`--skip-tables issue_comments`" in failed.stderr
    assert snapshot(tmp_path / "jira.duckdb") == before


def test_deep_json_advice_loads_other_issues(emu: Emulator, tmp_path: Path) -> None:
    # Every table, as a scheduled run loads by default.
    def load_with(*extra: str) -> CliResult:
        args = emulator_run_args(
            emu, tmp_path / "jira.duckdb", tmp_path / "pipelines", "--max-retries", "1", *extra
        )
        return run_cli(args, env={"JIRA_TOKEN": emu.scoped_token})

    def loaded_keys() -> set[str]:
        return {row[0] for row in query(tmp_path / "jira.duckdb", "select key from issues")}

    assert load_with().exit_code == 0
    every_key = {issue["key"] for issue in emu.truth()}
    assert loaded_keys() == every_key
    emu.advance(30)
    emu.edit_issue(TARGET, description=quoted_doc(1021))
    emu.edit_issue("ABC-1", summary="an edit that waits behind the deep issue")
    failed = load_with()
    assert failed.exit_code == 1, failed.output

    # Follow the message: the clause it names, added to the (empty) filter, with a full refresh.
    found = re.search(r"add `(key != [A-Z]+-\d+)` to --jql", failed.stderr)
    assert found is not None, failed.stderr
    clause = found.group(1)
    assert clause == f"key != {TARGET}"
    assert "run once with --full-refresh" in failed.stderr
    # Without the full refresh, the changed filter stops the run, as the message warns.
    stopped = load_with("--jql", clause)
    assert stopped.exit_code == 2, stopped.output
    assert "The JQL filter changed" in stopped.stderr

    followed = load_with("--jql", clause, "--full-refresh")
    assert followed.exit_code == 0, followed.output
    assert loaded_keys() == every_key - {TARGET}
    summaries = query(tmp_path / "jira.duckdb", "select summary from issues where key = 'ABC-1'")
    assert summaries == [("an edit that waits behind the deep issue",)]

    # Later runs keep that --jql and load incrementally.
    emu.advance(30)
    emu.edit_issue("ABC-2", summary="an edit after the full refresh")
    later = load_with("--jql", clause)
    assert later.exit_code == 0, later.output
    summaries = query(tmp_path / "jira.duckdb", "select summary from issues where key = 'ABC-2'")
    assert summaries == [("an edit after the full refresh",)]
    assert TARGET not in loaded_keys()

    # Once the value is fixed in Jira, the clause goes and one more full refresh brings it back.
    emu.advance(30)
    emu.edit_issue(TARGET, description=quoted_doc(8))
    restored = load_with("--full-refresh")
    assert restored.exit_code == 0, restored.output
    assert loaded_keys() == every_key
    ((text,),) = query(
        tmp_path / "jira.duckdb", f"select description_text from issues where key = '{TARGET}'"
    )
    assert text == "> " * quoted_doc_levels(8) + "deep"
