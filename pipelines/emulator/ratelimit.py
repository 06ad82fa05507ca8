"""An optional request budget per second, reported in Jira Cloud's rate limit headers."""

from __future__ import annotations

import datetime as dt
import math
import threading
import time

# Jira Cloud names the limit that was hit in `RateLimit-Reason`; a per-second budget is a burst
# limit.
REASON = "jira-burst-based"
NEAR_LIMIT_SHARE = 0.2


class RateLimiter:
    """Count requests in one-second windows of the wall clock against `limit`."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"Invalid rate limit `{limit}`: expected 1 or more per second.")
        self.limit = limit
        self._lock = threading.Lock()
        self._window = 0
        self._used = 0

    def check(self) -> tuple[bool, dict[str, str]]:
        """Count one request; return whether it is allowed and the headers to send with it."""
        now = time.time()
        window = math.floor(now)
        with self._lock:
            if window != self._window:
                self._window, self._used = window, 0
            allowed = self._used < self.limit
            if allowed:
                self._used += 1
            remaining = self.limit - self._used
        # Jira sends the reset instant to the minute; round up so it is never early.
        reset = dt.datetime.fromtimestamp(math.ceil((window + 1) / 60) * 60, dt.UTC)
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%MZ"),
        }
        if remaining < self.limit * NEAR_LIMIT_SHARE:
            headers["X-RateLimit-NearLimit"] = "true"
        if not allowed:
            headers["Retry-After"] = str(max(1, math.ceil(window + 1 - now)))
            headers["RateLimit-Reason"] = REASON
        return allowed, headers
