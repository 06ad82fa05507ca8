"""The collector settings of a run: raised thresholds and frozen objects, restored after."""

from __future__ import annotations

import gc

from pipelines.collector import RUN_THRESHOLDS, fewer_collections


def test_run_raises_thresholds_and_restores_them() -> None:
    before = gc.get_threshold()
    frozen_before = gc.get_freeze_count()
    # The precondition: the test process runs with other thresholds than a load.
    assert before != RUN_THRESHOLDS
    alive = [{"kept": index} for index in range(1000)]
    with fewer_collections():
        assert gc.get_threshold() == RUN_THRESHOLDS
        # The dicts alive at the start are frozen with everything else alive then.
        assert gc.get_freeze_count() >= frozen_before + len(alive)
        with fewer_collections():
            assert gc.get_threshold() == RUN_THRESHOLDS
        # The inner block left the outer one's settings in place.
        assert gc.get_threshold() == RUN_THRESHOLDS
        assert gc.get_freeze_count() >= frozen_before + len(alive)
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == frozen_before


def test_settings_return_after_a_failure() -> None:
    before = gc.get_threshold()
    frozen_before = gc.get_freeze_count()
    try:
        with fewer_collections():
            raise KeyError("stop")
    except KeyError:
        pass
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == frozen_before


def test_cycles_made_inside_are_collected() -> None:
    with fewer_collections():
        node: dict[str, object] = {}
        node["self"] = node
        del node
        # A full collection still finds cycles made after the freeze.
        assert gc.collect() >= 1


def test_caller_frozen_objects_stay_frozen() -> None:
    caller_objects = [{"caller": index} for index in range(1000)]
    gc.collect()
    gc.freeze()
    try:
        frozen_before = gc.get_freeze_count()
        # The precondition: the caller froze at least the dicts above.
        assert frozen_before >= len(caller_objects)
        with fewer_collections():
            assert gc.get_threshold() == RUN_THRESHOLDS
        assert gc.get_freeze_count() == frozen_before
    finally:
        gc.unfreeze()


def test_blocks_in_two_threads_restore_once() -> None:
    import threading

    before = gc.get_threshold()
    entered = threading.Event()
    leave = threading.Event()

    def other_run() -> None:
        with fewer_collections():
            entered.set()
            leave.wait(timeout=10)

    worker = threading.Thread(target=other_run)
    with fewer_collections():
        worker.start()
        assert entered.wait(timeout=10)
    # This thread's block ended first; the other one still runs with the raised thresholds.
    assert gc.get_threshold() == RUN_THRESHOLDS
    leave.set()
    worker.join(timeout=10)
    assert gc.get_threshold() == before
