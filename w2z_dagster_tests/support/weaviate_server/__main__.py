"""CLI: `python -m w2z_dagster_tests.support.weaviate_server --http-port 8080 --grpc-port 50051 [--seed demo]`.

Prints one `ready http=PORT grpc=PORT` line once both ports accept connections, serves until
SIGTERM or SIGINT, then exits 0.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from .server import start_server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m w2z_dagster_tests.support.weaviate_server", description=__doc__
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--http-port", type=int, default=8080, help="0 picks a free port")
    parser.add_argument("--grpc-port", type=int, default=50051, help="0 picks a free port")
    parser.add_argument("--api-key", default=None, help="require `Authorization: Bearer <key>`")
    parser.add_argument("--seed", choices=["demo"], default=None, help="load a data set at start")
    parser.add_argument(
        "--modules",
        default=None,
        help="comma-separated enabled modules (default: every module of the catalog; '' for none)",
    )
    args = parser.parse_args(argv)

    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        server = start_server(
            host=args.host,
            http_port=args.http_port,
            grpc_port=args.grpc_port,
            api_key=args.api_key,
            seed=args.seed,
            modules=None if args.modules is None else [m for m in args.modules.split(",") if m],
        )
    except ValueError as exc:
        parser.error(str(exc))
    print(f"ready http={server.http_port} grpc={server.grpc_port}", flush=True)
    try:
        while not stopping.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
