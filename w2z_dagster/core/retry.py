"""Retries for transient failures on either side, and nothing else.

A permanent error (bad input, auth, schema) must fail at once with its cause; retrying it only hides the
cause behind minutes of backoff. A transient one (a dropped connection, a rate limit) must be retried
with capped, jittered backoff so a brief outage does not fail a long migration.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

import grpc
import httpx
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

T = TypeVar("T")

TRANSIENT_GRPC = {
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.ABORTED,
}
TRANSIENT_HTTP = {408, 425, 429, 500, 502, 503, 504}
TRANSIENT_WORDS = (
    "rate limit",
    "ratelimit",
    "too many requests",
    "unavailable",
    "deadline exceeded",
    "connection reset",
    "resource exhausted",
    "timed out",
    "temporarily",
)
MAX_BACKOFF_SECONDS = 30.0


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def grpc_status(exc: BaseException) -> grpc.StatusCode | None:
    """Both clients wrap the wire error; the status that decides lives somewhere down the chain."""
    for link in _chain(exc):
        if isinstance(link, grpc.RpcError) and isinstance(link, grpc.Call):
            return link.code()
    return None


def is_transient(exc: BaseException) -> bool:
    status = grpc_status(exc)
    if status is not None:
        return status in TRANSIENT_GRPC
    for link in _chain(exc):
        if isinstance(link, httpx.HTTPStatusError):
            return link.response.status_code in TRANSIENT_HTTP
        if isinstance(link, (httpx.TransportError, ConnectionError, TimeoutError)):
            return True
        status = getattr(link, "status_code", None)
        if isinstance(status, int) and status in TRANSIENT_HTTP:
            return True
        if getattr(link, "retriable", False) is True:
            return True
    text = " ".join(str(link) for link in _chain(exc)).lower()
    return any(word in text for word in TRANSIENT_WORDS)


class RetryPolicy:
    """The older script's MIGRATION_MAX_RETRIES / MIGRATION_RETRY_DELAY, applied to real I/O calls."""

    def __init__(self, max_retries: int, delay: float) -> None:
        self.max_retries = max(0, max_retries)
        self.delay = max(0.0, delay)

    def call(self, fn: Callable[[], T]) -> T:
        retrying = Retrying(
            stop=stop_after_attempt(self.max_retries + 1),
            wait=wait_exponential_jitter(initial=self.delay, max=MAX_BACKOFF_SECONDS, jitter=self.delay),
            retry=retry_if_exception(is_transient),
            reraise=True,
        )
        return retrying(fn)
