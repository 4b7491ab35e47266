"""Transient errors are retried a bounded number of times; permanent ones fail at once."""

import grpc
import httpx
import pytest

from w2z_dagster.core.retry import RetryPolicy, is_transient


class _RpcError(grpc.RpcError, grpc.Call):
    def __init__(self, code: grpc.StatusCode) -> None:
        self._code = code

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._code.name

    def initial_metadata(self) -> None: ...
    def trailing_metadata(self) -> None: ...
    def is_active(self) -> bool:
        return False

    def time_remaining(self) -> None: ...
    def cancel(self) -> None: ...
    def add_callback(self, callback: object) -> None: ...


def _wrapped(inner: BaseException) -> RuntimeError:
    try:
        raise inner
    except BaseException:
        try:
            raise RuntimeError("Query call with protocol GRPC search failed")
        except RuntimeError as outer:
            return outer


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (_wrapped(_RpcError(grpc.StatusCode.UNAVAILABLE)), True),
        (_wrapped(_RpcError(grpc.StatusCode.DEADLINE_EXCEEDED)), True),
        (_wrapped(_RpcError(grpc.StatusCode.RESOURCE_EXHAUSTED)), True),
        (_wrapped(_RpcError(grpc.StatusCode.UNKNOWN)), False),
        (_wrapped(_RpcError(grpc.StatusCode.UNAUTHENTICATED)), False),
        (httpx.ConnectError("connection refused"), True),
        (ValueError("bad value"), False),
        (RuntimeError("<_InactiveRpcError: rate limit exceeded[rpc=Upsert]>"), True),
    ],
)
def test_classification(error: BaseException, transient: bool) -> None:
    assert is_transient(error) is transient


def test_transient_errors_are_retried_until_success() -> None:
    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise _wrapped(_RpcError(grpc.StatusCode.UNAVAILABLE))
        return "ok"

    assert RetryPolicy(max_retries=3, delay=0).call(flaky) == "ok"
    assert len(calls) == 3


def test_retries_are_bounded_and_permanent_errors_are_not_retried() -> None:
    calls = []

    def down() -> None:
        calls.append(1)
        raise _wrapped(_RpcError(grpc.StatusCode.UNAVAILABLE))

    with pytest.raises(RuntimeError):
        RetryPolicy(max_retries=2, delay=0).call(down)
    assert len(calls) == 3

    calls.clear()

    def broken() -> None:
        calls.append(1)
        raise ValueError("bad value")

    with pytest.raises(ValueError):
        RetryPolicy(max_retries=5, delay=0).call(broken)
    assert len(calls) == 1
