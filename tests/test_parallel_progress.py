"""ProgressReporter: the lines it writes on the `jira_etl.progress` logger."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest

from pipelines.limiter import AdaptiveLimiter
from pipelines.progress import ProgressReporter


class FakeClock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def test_line_shows_counts_and_rate() -> None:
    clock = FakeClock()
    client = SimpleNamespace(stats=SimpleNamespace(requests=0, retries=0))
    limiter = AdaptiveLimiter(6)
    reader = SimpleNamespace(stats=SimpleNamespace(fetched=0, issues=0), limiter=limiter)
    progress = ProgressReporter(client, reader, interval=3600, clock=clock)
    clock.now += 10
    reader.stats.fetched = 2500
    client.stats.requests = 26
    client.stats.retries = 2
    limiter.acquire()
    limiter.acquire()
    line = progress.report()
    assert line == (
        "2,500 issues fetched in 10 s (250/s), 26 requests, 2 in flight (limit 6), 2 retries"
    )
    clock.now += 5
    reader.stats.fetched = 3500
    assert "(200/s)" in progress.report()


def test_sequential_reader_uses_issue_count() -> None:
    clock = FakeClock()
    client = SimpleNamespace(stats=SimpleNamespace(requests=4, retries=0))
    reader = SimpleNamespace(stats=SimpleNamespace(issues=400))
    progress = ProgressReporter(client, reader, interval=3600, clock=clock)
    clock.now += 4
    assert progress.report(final=True) == (
        "Done: 400 issues fetched in 4 s (100/s), 4 requests, 1 in flight at most, 0 retries"
    )


def test_context_logs_final_line(caplog: pytest.LogCaptureFixture) -> None:
    client = SimpleNamespace(stats=SimpleNamespace(requests=1, retries=0))
    reader = SimpleNamespace(stats=SimpleNamespace(issues=7))
    progress = ProgressReporter(client, reader, interval=3600)
    with caplog.at_level(logging.INFO, logger="jira_etl.progress"), progress:
        pass
    lines = [r.getMessage() for r in caplog.records if r.name == "jira_etl.progress"]
    assert len(lines) == 1
    assert lines[0].startswith("Done: 7 issues fetched")
