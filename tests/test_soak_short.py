"""A short soak: incremental runs of the real CLI under site changes, faults and SIGKILLs."""

from __future__ import annotations

from pathlib import Path

from pipelines.soak import soak


def test_short_soak_finds_no_errors(tmp_path: Path) -> None:
    report = soak(5, seed=2, kill_rate=0.4, fault_rate=0.05, issues=40, workdir=tmp_path)
    text = "\n".join(report.lines())
    assert report.kills >= 1, text
    assert report.faults >= 1, text
    assert report.mutations >= 10, text
    assert report.issues_checked >= 30, text
    assert (report.lost, report.doubled, report.stale) == (0, 0, 0), text
    assert not report.problems, text
