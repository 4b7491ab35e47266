"""Retries for transient failures on either side, and nothing else.

A permanent error (bad input, auth, schema) must fail at once with its cause; retrying it only hides the
cause behind minutes of backoff. A transient one (a dropped connection, a rate limit) must be retried
with capped, jittered backoff so a brief outage does not fail a long migration.

Milvus says which kind an error is (`pkg/util/merr/errors.go`, surfaced by pymilvus 3 as
`MilvusException.code`, `.retriable` and `.is_input_error`), so its classification wins over words in
the message. A server that pushes back (rate limit, quota, time-tick delay) is waited out far longer
than a blip, then reported as what it is: a cluster too small for the write rate. A request too large
for the server is never transient: resending it cannot succeed, only splitting it can.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import grpc
import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

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
BACKPRESSURE_FACTOR = 10
"""Backpressure waits start this many times longer than a blip's: the cluster needs time to catch up."""
MAX_BACKPRESSURE_SECONDS = 300.0
TOO_LARGE_WORDS = ("larger than max", "exceeds the maximum", "message too large", "request is too large")
INPUT_CODES = {1100, 1101, 1102}
"""merr ParameterInvalid, ParameterMissing, ParameterTooLarge: the request's data is at fault."""
BACKPRESSURE_CODES = {8, 9, 11}
"""merr ServiceRateLimit, ServiceQuotaExceeded, ServiceTimeTickLongDelay."""
LEGACY_BACKPRESSURE_CODES = {48, 49, 55}
"""The same in the legacy `common.ErrorCode` enum (`compatible_code`): ForceDeny, RateLimit, TimeTickLongDelay."""
LOCAL_CODES = {0, 1, 2}
"""Codes pymilvus also raises on its own (unexpected, connect failed), where words must still decide."""


class Overloaded(RuntimeError):
    """The target kept pushing back after a long backoff; the run must slow down or the cluster grow."""


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


def milvus_error(exc: BaseException) -> BaseException | None:
    """The pymilvus `MilvusException` in the chain, told by its attributes (only `core.sink` imports pymilvus)."""
    for link in _chain(exc):
        if hasattr(link, "compatible_code") and hasattr(link, "is_input_error"):
            return link
    return None


def too_large(exc: BaseException) -> bool:
    """gRPC's RESOURCE_EXHAUSTED "larger than max" and its kin: the request must be split, not resent."""
    text = " ".join(str(link) for link in _chain(exc)).lower()
    return any(word in text for word in TOO_LARGE_WORDS)


def is_input_error(exc: BaseException) -> bool:
    """Whether Milvus blames the request's data (1100-1102, or flagged `is_input_error` by the server)."""
    milvus = milvus_error(exc)
    if milvus is None:
        return False
    code = getattr(milvus, "code", None)
    return bool(milvus.is_input_error) or (isinstance(code, int) and code in INPUT_CODES)


def is_backpressure(exc: BaseException) -> bool:
    milvus = milvus_error(exc)
    if milvus is None:
        return False
    code = getattr(milvus, "code", None)
    return (isinstance(code, int) and code in BACKPRESSURE_CODES) or (
        getattr(milvus, "compatible_code", None) in LEGACY_BACKPRESSURE_CODES
    )


def is_transient(exc: BaseException) -> bool:
    if any(isinstance(link, Overloaded) for link in _chain(exc)) or too_large(exc):
        return False
    status = grpc_status(exc)
    if status is not None:
        return status in TRANSIENT_GRPC
    milvus = milvus_error(exc)
    if milvus is not None:
        code = getattr(milvus, "code", None)
        if is_input_error(milvus):
            return False
        if getattr(milvus, "retriable", False) is True or is_backpressure(milvus):
            return True
        if isinstance(code, int) and code not in LOCAL_CODES:
            return False
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
        self._blip = wait_exponential_jitter(
            multiplier=self.delay, max=MAX_BACKOFF_SECONDS, jitter=self.delay
        )
        self._pushback = wait_exponential_jitter(
            multiplier=self.delay * BACKPRESSURE_FACTOR, max=MAX_BACKPRESSURE_SECONDS, jitter=self.delay
        )

    def call(self, fn: Callable[[], T]) -> T:
        """`fn`'s result, retried while it fails transiently; backpressure that outlasts it is `Overloaded`."""
        blip, pushback = self._blip, self._pushback

        def wait(state: RetryCallState) -> float:
            failure = state.outcome.exception() if state.outcome else None
            return (pushback if failure is not None and is_backpressure(failure) else blip)(state)

        retrying = Retrying(
            stop=stop_after_attempt(self.max_retries + 1),
            wait=wait,
            retry=retry_if_exception(is_transient),
            reraise=True,
        )
        started = time.monotonic()
        try:
            return retrying(fn)
        except Exception as exc:
            if not is_backpressure(exc) or isinstance(exc, Overloaded):
                raise
            milvus = milvus_error(exc)
            reason = " ".join(str(getattr(milvus, "message", "") or exc).split())
            raise Overloaded(
                f"the target kept refusing requests as overloaded (code {getattr(milvus, 'code', '?')}: "
                f"{reason}) for {time.monotonic() - started:.0f} s over {self.max_retries + 1} attempts: "
                "scale the cluster up, or slow the writes down with max_write_mb_per_s"
            ) from None
