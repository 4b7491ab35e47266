"""Transient errors are retried a bounded number of times; permanent ones fail at once."""

import grpc
import httpx
import pytest
from pymilvus.exceptions import MilvusException
from pymilvus.grpc_gen import common_pb2

from w2z_dagster.core.retry import Overloaded, RetryPolicy, is_backpressure, is_input_error, is_transient
from w2z_dagster_tests.support.milvus_proxy import merr_status


class _RpcError(grpc.RpcError, grpc.Call):
    def __init__(self, code: grpc.StatusCode, details: str = "") -> None:
        self._code = code
        self._details = details or code.name

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details

    def __str__(self) -> str:
        return f"<_InactiveRpcError: {self._code}, {self._details}>"

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
        (
            _wrapped(
                _RpcError(grpc.StatusCode.RESOURCE_EXHAUSTED, "Received message larger than max (9 vs. 4)")
            ),
            False,
        ),
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


def _milvus(code: int, detail: str = "") -> MilvusException:
    """What pymilvus raises for the Status Milvus sends with merr `code`."""
    return MilvusException.from_status(merr_status(code, detail))


@pytest.mark.parametrize(
    ("code", "transient", "backpressure", "input_error"),
    [
        (5, False, False, False),
        (6, False, False, False),
        (8, True, True, False),
        (9, True, True, False),
        (11, True, True, False),
        (1100, False, False, True),
    ],
)
def test_milvus_errors_are_classified_by_code_and_marks_not_words(
    code: int, transient: bool, backpressure: bool, input_error: bool
) -> None:
    error = _milvus(code, "channel unavailable")
    assert (is_transient(error), is_backpressure(error), is_input_error(error)) == (
        transient,
        backpressure,
        input_error,
    )


def test_an_input_flag_or_code_blames_the_data_and_legacy_codes_still_push_back() -> None:
    flagged = MilvusException(65535, "bad vector", is_input_error=True)
    too_large = MilvusException(1102, "parameter too large")
    legacy = MilvusException(0, "memory quota exhausted", compatible_code=common_pb2.ForceDeny)
    assert is_input_error(flagged) and is_input_error(too_large)
    assert not is_transient(flagged) and not is_transient(too_large)
    assert is_backpressure(legacy) and is_transient(legacy)


def test_backpressure_that_outlasts_the_retries_is_overloaded_in_one_line() -> None:
    calls = []

    def pushed_back() -> None:
        calls.append(1)
        raise _milvus(9, "reason=memory quota exhausted")

    with pytest.raises(Overloaded) as raised:
        RetryPolicy(max_retries=2, delay=0).call(pushed_back)

    assert len(calls) == 3
    assert str(raised.value) == (
        "the target kept refusing requests as overloaded (code 9: quota exceeded[reason=memory quota "
        "exhausted]) for 0 s over 3 attempts: scale the cluster up, or slow the writes down with "
        "max_write_mb_per_s"
    )
    assert raised.value.__cause__ is None
    assert not is_transient(raised.value), "a step retry would only push back again"
