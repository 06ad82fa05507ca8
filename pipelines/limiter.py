"""Adaptive concurrency: how many requests may be in flight at once, adjusted AIMD-style.

The limit grows by one after a full limit's worth of requests succeed without a sign of
pressure (additive increase) and halves when Jira pushes back (multiplicative decrease). Jira
pushes back with 429, and warns before that with `X-RateLimit-NearLimit: true` or a low
`X-RateLimit-Remaining`. One halving per cool-down period keeps a burst of 429s, returned for
requests that were all sent at the old limit, from collapsing the limit to its floor at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

logger = logging.getLogger("jira_etl.limiter")

# Jira Cloud rate-limits per account and per site; more than a few parallel requests from one
# loader only turn into 429s. The hard ceiling keeps a mistyped setting from flooding a site.
MAX_IN_FLIGHT_CEILING = 8
DEFAULT_MAX_IN_FLIGHT = 6
# Below this share of the budget left, `X-RateLimit-Remaining` counts as pressure; Jira itself
# sets `X-RateLimit-NearLimit` below 20%.
NEAR_LIMIT_SHARE = 0.2


@dataclass
class LimiterStats:
    """Counters of one limiter, read by the progress lines and the run summary."""

    acquired: int = 0
    decreases: int = 0
    increases: int = 0
    throttled: int = 0
    max_in_flight_seen: int = 0


class AdaptiveLimiter:
    """Bound the requests in flight, and adapt the bound to Jira's rate-limit signals.

    Args:
        max_in_flight: the upper bound, from 1 to `MAX_IN_FLIGHT_CEILING`.
        min_in_flight: the floor the limit never drops below.
        initial: the starting limit; `max_in_flight` when None.
        cooldown_seconds: the shortest time between two decreases.
        clock: monotonic clock in seconds, replaceable in tests.

    Raises:
        ValueError: a bound is outside 1..`MAX_IN_FLIGHT_CEILING` or the floor exceeds it.
    """

    def __init__(
        self,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        *,
        min_in_flight: int = 1,
        initial: int | None = None,
        cooldown_seconds: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 1 <= max_in_flight <= MAX_IN_FLIGHT_CEILING:
            raise ValueError(
                f"Invalid max in flight `{max_in_flight}`: expected 1 to {MAX_IN_FLIGHT_CEILING}."
            )
        if not 1 <= min_in_flight <= max_in_flight:
            raise ValueError(
                f"Invalid min in flight `{min_in_flight}`: expected 1 to {max_in_flight}."
            )
        self.max_in_flight = max_in_flight
        self.min_in_flight = min_in_flight
        start = max_in_flight if initial is None else initial
        self._limit = float(min(max(start, min_in_flight), max_in_flight))
        self._in_flight = 0
        self._cooldown = cooldown_seconds
        self._clock = clock
        self._last_decrease: float | None = None
        self._successes = 0
        self._condition = threading.Condition()
        self.stats = LimiterStats()

    @property
    def limit(self) -> int:
        """The number of requests currently allowed in flight."""
        with self._condition:
            return int(self._limit)

    @property
    def in_flight(self) -> int:
        """The number of requests holding a slot now."""
        with self._condition:
            return self._in_flight

    def acquire(self, timeout: float | None = None) -> bool:
        """Wait for a free slot and take it; return False when `timeout` seconds ran out."""
        with self._condition:
            taken = self._condition.wait_for(lambda: self._in_flight < int(self._limit), timeout)
            if not taken:
                return False
            self._in_flight += 1
            self.stats.acquired += 1
            self.stats.max_in_flight_seen = max(self.stats.max_in_flight_seen, self._in_flight)
            return True

    def release(self) -> None:
        """Give a slot back and wake one waiting thread.

        Raises:
            RuntimeError: more releases than acquisitions.
        """
        with self._condition:
            if self._in_flight <= 0:
                raise RuntimeError("AdaptiveLimiter.release() called without a matching acquire().")
            self._in_flight -= 1
            self._condition.notify()

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one slot for the duration of a `with` block."""
        self.acquire()
        try:
            yield
        finally:
            self.release()

    def on_success(self) -> None:
        """Count a response without pressure; a full limit's worth of them adds one slot."""
        with self._condition:
            self._successes += 1
            if self._successes < int(self._limit) or self._limit >= self.max_in_flight:
                return
            self._successes = 0
            self._limit = min(float(self.max_in_flight), self._limit + 1)
            self.stats.increases += 1
            self._condition.notify_all()

    def on_throttle(self, reason: str) -> None:
        """Halve the limit, at most once per cool-down period, after a sign of pressure."""
        with self._condition:
            self.stats.throttled += 1
            self._successes = 0
            now = self._clock()
            if self._last_decrease is not None and now - self._last_decrease < self._cooldown:
                return
            before = int(self._limit)
            self._limit = max(float(self.min_in_flight), self._limit / 2)
            self._last_decrease = now
            if int(self._limit) < before:
                self.stats.decreases += 1
                logger.info(
                    "%s: lowering requests in flight from %d to %d",
                    reason,
                    before,
                    int(self._limit),
                )

    def observe(self, status: int | None, headers: Mapping[str, str]) -> None:
        """Adjust the limit from one response: its status and rate-limit headers.

        A 429 or a near-limit signal decreases the limit; any other 2xx counts as a success.
        Other statuses, and connection faults (`status` None), leave the limit unchanged
        because they carry no information about the rate budget.
        """
        reason = pressure_reason(status, headers)
        if reason is not None:
            self.on_throttle(reason)
        elif status is not None and 200 <= status < 300:
            self.on_success()


def pressure_reason(status: int | None, headers: Mapping[str, str]) -> str | None:
    """Name the sign of rate-limit pressure in a response, or return None when there is none."""
    if status == 429:
        return "HTTP 429"
    near = headers.get("X-RateLimit-NearLimit")
    if near is not None and near.strip().lower() == "true":
        return "X-RateLimit-NearLimit"
    remaining = _as_number(headers.get("X-RateLimit-Remaining"))
    limit = _as_number(headers.get("X-RateLimit-Limit"))
    if remaining is not None and limit is not None and limit > 0:
        if remaining < limit * NEAR_LIMIT_SHARE:
            return f"X-RateLimit-Remaining {remaining:g} of {limit:g}"
    elif remaining is not None and remaining <= 0:
        return "X-RateLimit-Remaining 0"
    return None


def _as_number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value.strip())
    except ValueError:
        return None
