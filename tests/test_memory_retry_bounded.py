"""The load step runs again after DuckDB runs out of memory, but only a bounded number of times."""

from __future__ import annotations

import os
from types import SimpleNamespace
from typing import Any

import pytest
from dlt.pipeline.exceptions import PipelineStepFailed

from pipelines import runner
from pipelines.runner import RunOptions

# More loads than doubling from the floor of 48 MiB can take to reach 80% of any RAM up to
# 2^60 bytes.
MAX_LOADS = 50


class OutOfMemoryLoads:
    """A pipeline stand-in whose load step always fails with DuckDB's out-of-memory error."""

    has_pending_data = True
    pipeline_name = "memory"

    def __init__(self) -> None:
        self.loads = 0
        self.default_schema = SimpleNamespace(data_tables=lambda: [{"columns": {"id": {}}}])

    def load(self) -> Any:
        self.loads += 1
        if self.loads > MAX_LOADS:
            raise AssertionError(f"the load step ran {self.loads} times")
        cause = Exception("Out of Memory Error: could not allocate block of size 256.0 KiB")
        raise PipelineStepFailed(self, "load", "1", cause)  # type: ignore[arg-type]


@pytest.mark.parametrize("ram_bytes", [2**30 + 4096, 23 * 2**30 + 12345 * 4096])
def test_out_of_memory_retries_stop_at_ceiling(
    monkeypatch: pytest.MonkeyPatch, ram_bytes: int
) -> None:
    # 80% of the RAM is rarely a whole number of MiB, so the last raise lands on the ceiling
    # rounded down, and the next failure must not raise it to the same value again.
    pages = ram_bytes // 4096
    sizes = {"SC_PAGE_SIZE": 4096, "SC_PHYS_PAGES": pages}
    monkeypatch.setattr(os, "sysconf", lambda name: sizes[name])
    options = RunOptions(duckdb_settings={"threads": 1, "memory_limit": "64MiB"})
    pipeline = OutOfMemoryLoads()
    with pytest.raises(PipelineStepFailed):
        runner.load_within_memory(pipeline, options)  # type: ignore[arg-type]
    assert pipeline.loads < MAX_LOADS
    limits = options.duckdb_settings
    assert limits is not None
    ceiling_mib = int(ram_bytes * runner.DUCKDB_MEMORY_MAX_SHARE) // 2**20
    assert limits["memory_limit"] == f"{ceiling_mib}MiB"


class FailsAtCommitOnce(OutOfMemoryLoads):
    """A stand-in whose first load fails as DuckDB reports a failed allocation at commit."""

    def load(self) -> Any:
        self.loads += 1
        if self.loads == 1:
            cause = Exception(
                "TransactionContext Error: Failed to commit: could not allocate block of size "
                "256.0 KiB (19.9 MiB/20.0 MiB used)"
            )
            raise PipelineStepFailed(self, "load", "1", cause)  # type: ignore[arg-type]
        return "loaded"


def test_allocation_failure_at_commit_retries() -> None:
    options = RunOptions(duckdb_settings={"threads": 1, "memory_limit": "64MiB"})
    pipeline = FailsAtCommitOnce()
    assert runner.load_within_memory(pipeline, options) == "loaded"  # type: ignore[arg-type]
    assert pipeline.loads == 2
    # The stand-in has no tables, so the limit is fitted to the floor and then doubled.
    doubled = f"{2 * runner.DUCKDB_MEMORY_MIN_MIB}MiB"
    assert options.duckdb_settings == {"threads": 1, "memory_limit": doubled}
