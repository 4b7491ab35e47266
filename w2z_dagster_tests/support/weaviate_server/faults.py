"""Fault injection and call counting for tests and benchmarks of retry and resume logic.

Methods are gRPC method names ("Search", "BatchObjects", "Aggregate", "TenantsGet", "BatchDelete",
"BatchReferences", "BatchStream", "Check" for the health check) or REST route keys such as
"GET /v1/schema" or "POST /v1/objects" (`rest.ROUTE_KEYS`). A failure code is a `grpc.StatusCode`
or an HTTP status int; each is translated when used on the other protocol.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import grpc

SC = grpc.StatusCode
HTTP_TO_GRPC: dict[int, grpc.StatusCode] = {
    400: SC.INVALID_ARGUMENT,
    401: SC.UNAUTHENTICATED,
    403: SC.PERMISSION_DENIED,
    404: SC.NOT_FOUND,
    409: SC.ALREADY_EXISTS,
    422: SC.INVALID_ARGUMENT,
    429: SC.RESOURCE_EXHAUSTED,
    500: SC.INTERNAL,
    501: SC.UNIMPLEMENTED,
    503: SC.UNAVAILABLE,
    504: SC.DEADLINE_EXCEEDED,
}
GRPC_TO_HTTP: dict[grpc.StatusCode, int] = {
    **{code: status for status, code in HTTP_TO_GRPC.items() if status != 422},
    SC.UNKNOWN: 500,
    SC.ABORTED: 409,
    SC.CANCELLED: 499,
}

Code = grpc.StatusCode | int


@dataclass(slots=True)
class _Share:
    share: float
    code: Code
    rng: random.Random


def as_grpc(code: Code) -> grpc.StatusCode:
    return code if isinstance(code, grpc.StatusCode) else HTTP_TO_GRPC.get(code, SC.UNKNOWN)


def as_http(code: Code) -> int:
    return GRPC_TO_HTTP.get(code, 500) if isinstance(code, grpc.StatusCode) else code


class FaultController:
    """Thread-safe: handlers of both servers consult it concurrently."""

    def __init__(self, known_methods: Iterable[str]) -> None:
        self._known = frozenset(known_methods)
        self._lock = threading.Lock()
        self._next: dict[str, list[tuple[int, Code]]] = {}
        self._shares: dict[str, _Share] = {}
        self._latency = 0.0
        self._calls: Counter[str] = Counter()
        self._hooks: dict[str, list[tuple[int, Callable[[], None]]]] = {}

    def _check(self, method: str) -> None:
        if method not in self._known:
            raise ValueError(f"unknown method {method!r}; known: {sorted(self._known)}")

    def fail_next(self, method: str, count: int, code: Code) -> None:
        """The next `count` calls of `method` fail with `code` (queued after earlier fail_next calls)."""
        self._check(method)
        if count > 0:
            with self._lock:
                self._next.setdefault(method, []).append((count, code))

    def fail_share(self, method: str, share: float, code: Code, seed: int = 0) -> None:
        """Fail about `share` of the calls of `method`, decided by an RNG seeded with `seed`."""
        self._check(method)
        if not 0.0 <= share <= 1.0:
            raise ValueError("share must be between 0 and 1")
        with self._lock:
            self._shares[method] = _Share(share, code, random.Random(seed))

    def run_before(self, method: str, call: int, hook: Callable[[], None]) -> None:
        """Run `hook` once, just before the `call`-th next call of `method` is handled (1: the next one).

        The hook runs in the handler's thread outside every lock, so it may write through a client: a
        test uses it to change the source at an exact point of a run, with no sleep.
        """
        self._check(method)
        with self._lock:
            self._hooks.setdefault(method, []).append((self._calls[method] + call, hook))

    def run_hooks(self, method: str) -> None:
        """Run the hooks due at the call of `method` just counted by `on_call`."""
        with self._lock:
            count = self._calls[method]
            hooks = self._hooks.get(method, [])
            due = [hook for at, hook in hooks if at == count]
            hooks[:] = [(at, hook) for at, hook in hooks if at != count]
        for hook in due:
            hook()

    def set_latency(self, seconds: float) -> None:
        """Extra delay added to every call on both protocols."""
        with self._lock:
            self._latency = max(0.0, seconds)

    def clear(self) -> None:
        """Remove injected failures and latency; call counts keep running (see `reset_calls`)."""
        with self._lock:
            self._next.clear()
            self._shares.clear()
            self._latency = 0.0

    def reset_calls(self) -> None:
        with self._lock:
            self._calls.clear()

    def calls(self, method: str) -> int:
        self._check(method)
        with self._lock:
            return self._calls[method]

    @property
    def latency(self) -> float:
        with self._lock:
            return self._latency

    def on_call(self, method: str) -> Code | None:
        """Count a call and return the failure to inject into it, if any."""
        with self._lock:
            self._calls[method] += 1
            queue = self._next.get(method)
            if queue:
                remaining, code = queue[0]
                if remaining <= 1:
                    queue.pop(0)
                else:
                    queue[0] = (remaining - 1, code)
                return code
            share = self._shares.get(method)
            if share is not None and share.rng.random() < share.share:
                return share.code
            return None
