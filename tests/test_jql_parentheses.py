"""The user's JQL goes into `(filter) AND bound`, so its parentheses and quotes must balance.

`a) OR (b` would leave `a` outside the window bound: every run would read all of `a` again,
and the keyset listing of the delete sweep would get the same issues back on every page.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from pipelines.emulator import Emulator
from pipelines.errors import ConfigError, PaginationError
from pipelines.sweep import list_issue_ids
from pipelines.window import filter_spelling, search_jql, user_filter
from tests.helpers import emulator_run_args, run_cli


@pytest.mark.parametrize(
    ("jql", "expected"),
    [
        ("project = ABC ORDER BY created DESC", "project = ABC"),
        ('summary ~ "order by" AND project = ABC', 'summary ~ "order by" AND project = ABC'),
        ('summary ~ "say \\"hi\\"" order by id', 'summary ~ "say \\"hi\\""'),
        ("labels in (a, b) order  by key", "labels in (a, b)"),
        ("reorder by = 1", "reorder by = 1"),
        ("summary ~ 'sort order by date' ORDER BY key", "summary ~ 'sort order by date'"),
        ("ORDER BY created", ""),
        ("labels = don\\'t ORDER BY key", "labels = don\\'t"),
        ('summary ~ \\"foo', 'summary ~ \\"foo'),
        (None, ""),
    ],
)
def test_user_filter_cuts_top_level_order_by(jql: str | None, expected: str) -> None:
    assert user_filter(jql) == expected


def test_quoted_order_by_kept_in_search() -> None:
    jql = search_jql('project = ABC AND labels != "order by"', 0)
    expected = '(project = ABC AND labels != "order by") AND updated >= 0 ORDER BY updated ASC'
    assert jql == f"{expected}, id ASC"


@pytest.mark.parametrize(
    ("jql", "problem"),
    [
        ("project = ABC) OR (project = XYZ", "the `)` at character 14 closes nothing"),
        ("project in (ABC, OPS", "a `(` is not closed"),
        ('summary ~ "abc', 'a string opened with " is not closed'),
    ],
)
def test_user_filter_rejects_unbalanced_jql(jql: str, problem: str) -> None:
    with pytest.raises(ConfigError) as raised:
        user_filter(jql)
    assert problem in str(raised.value)
    assert f"`{jql}`" in str(raised.value)


class BoundIgnoringSearch:
    """An id-only search that returns the same page whatever bound the JQL sets."""

    def __init__(self) -> None:
        self.calls = 0

    def ids(self, jql: str, *, page_size: int) -> Iterator[list[dict[str, str]]]:
        self.calls += 1
        assert self.calls < 50, "the listing kept requesting pages"
        yield [{"id": "10001"}, {"id": "10002"}]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("project = ABC AND status = Done", "project=ABC\n  AND status =Done"),
        ("project in (ABC, XYZ)", "project in(ABC,XYZ)"),
        ('labels != x OR summary ~ "a b"', 'labels!=x  OR summary~"a b"'),
        ('summary ~ "a\\" b" AND x = 1', 'summary ~ "a\\" b"AND x=1'),
    ],
)
def test_filter_spelling_ignores_spacing(first: str, second: str) -> None:
    assert filter_spelling(first) == filter_spelling(second)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ('summary ~ "a b"', 'summary ~ "a  b"'),
        ("status = Done", "status = Open"),
        ("project = ABC AND status = Done", "project = ABCAND status = Done"),
        ("x = 'a' AND y = 1", "x = 'a AND y = 1'"),
    ],
)
def test_filter_spelling_keeps_words_and_strings(first: str, second: str) -> None:
    assert filter_spelling(first) != filter_spelling(second)


def test_sweep_listing_stops_on_repeated_ids() -> None:
    search = BoundIgnoringSearch()
    with pytest.raises(PaginationError) as raised:
        list_issue_ids(search, "project = ABC")  # type: ignore[arg-type]
    assert "ids above 10002 returned id 10001" in str(raised.value)
    assert search.calls == 2


def test_sweep_listing_ends_on_empty_page() -> None:
    class TwoPages(BoundIgnoringSearch):
        def ids(self, jql: str, *, page_size: int) -> Iterator[list[dict[str, str]]]:
            self.calls += 1
            yield [{"id": "10001"}, {"id": "10002"}] if self.calls == 1 else []

    ids = list_issue_ids(TwoPages(), "project = ABC")  # type: ignore[arg-type]
    assert np.array_equal(ids, np.array([10001, 10002]))


def test_run_rejects_unbalanced_jql(tmp_path: Path) -> None:
    with Emulator(issues=20, seed=3) as emu:
        jql = ["--jql", "project = ABC) OR (project = XYZ"]
        args = emulator_run_args(emu, tmp_path / "jira.duckdb", tmp_path / "pipelines", *jql)
        try:
            result = run_cli(args, env={"JIRA_TOKEN": emu.scoped_token}, timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail("the run with unbalanced JQL did not end within 60 s")
    assert result.exit_code == 2, result.output
    assert "Invalid --jql `project = ABC) OR (project = XYZ`" in result.output
    assert not (tmp_path / "jira.duckdb").exists()
    assert emu.scoped_token not in result.output
