"""Ctrl-C and SIGTERM during a run: a request to stop, not an exception.

A KeyboardInterrupt can land on any line of the engine's thread, including the one
between a worker handing back a batch the remote system accepted and the transaction
that records it; that batch would then count as pending and be sent again on resume.
So while a run is going, the first SIGINT or SIGTERM only sets the run's stop event:
nothing new is sent, the requests in flight are answered and recorded, and the run
ends as interrupted. A second Ctrl-C raises KeyboardInterrupt at once, for an operator
who will not wait (the batches still in flight may then be sent again on resume).

Signal handlers can only be set from the main thread; elsewhere nothing changes (a
KeyboardInterrupt is never delivered to another thread anyway).
"""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType
from typing import Any

__all__ = ["StopSignals"]

_HANDLED = (signal.SIGINT, signal.SIGTERM)


class StopSignals:
    """Within ``with``: the first SIGINT/SIGTERM sets ``stop`` and is kept in
    ``received``; a second SIGINT raises KeyboardInterrupt."""

    def __init__(self, stop: threading.Event):
        self.stop = stop
        self.received: signal.Signals | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for signum in _HANDLED:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.received is not None:
            if signum == signal.SIGINT:
                raise KeyboardInterrupt
            return
        self.received = signal.Signals(signum)
        self.stop.set()
        sys.stderr.write(
            "\namp-dest: stopping: waiting for the requests in flight to be answered and "
            "recorded (Ctrl-C again to stop at once; their rows may then be sent again on "
            "resume)\n"
        )
        sys.stderr.flush()
