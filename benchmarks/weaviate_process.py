"""The test Weaviate as its own process, preloaded with the benchmark data set.

Its memory and CPU must not be counted as the migrating process's, so it never runs inside a scenario.
Objects go straight into the server's store through its own validation (the path the demo seed uses),
which loads 100,000 objects far faster than the gRPC batch API would. The parent controls injected
latency through stdin (`latency SECONDS` → `ok`); end of stdin stops the server.

    python -m benchmarks.weaviate_process --objects N --dim D   # prints `ready http=P grpc=Q`
"""

from __future__ import annotations

import argparse
import sys

from benchmarks import data
from w2z_dagster_tests.support.weaviate_server import start_server
from w2z_dagster_tests.support.weaviate_server.objects import ObjectInput, put_batch
from w2z_dagster_tests.support.weaviate_server.schema_json import build_class
from w2z_dagster_tests.support.weaviate_server.store import Collection, Store


def load(store: Store, objects: int, dim: int) -> None:
    with store.lock:
        class_json = build_class(data.CLASS_BODY, store.collections)
        store.collections[class_json["class"]] = Collection(class_json)
    for start, block in data.chunks(objects, dim):
        inputs = [
            ObjectInput(
                data.COLLECTION,
                "",
                data.object_uuid(i),
                data.properties(i),
                vectors={"default": (block[i - start].astype("<f4").tobytes(), False)},
            )
            for i in range(start, start + len(block))
        ]
        errors = put_batch(store, list(enumerate(inputs)))
        if errors:
            raise RuntimeError(f"benchmark data rejected: {next(iter(errors.values()))}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.weaviate_process")
    parser.add_argument("--objects", type=int, required=True)
    parser.add_argument("--dim", type=int, required=True)
    args = parser.parse_args(argv)
    server = start_server(host="127.0.0.1", http_port=0, grpc_port=0)
    try:
        load(server.store, args.objects, args.dim)
        print(f"ready http={server.http_port} grpc={server.grpc_port}", flush=True)
        for line in sys.stdin:
            command, _, value = line.strip().partition(" ")
            if command == "latency":
                server.faults.set_latency(float(value))
                print("ok", flush=True)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
