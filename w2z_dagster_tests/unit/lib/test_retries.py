"""Step retries: transient outages are retried later; mistakes the user must fix fail at once."""

from collections.abc import Iterator

import dagster as dg
import httpx
import pytest

from w2z_dagster.core.sink import SinkError
from w2z_dagster.core.source import SourceError
from w2z_dagster.lib.retries import retry_transient_failures


@retry_transient_failures
def _plain(error: Exception) -> None:
    raise error


@retry_transient_failures
def _generator(error: Exception) -> Iterator[int]:
    yield 1
    raise error


def _run_generator(error: Exception) -> list[int]:
    return list(_generator(error))


@pytest.mark.parametrize("call", [_plain, _run_generator])
def test_a_transient_error_requests_a_step_retry(call) -> None:
    with pytest.raises(dg.RetryRequested) as raised:
        call(httpx.ConnectError("connection reset by peer"))
    assert (raised.value.max_retries, raised.value.seconds_to_wait) == (2, 30)


@pytest.mark.parametrize("call", [_plain, _run_generator])
@pytest.mark.parametrize(
    "error",
    [
        SourceError("cannot reach Weaviate"),
        SinkError("bad token"),
        ValueError("batch size 0 is out of range"),
    ],
)
def test_permanent_errors_and_user_mistakes_fail_at_once(call, error: Exception) -> None:
    with pytest.raises(type(error)):
        call(error)
