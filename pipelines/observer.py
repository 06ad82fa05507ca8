"""Counters one run collects for its summary and progress lines."""

from __future__ import annotations

from dataclasses import dataclass, field
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
    # The read shared by the loads of one run (`source.IssueRead`), open until it ends.
    issue_read: Any = None
    # True when the last extraction stopped at its size limit before the window's end.
    more_to_load: bool = False
    # Issues handed to dlt twice in this run because they changed while it read.
    read_again: set[int] = field(default_factory=set)
    # The tables this run did not load in full, with the reason as a clause.
    skipped: dict[str, str] = field(default_factory=dict)
    # Issues the previous sweep listed that the tables lacked, to read by id after the window.
    catch_up_ids: list[int] = field(default_factory=list)
    # Issues of `catch_up_ids` that the filter still matched and this run read.
    caught_up: int = 0
    # Issues whose histories the server returned only in part to an earlier run (see
    # `source_collections.PARTIAL_HISTORIES`), read again by id after the window, and how many
    # of them this run read.
    reread_histories: list[int] = field(default_factory=list)
    histories_reread: int = 0
    # Queued issues that the tables mark deleted; the run drops them from the queue.
    deleted_histories: set[int] = field(default_factory=set)

    def close(self) -> None:
        """Close the run's read, if one is still open."""
        if self.issue_read is not None:
            self.issue_read.close()

    @property
    def requests(self) -> int:
        return self.client.stats.requests if self.client is not None else 0

    @property
    def retries(self) -> int:
        return self.client.stats.retries if self.client is not None else 0
