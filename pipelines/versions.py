"""A map from issue id to the `updated` instant of its version, compact at any window size.

A run remembers the version of every issue it has listed and handed to dlt, so that an issue
listed twice is read once per version. A `dict[int, datetime]` takes about 130 bytes an issue:
25 MiB at 200,000 issues, twice over, which made the peak memory of a run grow with its
window. `VersionMap` keeps recent entries in a small dict and folds them into two sorted
NumPy arrays of 8-byte integers, so the whole map takes about 16 bytes an issue.
"""

from __future__ import annotations

import operator
from datetime import UTC, datetime, timedelta

import numpy as np

# Entries kept in the dict before they are folded into the sorted arrays. A fold sorts the
# whole map, so it runs once per this many new entries (4 ms at 200,000 issues, measured).
FOLD_EVERY = 20_000

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The largest issue id: ids are stored as BIGINT and kept in int64 arrays.
MAX_ISSUE_ID = 2**63 - 1


def to_micros(instant: datetime) -> int:
    """Return microseconds since the epoch of an aware datetime."""
    delta = instant - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(micros: int) -> datetime:
    """Return the aware UTC datetime of microseconds since the epoch."""
    return EPOCH + timedelta(microseconds=int(micros))


class VersionMap:
    """A map of issue ids to `updated` instants (aware datetimes, kept to the microsecond).

    Supports `get`, `in`, item assignment and `len`. The values come back in UTC.
    """

    def __init__(self) -> None:
        self._ids = np.empty(0, dtype=np.int64)
        self._micros = np.empty(0, dtype=np.int64)
        self._recent: dict[int, int] = {}

    def _folded_index(self, issue_id: int) -> int | None:
        index = int(np.searchsorted(self._ids, issue_id))
        if index < len(self._ids) and int(self._ids[index]) == issue_id:
            return index
        return None

    def get(self, issue_id: int) -> datetime | None:
        """Return the instant stored for `issue_id`, or None."""
        issue_id = operator.index(issue_id)
        micros = self._recent.get(issue_id)
        if micros is not None:
            return from_micros(micros)
        index = self._folded_index(issue_id)
        return None if index is None else from_micros(int(self._micros[index]))

    def __contains__(self, issue_id: object) -> bool:
        try:
            key = operator.index(issue_id)  # type: ignore[arg-type]
        except TypeError:
            return False
        return key in self._recent or self._folded_index(key) is not None

    def __setitem__(self, issue_id: int, updated: datetime) -> None:
        issue_id = operator.index(issue_id)
        if not 0 < issue_id <= MAX_ISSUE_ID:
            raise ValueError(f"Invalid issue id {issue_id}: expected 1 to {MAX_ISSUE_ID}.")
        micros = to_micros(updated)
        index = self._folded_index(issue_id)
        if index is not None:
            self._micros[index] = micros
            return
        self._recent[issue_id] = micros
        if len(self._recent) >= FOLD_EVERY:
            self._fold()

    def __len__(self) -> int:
        return len(self._ids) + len(self._recent)

    def ids(self) -> np.ndarray:
        """Return every id in the map as a sorted int64 array."""
        if self._recent:
            self._fold()
        return self._ids.copy()

    def _fold(self) -> None:
        # `__setitem__` updates folded ids in place, so the recent ids are all new.
        recent_ids = np.fromiter(self._recent.keys(), dtype=np.int64, count=len(self._recent))
        recent_micros = np.fromiter(self._recent.values(), dtype=np.int64, count=len(self._recent))
        ids = np.concatenate([self._ids, recent_ids])
        micros = np.concatenate([self._micros, recent_micros])
        order = np.argsort(ids, kind="stable")
        self._ids = ids[order]
        self._micros = micros[order]
        self._recent = {}
