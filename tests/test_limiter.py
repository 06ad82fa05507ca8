"""AdaptiveLimiter: the bound on requests in flight and its AIMD adjustments."""

from __future__ import annotations

import threading
import time

import pytest

from pipelines.limiter import AdaptiveLimiter, pressure_reason


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_limit_starts_at_max() -> None:
    limiter = AdaptiveLimiter(6)
    assert limiter.limit == 6
    assert limiter.in_flight == 0


@pytest.mark.parametrize("bad", [0, 9, -1])
def test_max_outside_range_rejected(bad: int) -> None:
    with pytest.raises(ValueError, match="expected 1 to 8"):
        AdaptiveLimiter(bad)


def test_acquire_blocks_at_limit() -> None:
    limiter = AdaptiveLimiter(2)
    assert limiter.acquire(timeout=0.01)
    assert limiter.acquire(timeout=0.01)
    assert not limiter.acquire(timeout=0.05)
    limiter.release()
    assert limiter.acquire(timeout=0.01)
    assert limiter.in_flight == 2


def test_release_without_acquire_raises() -> None:
    with pytest.raises(RuntimeError, match="without a matching acquire"):
        AdaptiveLimiter(2).release()


def test_throttle_halves_limit() -> None:
    clock = FakeClock()
    limiter = AdaptiveLimiter(8, clock=clock)
    limiter.on_throttle("HTTP 429")
    assert limiter.limit == 4
    clock.now += 10
    limiter.on_throttle("HTTP 429")
    assert limiter.limit == 2
    clock.now += 10
    limiter.on_throttle("HTTP 429")
    assert limiter.limit == 1
    clock.now += 10
    limiter.on_throttle("HTTP 429")
    assert limiter.limit == 1
    assert limiter.stats.decreases == 3
    assert limiter.stats.throttled == 4


def test_burst_of_429s_halves_once() -> None:
    clock = FakeClock()
    limiter = AdaptiveLimiter(8, cooldown_seconds=2.0, clock=clock)
    for _ in range(8):
        limiter.on_throttle("HTTP 429")
    assert limiter.limit == 4
    clock.now += 2.5
    limiter.on_throttle("HTTP 429")
    assert limiter.limit == 2


def test_successes_raise_limit_additively() -> None:
    clock = FakeClock()
    limiter = AdaptiveLimiter(8, initial=2, clock=clock)
    limiter.on_success()
    assert limiter.limit == 2
    limiter.on_success()
    assert limiter.limit == 3
    for _ in range(3):
        limiter.on_success()
    assert limiter.limit == 4
    for _ in range(100):
        limiter.on_success()
    assert limiter.limit == 8
    assert limiter.stats.increases == 6


def test_recovery_after_throttle() -> None:
    clock = FakeClock()
    limiter = AdaptiveLimiter(8, clock=clock)
    limiter.on_throttle("HTTP 429")
    assert limiter.limit == 4
    # Four successes at limit 4 add one slot, five more at limit 5 add another.
    for _ in range(4):
        limiter.on_success()
    assert limiter.limit == 5
    for _ in range(5):
        limiter.on_success()
    assert limiter.limit == 6


def test_raised_limit_wakes_waiter() -> None:
    limiter = AdaptiveLimiter(4, initial=1)
    assert limiter.acquire(timeout=0.01)
    got: list[bool] = []
    waiter = threading.Thread(target=lambda: got.append(limiter.acquire(timeout=2.0)))
    waiter.start()
    time.sleep(0.05)
    assert got == []
    limiter.on_success()
    waiter.join(timeout=2.0)
    assert got == [True]
    assert limiter.in_flight == 2


def test_threads_never_exceed_limit() -> None:
    limiter = AdaptiveLimiter(3)
    lock = threading.Lock()
    current = 0
    highest = 0

    def work() -> None:
        nonlocal current, highest
        for _ in range(20):
            with limiter.slot():
                with lock:
                    current += 1
                    highest = max(highest, current)
                time.sleep(0.001)
                with lock:
                    current -= 1

    threads = [threading.Thread(target=work) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert highest == 3
    assert limiter.stats.max_in_flight_seen == 3
    assert limiter.stats.acquired == 200
    assert limiter.in_flight == 0


def test_observe_near_limit_header() -> None:
    clock = FakeClock()
    limiter = AdaptiveLimiter(8, clock=clock)
    limiter.observe(200, {"X-RateLimit-NearLimit": "true"})
    assert limiter.limit == 4


def test_observe_ignores_server_errors() -> None:
    limiter = AdaptiveLimiter(8, initial=4)
    limiter.observe(500, {})
    limiter.observe(None, {})
    assert limiter.limit == 4
    assert limiter.stats.throttled == 0


@pytest.mark.parametrize(
    ("status", "headers", "expected"),
    [
        (429, {}, "HTTP 429"),
        (200, {"X-RateLimit-NearLimit": "true"}, "X-RateLimit-NearLimit"),
        (200, {"X-RateLimit-NearLimit": "false"}, None),
        (
            200,
            {"X-RateLimit-Remaining": "10", "X-RateLimit-Limit": "100"},
            "X-RateLimit-Remaining 10 of 100",
        ),
        (200, {"X-RateLimit-Remaining": "20", "X-RateLimit-Limit": "100"}, None),
        (200, {"X-RateLimit-Remaining": "0"}, "X-RateLimit-Remaining 0"),
        (200, {"X-RateLimit-Remaining": "5"}, None),
        (200, {"X-RateLimit-Remaining": "soon", "X-RateLimit-Limit": "100"}, None),
        (200, {}, None),
    ],
)
def test_pressure_reason(status: int, headers: dict[str, str], expected: str | None) -> None:
    assert pressure_reason(status, headers) == expected
