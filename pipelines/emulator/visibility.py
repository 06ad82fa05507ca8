"""What search sees: Jira's eventually consistent index and the caller's project permissions.

Issue reads (`GET /issue/{id}`) always see the stored issue. Search sees the issue as it was
before its latest change until `lag_ms` has passed on the emulator clock, and sees nothing of a
project the account lost permission for.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from pipelines.emulator.generate import IssueRecord


class SearchIndex:
    """Stale copies of recently changed issues and the projects the account cannot browse."""

    def __init__(self) -> None:
        self.lag_ms = 0
        self.revoked: set[int] = set()  # project indexes
        # issue id -> (instant of the latest change in ms, issue before the first unindexed
        # change, or None when the issue did not exist then)
        self.pending: dict[int, tuple[int, IssueRecord | None]] = {}

    def before_change(self, issue_id: int, record: IssueRecord | None, now_ms: int) -> None:
        """Keep the indexed version of an issue that is about to change (`None`: created)."""
        if self.lag_ms <= 0:
            return
        entry = self.pending.get(issue_id)
        if entry is not None and entry[0] + self.lag_ms > now_ms:
            # NOTE: a second change inside the lag keeps the older copy and restarts the lag,
            # so an issue edited without pause stays stale; Jira indexes each change in turn.
            self.pending[issue_id] = (now_ms, entry[1])
            return
        self.pending[issue_id] = (now_ms, _copy(record) if record is not None else None)

    def visible(self, live: Iterable[IssueRecord], now_ms: int) -> list[IssueRecord]:
        """Return the issues search matches against, ascending by id."""
        if not self.pending and not self.revoked:
            return list(live)
        stale = {
            issue_id: old
            for issue_id, (changed, old) in self.pending.items()
            if changed + self.lag_ms > now_ms
        }
        out: list[IssueRecord] = []
        seen: set[int] = set()
        for record in live:
            seen.add(record.id)
            shown = stale.get(record.id, record)
            if shown is not None and shown.project not in self.revoked:
                out.append(shown)
        for issue_id, old in stale.items():
            if issue_id not in seen and old is not None and old.project not in self.revoked:
                out.append(old)  # deleted, but the index still lists it
        out.sort(key=lambda r: r.id)
        return out

    def can_browse(self, record: IssueRecord) -> bool:
        return record.project not in self.revoked


def _copy(record: IssueRecord) -> IssueRecord:
    return dataclasses.replace(
        record,
        edits=list(record.edits),
        overrides=dict(record.overrides) if record.overrides else None,
    )
