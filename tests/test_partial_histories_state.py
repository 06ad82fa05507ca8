"""The issues whose histories came back in part, kept in the pipeline's local state."""

from __future__ import annotations

from pathlib import Path

import dlt

from pipelines.observer import RunObserver
from pipelines.runner import (
    MAX_CATCH_UP,
    PARTIAL_HISTORIES_KEY,
    store_partial_histories,
    take_partial_histories,
)


def _pipeline(tmp_path: Path) -> dlt.Pipeline:
    return dlt.pipeline(pipeline_name="partial_state", pipelines_dir=str(tmp_path))


def test_a_run_takes_at_most_the_catch_up_limit(tmp_path: Path) -> None:
    pipeline = _pipeline(tmp_path)
    stored = list(range(1, MAX_CATCH_UP + 3))
    pipeline.set_local_state_val(PARTIAL_HISTORIES_KEY, stored)
    observer = RunObserver()
    take_partial_histories(pipeline, observer)
    assert observer.reread_histories == stored[:MAX_CATCH_UP]
    assert observer.carried_histories == [MAX_CATCH_UP + 1, MAX_CATCH_UP + 2]

    # Issue 2 came back whole; issue 9 is new; the carried ones wait for the next run.
    observer.partial_histories.update({1, 9, 3})
    store_partial_histories(pipeline, observer, {"tables": None})
    kept = pipeline.get_local_state_val(PARTIAL_HISTORIES_KEY)
    assert kept == [1, 3, 9, MAX_CATCH_UP + 1, MAX_CATCH_UP + 2]


def test_a_run_without_the_table_keeps_the_ids(tmp_path: Path) -> None:
    pipeline = _pipeline(tmp_path)
    pipeline.set_local_state_val(PARTIAL_HISTORIES_KEY, [5, 6])
    observer = RunObserver()
    take_partial_histories(pipeline, observer)
    store_partial_histories(pipeline, observer, {"tables": ["issue_comments"]})
    assert pipeline.get_local_state_val(PARTIAL_HISTORIES_KEY) == [5, 6]
    store_partial_histories(pipeline, observer, {"tables": ["issue_changelog"]})
    assert pipeline.get_local_state_val(PARTIAL_HISTORIES_KEY) == []


def test_no_stored_ids(tmp_path: Path) -> None:
    observer = RunObserver()
    take_partial_histories(_pipeline(tmp_path), observer)
    assert (observer.reread_histories, observer.carried_histories) == ([], [])
