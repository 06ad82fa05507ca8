"""Ctrl-C and SIGTERM during a run of the command line.

The handlers raise where the run is, as Python does for Ctrl-C. An exception raised inside a
finalizer (`__del__`) is printed as "Exception ignored" and dropped, and native code that
catches exceptions (DuckDB's client when it imports pandas) drops it too, so the run would go
on. The handlers therefore also record the signal, and the run checks for it between steps
and between batches of issues.
"""

from __future__ import annotations

import signal
import threading
from typing import Any


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the run is, as Ctrl-C raises KeyboardInterrupt."""

    signal_code = signal.SIGTERM


# The signal that arrived during this process's run, or 0.
_received = 0


def _handle(signal_number: int, frame: Any) -> None:
    global _received
    _received = signal_number
    if _in_finalizer(frame):
        # Raised here, the exception would be dropped; the next check raises it instead.
        return
    raise _exception(signal_number)


def _exception(signal_number: int) -> KeyboardInterrupt:
    return Terminated() if signal_number == signal.SIGTERM else KeyboardInterrupt()


def _in_finalizer(frame: Any) -> bool:
    """Return True when `frame` runs inside a `__del__` method, at any depth."""
    while frame is not None:
        if frame.f_code.co_name == "__del__":
            return True
        frame = frame.f_back
    return False


def stop_on_signals() -> None:
    """Make SIGTERM stop a run as Ctrl-C does, with status 130 and a message.

    Schedulers stop a job with SIGTERM. Its default action ended the process at once, with
    no message, while during dlt's normalize and load steps it ended the run after the step
    with status 130. A handler set by the caller's process is kept, for either signal.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _handle)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _handle)


def received() -> int:
    """Return the signal that arrived during this process's run, or 0."""
    return _received


def raise_if_received() -> None:
    """Raise the interrupt of a signal whose exception was dropped where it arrived."""
    if _received:
        raise _exception(_received)
