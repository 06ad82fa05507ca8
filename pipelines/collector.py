"""Run Python's cyclic garbage collector less often during a load.

Decoding a bulk fetch of 100 issues creates tens of thousands of dicts and lists, so with its
default thresholds (700, 10, 10) the collector ran thousands of times in a run. Each full
collection walked every object alive, the modules of dlt, DuckDB and pyarrow included.
Measured on 20,000 of the emulator's issues without latency (docs/benchmark.md): 7.3 of the
19 CPU-seconds of the loader went to the collector. Decoded JSON contains no reference
cycles, so reference counting frees it either way. The collector is needed only for cycles
that other code creates.

`fewer_collections` freezes the objects that exist when the run starts, since they live as
long as the process, and raises the thresholds. `collect_between_steps` frees the cycles left
so far before a load step, so the destination's memory does not come on top of them.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# Allocations of container objects before a collection of the youngest generation, and
# collections of one generation before one of the next.
RUN_THRESHOLDS = (20_000, 20, 100)

# Blocks running now, in any thread, and the settings the first of them found.
_depth = 0
_saved: tuple[tuple[int, ...], bool] = ((700, 10, 10), False)
_lock = threading.Lock()


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Freeze the objects alive now and raise the collector's thresholds inside the block.

    The thresholds and the frozen objects return to the collector when the block ends, so a
    caller that runs loads from its own program keeps its own settings. A block inside
    another, or beside another in a second thread, changes nothing, and the last block to end
    restores the settings. When the caller has frozen objects itself (as a server does
    before it forks workers), nothing more is frozen: `gc.unfreeze` releases every frozen
    object at once, so the block could not end without unfreezing the caller's as well.
    """
    global _depth, _saved
    with _lock:
        _depth += 1
        if _depth == 1:
            _saved = (gc.get_threshold(), gc.get_freeze_count() == 0)
            gc.collect()
            if _saved[1]:
                gc.freeze()
            gc.set_threshold(*RUN_THRESHOLDS)
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            # Blocks in other threads share the settings, so the last one to end restores them.
            if _depth == 0:
                previous, froze = _saved
                gc.set_threshold(*previous)
                if froze:
                    gc.unfreeze()


def collect_between_steps() -> None:
    """Free the reference cycles left by the steps so far (the frozen objects are skipped)."""
    gc.collect()
