"""Injected failures: error statuses, dropped connections and slow responses on matching paths.

A fault fires on a matching request according to its rule: always (the default), on every
`every`-th matching request, or with probability `probability` drawn from a seeded generator.
Each firing counts down `times`; `times=None` never runs out.
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass

# Statuses and drops a fault plan chooses from, with their weights.
PLAN_CHOICES: tuple[tuple[int | None, int], ...] = ((429, 4), (500, 2), (503, 3), (None, 1))
# The path of every API call, site or gateway; the control API is never faulted.
API_PATHS = r"^/(rest|ex)/"


@dataclass
class Fault:
    """One failure rule. With `status` None and `drop` False the request succeeds after the delay."""

    pattern: re.Pattern[str]
    status: int | None
    remaining: int | None
    retry_after: float | None = None
    html: bool = False
    probability: float | None = None
    every: int | None = None
    drop: bool = False
    delay_seconds: float = 0.0
    planned: bool = False  # a fault plan rule: each firing draws its kind of failure
    seen: int = 0  # matching requests so far


@dataclass(frozen=True)
class Firing:
    """The action for one request: a wait, then a dropped connection or an error status."""

    status: int | None
    retry_after: float | None
    html: bool
    drop: bool
    delay_seconds: float


class Faults:
    """A thread-safe list of fault rules, tried in the order they were added."""

    def __init__(self, seed: int = 7) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._rng = random.Random(f"{seed}:faults")

    def add(
        self,
        path_regex: str,
        status: int | None = None,
        times: int | None = 1,
        retry_after: float | None = None,
        html: bool = False,
        probability: float | None = None,
        every: int | None = None,
        drop: bool = False,
        delay_seconds: float = 0.0,
    ) -> None:
        """Add a rule; see `Emulator.add_fault`.

        Raises:
            ValueError: the rule can never fire or has invalid values.
        """
        if status is None and not drop and not delay_seconds:
            raise ValueError("A fault needs a status, drop=True or a delay_seconds above 0.")
        if probability is not None and not 0 < probability <= 1:
            raise ValueError(f"Invalid probability `{probability}`: expected a value in (0, 1].")
        if every is not None and every < 1:
            raise ValueError(f"Invalid every `{every}`: expected 1 or more.")
        if times is not None and times < 1:
            raise ValueError(f"Invalid times `{times}`: expected 1 or more, or None.")
        fault = Fault(
            re.compile(path_regex),
            status,
            times,
            retry_after,
            html,
            probability,
            every,
            drop,
            delay_seconds,
        )
        with self._lock:
            self._faults.append(fault)

    def plan(self, seed: int, rate: float, path_regex: str = API_PATHS) -> None:
        """Fail about `rate` of the matching requests with 429, 500, 503 or a dropped connection.

        The choices come from `seed`, so the same sequence of requests meets the same failures.
        """
        if not 0 < rate <= 1:
            raise ValueError(f"Invalid rate `{rate}`: expected a value in (0, 1].")
        with self._lock:
            self._rng = random.Random(f"{seed}:plan")
            self._faults.append(
                Fault(
                    re.compile(path_regex),
                    None,
                    None,
                    retry_after=1,
                    probability=rate,
                    planned=True,
                )
            )

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, path: str) -> Firing | None:
        """Return the firing of the first rule that fires for `path`, counting it down."""
        with self._lock:
            for fault in self._faults:
                if (fault.remaining is not None and fault.remaining <= 0) or not (
                    fault.pattern.search(path)
                ):
                    continue
                fault.seen += 1
                if fault.every is not None and fault.seen % fault.every != 0:
                    continue
                if fault.probability is not None and self._rng.random() >= fault.probability:
                    continue
                if fault.remaining is not None:
                    fault.remaining -= 1
                return self._firing(fault)
            return None

    def _firing(self, fault: Fault) -> Firing:
        if fault.planned:
            statuses = [status for status, _ in PLAN_CHOICES]
            weights = [weight for _, weight in PLAN_CHOICES]
            status = self._rng.choices(statuses, weights)[0]
            return Firing(status, fault.retry_after, False, status is None, 0.0)
        return Firing(fault.status, fault.retry_after, fault.html, fault.drop, fault.delay_seconds)


def fault_body(status: int, html: bool) -> tuple[str, bytes]:
    """Return the content type and body of a fault response."""
    if html:
        page = (
            f"<html><head><title>{status}</title></head><body><h1>Error "
            f"{status}</h1><p>The service is temporarily unavailable.</p></body>"
            "</html>"
        )
        return "text/html;charset=UTF-8", page.encode()
    message = "Rate limit exceeded." if status == 429 else f"The server returned status {status}."
    return (
        "application/json;charset=UTF-8",
        ('{"errorMessages":["' + message + '"],"errors":{}}').encode(),
    )
