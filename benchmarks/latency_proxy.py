"""A gRPC hop in front of Milvus that delays every call by a fixed time, as a cloud endpoint would.

It forwards raw request and reply bytes (pymilvus is never mocked) and runs as its own process, so the
forwarding work is charged neither to the migrating process nor to the Milvus server.

    python -m benchmarks.latency_proxy --upstream 127.0.0.1:P --latency 0.02   # prints `ready port=Q`
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from concurrent import futures
from typing import Any

import grpc

MESSAGE_LIMIT = 256 << 20
NO_DEADLINE = 1e9
_HOP_HEADERS = {"user-agent", "grpc-accept-encoding", "grpc-timeout", "content-type", "te"}


def _identity(raw: bytes) -> bytes:
    return raw


class _Delayed(grpc.GenericRpcHandler):
    def __init__(self, upstream: grpc.Channel, latency: float) -> None:
        self._upstream = upstream
        self._latency = latency

    def service(self, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler:
        call = self._upstream.unary_unary(details.method)

        def forward(request: bytes, context: grpc.ServicerContext) -> Any:
            time.sleep(self._latency)
            metadata = [(k, v) for k, v in context.invocation_metadata() if k not in _HOP_HEADERS]
            remaining = context.time_remaining()
            try:
                return call(
                    request, metadata=metadata, timeout=remaining if remaining < NO_DEADLINE else None
                )
            except grpc.RpcError as error:
                context.abort(error.code(), error.details())

        return grpc.unary_unary_rpc_method_handler(
            forward, request_deserializer=_identity, response_serializer=_identity
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.latency_proxy")
    parser.add_argument("--upstream", required=True, help="host:port of the Milvus server")
    parser.add_argument("--latency", type=float, required=True, help="seconds added to every call")
    args = parser.parse_args(argv)
    options = [
        ("grpc.max_receive_message_length", MESSAGE_LIMIT),
        ("grpc.max_send_message_length", MESSAGE_LIMIT),
    ]
    upstream = grpc.insecure_channel(args.upstream, options=options)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16), options=options)
    port = server.add_insecure_port("127.0.0.1:0")
    server.add_generic_rpc_handlers((_Delayed(upstream, args.latency),))
    server.start()
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    print(f"ready port={port}", flush=True)
    stopping.wait()
    server.stop(grace=1).wait()
    upstream.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
