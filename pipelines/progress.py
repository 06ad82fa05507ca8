"""Progress lines for long runs on the `jira_etl.progress` logger, every few seconds."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("jira_etl.progress")

DEFAULT_INTERVAL_SECONDS = 5.0


class ProgressReporter:
    """Log issues fetched, the rate, requests, retries and requests in flight while a read runs.

    Use it as a context manager around the read; a daemon thread writes one INFO line every
    `interval` seconds and a last line on exit. It reads counters only, so it never slows the
    read down and never logs URLs or credentials.

    Args:
        client: the `JiraClient` of the run; its `stats` give requests and retries.
        reader: a `WindowReader` or `BulkReader`; `stats.fetched` when present, else
            `stats.issues`, is the number of issues fetched.
        interval: seconds between two lines.
        clock: monotonic clock in seconds, replaceable in tests.
    """

    def __init__(
        self,
        client: Any,
        reader: Any,
        *,
        interval: float = DEFAULT_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.reader = reader
        self.interval = interval
        self._clock = clock
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = clock()
        self._last_time = self._started
        self._last_issues = 0

    def __enter__(self) -> ProgressReporter:
        self._started = self._last_time = self._clock()
        self._thread = threading.Thread(target=self._run, name="jira-progress", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join()
        # A read that ended with an error or an interrupt logs "Stopped", not "Done".
        self.report(final=True, stopped=exc_info[0] is not None)

    def _run(self) -> None:
        while not self._stopped.wait(self.interval):
            self.report()

    def issues_fetched(self) -> int:
        """Return the issues fetched so far."""
        stats = self.reader.stats
        return int(getattr(stats, "fetched", stats.issues))

    def report(self, *, final: bool = False, stopped: bool = False) -> str:
        """Log one progress line and return it; the final line starts with `Done` or `Stopped`."""
        now = self._clock()
        issues = self.issues_fetched()
        span = now - self._last_time
        recent_rate = (issues - self._last_issues) / span if span > 0 else 0.0
        elapsed = now - self._started
        average_rate = issues / elapsed if elapsed > 0 else 0.0
        self._last_time, self._last_issues = now, issues
        stats = self.client.stats
        limiter = getattr(self.reader, "limiter", None)
        if limiter is not None:
            flight = f"{limiter.in_flight} in flight (limit {limiter.limit})"
        else:
            flight = "1 in flight at most"
        rate = average_rate if final else recent_rate
        line = (
            f"{_final_word(final, stopped)}{issues:,} issues fetched in {elapsed:.0f} s "
            f"({rate:,.0f}/s), {stats.requests:,} requests, {flight}, {stats.retries} retries"
        )
        logger.info(line)
        return line


def _final_word(final: bool, stopped: bool) -> str:
    if not final:
        return ""
    return "Stopped: " if stopped else "Done: "
