"""Counters one run collects for its summary and progress lines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass
class RunObserver:
    """What a run saw: the window, issues read, the cursor reached, and the HTTP client."""

    window_lower: datetime | None = None
    previous_cursor: datetime | None = None
    cursor: datetime | None = None
    issues_read: int = 0
    client: Any = None
    reader: Any = None
    sweep: Any = None

    @property
    def requests(self) -> int:
        return self.client.stats.requests if self.client is not None else 0

    @property
    def retries(self) -> int:
        return self.client.stats.retries if self.client is not None else 0
