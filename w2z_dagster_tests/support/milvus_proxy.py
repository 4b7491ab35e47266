"""A gRPC hop between pymilvus and Milvus that can fail chosen calls, to prove retries on the target side.

pymilvus is never mocked: it talks real gRPC to this proxy, which forwards raw bytes to a real Milvus Lite
server or answers with the injected status instead: a gRPC status (the call fails on the wire), or a
Milvus status in a well-formed response, built the way Milvus's `merr.Status` builds it (new code,
legacy code, retriable mark, input-error flag), so pymilvus raises exactly what it raises for Milvus.
"""

from __future__ import annotations

import base64
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import grpc
from pymilvus.grpc_gen import common_pb2, milvus_pb2

# merr code -> (message, legacy common.ErrorCode, retriable, input error), from pkg/util/merr/errors.go
# and utils.go (oldCode); 109 is ErrCollectionSchemaMismatch.
MERR = {
    5: ("service internal error", common_pb2.UnexpectedError, False, False),
    6: ("cross cluster routing", common_pb2.UnexpectedError, False, False),
    8: ("rate limit exceeded", common_pb2.RateLimit, True, False),
    9: ("quota exceeded", common_pb2.ForceDeny, False, False),
    11: ("time tick long delay", common_pb2.TimeTickLongDelay, False, False),
    109: ("collection schema mismatch", common_pb2.SchemaMismatch, False, True),
    1100: ("invalid parameter", common_pb2.IllegalArgument, False, True),
}
MUTATIONS = {"Insert", "Upsert", "Delete"}


def merr_status(code: int, detail: str = "") -> common_pb2.Status:
    """The Status Milvus sends for merr `code`, as `merr.Status(err)` fills it."""
    message, legacy, retriable, input_error = MERR[code]
    reason = f"{message}[{detail}]" if detail else message
    return common_pb2.Status(
        code=code,
        error_code=legacy,
        reason=reason,
        retriable=retriable,
        detail=reason,
        extra_info={"is_input_error": "true"} if input_error else {},
    )


@dataclass
class _Answer:
    """Answer mutation calls with `status`: `times` of them (None: until cleared), after `passes`."""

    status: common_pb2.Status
    times: int | None
    keys: frozenset[str]
    passes: int


def _carries(request: bytes, method: str, keys: frozenset[str]) -> bool:
    """Whether an insert or upsert carries one of `keys` in any string column (the primary key's)."""
    kind = milvus_pb2.UpsertRequest if method == "Upsert" else milvus_pb2.InsertRequest
    parsed = kind.FromString(request)
    return any(keys.intersection(column.scalars.string_data.data) for column in parsed.fields_data)


@dataclass
class _Rule:
    share: float
    code: grpc.StatusCode
    rng: random.Random
    passes_left: int = 0


@dataclass
class FaultyMilvusProxy:
    """Forwards every unary call; calls whose method name ends with a rule's suffix may fail instead."""

    port: int
    rules: dict[str, _Rule] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    answers: dict[str, _Answer] = field(default_factory=dict)
    sizes: dict[str, list[int]] = field(default_factory=dict)
    """Bytes of every request by method, refused ones included."""
    answered: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    token: str | None = None
    version: str | None = None
    latency: float = 0.0
    max_request_bytes: int = 256 << 20

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fail_share(self, method: str, share: float, code: grpc.StatusCode, seed: int = 0) -> None:
        with self.lock:
            self.rules[method] = _Rule(share, code, random.Random(seed))

    def fail_after(self, method: str, passes: int, code: grpc.StatusCode) -> None:
        """Let `passes` calls through, then fail every later one: a target that breaks mid-run."""
        with self.lock:
            self.rules[method] = _Rule(1.0, code, random.Random(0), passes_left=passes)

    def answer(
        self,
        method: str,
        status: common_pb2.Status,
        times: int | None = None,
        keys: set[str] | None = None,
        passes: int = 0,
    ) -> None:
        """Answer `method` (Insert, Upsert or Delete) with a Milvus `status` instead of forwarding it.

        `keys`: only requests carrying one of these primary keys, as a server refuses one bad row's
        request; `passes`: let that many matching calls through first.
        """
        assert method in MUTATIONS
        with self.lock:
            self.answers[method] = _Answer(status, times, frozenset(keys or ()), passes)

    def clear(self) -> None:
        with self.lock:
            self.rules.clear()
            self.answers.clear()

    def answered_status(self, method: str, request: bytes) -> common_pb2.Status | None:
        name = method.rsplit("/", 1)[-1]
        with self.lock:
            rule = self.answers.get(name)
            if rule is None or rule.times == 0:
                return None
            if rule.keys and not _carries(request, name, rule.keys):
                return None
            if rule.passes > 0:
                rule.passes -= 1
                return None
            if rule.times is not None:
                rule.times -= 1
            self.answered[name] += 1
            return rule.status

    def injected(self, method: str) -> grpc.StatusCode | None:
        name = method.rsplit("/", 1)[-1]
        with self.lock:
            self.calls[name] += 1
            rule = self.rules.get(name)
            if rule is not None and rule.passes_left > 0:
                rule.passes_left -= 1
                return None
            if rule is None or rule.rng.random() >= rule.share:
                return None
            self.failures[name] += 1
            return rule.code


NO_DEADLINE = 1e9
_HOP_HEADERS = {"user-agent", "grpc-accept-encoding", "grpc-timeout", "content-type", "te"}


class _Forwarder(grpc.GenericRpcHandler):
    def __init__(self, proxy: FaultyMilvusProxy, upstream: grpc.Channel) -> None:
        self._proxy = proxy
        self._upstream = upstream

    def _authenticate(self, context: grpc.ServicerContext) -> None:
        """Like a Zilliz endpoint: a missing or wrong token is refused before anything runs."""
        if self._proxy.token is None:
            return
        expected = base64.b64encode(self._proxy.token.encode()).decode()
        sent = dict(context.invocation_metadata()).get("authorization")
        if sent != expected:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "invalid token")

    def service(self, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler:
        method = details.method
        call = self._upstream.unary_unary(method)

        def forward(request: bytes, context: grpc.ServicerContext) -> Any:
            if self._proxy.latency:
                time.sleep(self._proxy.latency)
            self._authenticate(context)
            if self._proxy.version is not None and method.endswith("/GetVersion"):
                return milvus_pb2.GetVersionResponse(version=self._proxy.version).SerializeToString()
            with self._proxy.lock:
                self._proxy.sizes.setdefault(method.rsplit("/", 1)[-1], []).append(len(request))
            code = self._proxy.injected(method)
            if code is None and len(request) > self._proxy.max_request_bytes:
                with self._proxy.lock:
                    self._proxy.failures[method.rsplit("/", 1)[-1]] += 1
                context.abort(
                    grpc.StatusCode.RESOURCE_EXHAUSTED,
                    f"SERVER: Received message larger than max ({len(request)} vs. {self._proxy.max_request_bytes})",
                )
            if code is not None:
                context.abort(code, f"injected fault on {method.rsplit('/', 1)[-1]}")
            status = self._proxy.answered_status(method, request)
            if status is not None:
                return milvus_pb2.MutationResult(status=status).SerializeToString()
            metadata = [(k, v) for k, v in context.invocation_metadata() if k not in _HOP_HEADERS]
            remaining = context.time_remaining()
            try:
                return call(
                    request, metadata=metadata, timeout=remaining if remaining < NO_DEADLINE else None
                )
            except grpc.RpcError as error:
                context.abort(error.code(), error.details())

        identity: Callable[[bytes], bytes] = lambda raw: raw  # noqa: E731
        return grpc.unary_unary_rpc_method_handler(
            forward, request_deserializer=identity, response_serializer=identity
        )


@contextmanager
def faulty_proxy(
    upstream_uri: str, token: str | None = None, latency: float = 0.0, max_request_bytes: int = 256 << 20
) -> Iterator[FaultyMilvusProxy]:
    """`max_request_bytes` is a receive limit like Milvus's `serverMaxRecvSize`: a larger request fails
    with the status and words gRPC itself uses, and is counted (gRPC's own limit would hide it)."""
    target = upstream_uri.split("://", 1)[-1]
    options = [("grpc.max_receive_message_length", 256 << 20), ("grpc.max_send_message_length", 256 << 20)]
    upstream = grpc.insecure_channel(target, options=options)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16), options=options)
    port = server.add_insecure_port("127.0.0.1:0")
    proxy = FaultyMilvusProxy(port=port, token=token, latency=latency, max_request_bytes=max_request_bytes)
    server.add_generic_rpc_handlers((_Forwarder(proxy, upstream),))
    server.start()
    try:
        yield proxy
    finally:
        server.stop(grace=1).wait()
        upstream.close()
