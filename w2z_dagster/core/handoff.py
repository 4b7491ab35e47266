"""Waiting primitives for the batch pipeline's threads that end promptly when the pipeline stops.

A plain `Queue.get`, `Semaphore.acquire` or `time.sleep` would hold a worker long after the run was
abandoned (an exception in the asset, a closed generator); these watch a shared stop event instead.
"""

from __future__ import annotations

import queue
import threading
import time
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


class RateCap:
    """Spaces writes so the average stays under a cap in MB/s (10^6 bytes), as Zilliz Cloud meters it."""

    def __init__(self, mb_per_s: float | None, stop: threading.Event) -> None:
        self._bytes_per_s = mb_per_s * 1_000_000 if mb_per_s else None
        self._stop = stop
        self._free_at = time.monotonic()

    def wait(self, nbytes: int) -> None:
        if self._bytes_per_s is None:
            return
        now = time.monotonic()
        start = max(now, self._free_at)
        if self._stop.wait(start - now):
            raise Stopped
        self._free_at = start + nbytes / self._bytes_per_s
