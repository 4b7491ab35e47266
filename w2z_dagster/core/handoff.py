"""Thread hand-off primitives for the batch pipeline that stop promptly when the consumer goes away.

A plain `Queue.get` or `Semaphore.acquire` would block a worker forever once the run is abandoned (an
exception in the asset, a closed generator); these poll a shared stop event instead.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

POLL_SECONDS = 0.1


class Stopped(Exception):
    """The pipeline is shutting down; a worker seeing this exits without reporting anything."""


class Handoff:
    """An unbounded FIFO between two threads; the bound on memory lives in `Slots`, not here."""

    def __init__(self, stop: threading.Event) -> None:
        self._queue: queue.Queue[Any] = queue.Queue()
        self._stop = stop

    def put(self, item: Any) -> None:
        self._queue.put(item)

    def get(self) -> Any:
        while not self._stop.is_set():
            try:
                return self._queue.get(timeout=POLL_SECONDS)
            except queue.Empty:
                continue
        raise Stopped


class Slots:
    """A counting semaphore whose waits end when the pipeline stops."""

    def __init__(self, count: int, stop: threading.Event) -> None:
        self._semaphore = threading.Semaphore(count)
        self._stop = stop

    def take(self, count: int = 1) -> None:
        for _ in range(count):
            while not self._semaphore.acquire(timeout=POLL_SECONDS):
                if self._stop.is_set():
                    raise Stopped

    def give(self, count: int = 1) -> None:
        self._semaphore.release(count)
