"""A gRPC hop in front of Milvus that delays every call by a fixed time, as a cloud endpoint would.

It is the tests' forwarding proxy (raw request and reply bytes; pymilvus is never mocked) run as its own
process, so the forwarding work is charged neither to the migrating process nor to the Milvus server.

    python -m benchmarks.latency_proxy --upstream 127.0.0.1:P --latency 0.02   # prints `ready port=Q`
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from w2z_dagster_tests.support.milvus_proxy import faulty_proxy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.latency_proxy")
    parser.add_argument("--upstream", required=True, help="host:port of the Milvus server")
    parser.add_argument("--latency", type=float, required=True, help="seconds added to every call")
    args = parser.parse_args(argv)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    with faulty_proxy(f"http://{args.upstream}", latency=args.latency) as proxy:
        print(f"ready port={proxy.port}", flush=True)
        stopping.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
