"""Injected failures: the next N requests matching a path pattern get a chosen status."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass


@dataclass
class Fault:
    pattern: re.Pattern[str]
    status: int
    remaining: int
    retry_after: float | None
    html: bool


class Faults:
    """A thread-safe list of pending faults, consumed in the order they were added."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(
        self,
        path_regex: str,
        status: int,
        times: int = 1,
        retry_after: float | None = None,
        html: bool = False,
    ) -> None:
        with self._lock:
            self._faults.append(Fault(re.compile(path_regex), status, times, retry_after, html))

    def take(self, path: str) -> Fault | None:
        """Return and count down the first fault matching `path`, if any."""
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and fault.pattern.search(path):
                    fault.remaining -= 1
                    return fault
            return None

    def body(self, fault: Fault) -> tuple[str, bytes]:
        """Return the content type and body of a fault response."""
        if fault.html:
            page = (
                f"<html><head><title>{fault.status}</title></head><body><h1>Error "
                f"{fault.status}</h1><p>The service is temporarily unavailable.</p></body>"
                "</html>"
            )
            return "text/html;charset=UTF-8", page.encode()
        message = (
            "Rate limit exceeded."
            if fault.status == 429
            else f"The server returned status {fault.status}."
        )
        return (
            "application/json;charset=UTF-8",
            ('{"errorMessages":["' + message + '"],"errors":{}}').encode(),
        )
