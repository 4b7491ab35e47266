"""Step retries for outages that outlast the core's per-call retries, and for nothing else.

The core retries each call a few times within seconds; a source or target that is down for a minute
needs the whole step retried later, which for `migrated_batches` resumes from its checkpoint. Errors
the user must fix (bad endpoints, keys, names: `SourceError`, `SinkError`) and any other permanent error
fail the step at once, so the partition turns red without minutes of pointless backoff.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import dagster as dg

from w2z_dagster.core.retry import is_transient
from w2z_dagster.core.sink import SinkError
from w2z_dagster.core.source import SourceError

STEP_RETRIES = 2
SECONDS_BETWEEN_STEP_RETRIES = 30

F = TypeVar("F", bound=Callable[..., Any])


def _fail_or_retry(exc: Exception) -> NoReturn:
    if isinstance(exc, SourceError | SinkError) or not is_transient(exc):
        raise exc
    raise dg.RetryRequested(max_retries=STEP_RETRIES, seconds_to_wait=SECONDS_BETWEEN_STEP_RETRIES) from exc


def retry_transient_failures(fn: F) -> F:
    """Wraps an asset body (plain or generator) without changing the signature Dagster inspects."""
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def generator(*args: Any, **kwargs: Any) -> Any:
            try:
                yield from fn(*args, **kwargs)
            except Exception as exc:
                _fail_or_retry(exc)

        return generator  # type: ignore[return-value]

    @functools.wraps(fn)
    def plain(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            _fail_or_retry(exc)

    return plain  # type: ignore[return-value]
