"""The compact id-to-version map gives the same results as a plain dict, at any size."""

from __future__ import annotations

import random
import tracemalloc
from datetime import UTC, datetime, timedelta, timezone

import numpy as np

from pipelines import versions
from pipelines.versions import VersionMap


def test_matches_dict_across_folds(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(versions, "FOLD_EVERY", 50)
    rng = random.Random(5)
    base = datetime(2025, 3, 30, 0, 59, 59, 999_000, tzinfo=UTC)
    offsets = [
        UTC,
        timezone(timedelta(hours=-7)),
        timezone(timedelta(hours=5, minutes=30)),
    ]
    reference: dict[int, datetime] = {}
    mapped = VersionMap()
    for _ in range(3_000):
        issue_id = rng.randint(10_000, 10_700)
        updated = (base + timedelta(microseconds=rng.randint(0, 10**12))).astimezone(
            rng.choice(offsets)
        )
        reference[issue_id] = updated
        mapped[issue_id] = updated
        probe = rng.randint(9_990, 10_710)
        assert mapped.get(probe) == reference.get(probe)
        assert (probe in mapped) == (probe in reference)
    assert len(mapped) == len(reference)
    for issue_id, updated in reference.items():
        got = mapped.get(issue_id)
        assert got == updated
        assert got is not None and got.utcoffset() == timedelta(0)
    assert "10001" not in mapped
    known = next(iter(reference))
    assert np.int64(known) in mapped
    assert mapped.get(np.int64(known)) == reference[known]


def test_compact_at_200000_issues() -> None:
    base = datetime(2024, 1, 1, tzinfo=UTC)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        mapped = VersionMap()
        for i in range(200_000):
            mapped[10_000 + i] = base + timedelta(seconds=i)
        used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert mapped.get(10_000 + 199_999) == base + timedelta(seconds=199_999)
    # A dict of the same entries takes about 25 MiB; the arrays take 3.2 MB plus one
    # unfolded dict of at most FOLD_EVERY entries.
    assert used < 6 * 2**20, used
