"""The measured scenarios; each runs in a child process of its own so its peak RSS is its own.

    python -m benchmarks.scenarios NAME CONFIG_JSON   # last stdout line: the result as JSON

Only the part a scenario is about is timed: connecting, creating the target collection and preparing
rows happen before the clock starts.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

from pydantic import BaseModel

from benchmarks import data


class Setup(BaseModel):
    """Where the servers are and what to move; the parent passes it as JSON."""

    weaviate_http: str
    weaviate_grpc: str
    milvus_uri: str = ""
    objects: int
    dim: int
    page_size: int
    write_batch_rows: int | None = None
    insert: bool = True
    limit: int | None = None
    dagster_home: str = ""


class Timed(NamedTuple):
    objects: int
    seconds: float
    cpu_s: float
    ended_at: float
    note: str = ""


class _Stopwatch:
    """Wall time and this process's CPU time (every thread) of the timed part."""

    def __init__(self) -> None:
        self._wall = time.perf_counter()
        self._cpu = time.process_time()

    def stop(self, objects: int, note: str = "") -> Timed:
        seconds, cpu = time.perf_counter() - self._wall, time.process_time() - self._cpu
        return Timed(objects, seconds, cpu, time.time(), note)


class Measured(BaseModel):
    """One run: the child's timed part and peak RSS, and the CPU both servers spent meanwhile.

    `settle_s` is how long Milvus kept working on the rows after the timed part (its index backlog):
    `seconds + settle_s` is the time until the target holds the rows indexed, not just acknowledged.
    """

    objects: int
    seconds: float
    cpu_s: float
    ended_at: float
    peak_rss_mb: float
    note: str = ""
    weaviate_cpu_s: float = 0.0
    milvus_cpu_s: float = 0.0
    settle_s: float = 0.0


@contextmanager
def _weaviate(setup: Setup) -> Iterator[Any]:
    from w2z_dagster.core.source import connect

    client = connect(setup.weaviate_http, setup.weaviate_grpc, None)
    try:
        yield client
    finally:
        client.close()


def read_only(setup: Setup) -> Timed:
    """What the source allows: the cursor through weaviate-client, every object discarded."""
    with _weaviate(setup) as client:
        collection = client.collections.use(data.COLLECTION)
        clock = _Stopwatch()
        count = sum(1 for _ in collection.iterator(include_vector=True, cache_size=setup.page_size))
        return clock.stop(count)


def _target(setup: Setup) -> Any:
    """The target collection exactly as w2z plans it, so every writer fills the same schema and index
    (the profile as the resource resolves it: a `milvus-lite server` behind a URL plans as Lite)."""
    from w2z_dagster.core.mapping import build_plan
    from w2z_dagster.core.profiles import profile_for_server, profile_for_uri
    from w2z_dagster.core.retry import RetryPolicy
    from w2z_dagster.core.sink import open_sink
    from w2z_dagster.core.source import WeaviateSource

    with _weaviate(setup) as client:
        schema = WeaviateSource(client, RetryPolicy(3, 1.0)).read_schema(data.COLLECTION)
    with open_sink(setup.milvus_uri, None, "default", RetryPolicy(3, 1.0)) as sink:
        version = sink.check_version()
    return build_plan(schema, profile_for_server(profile_for_uri(setup.milvus_uri), version))


def write_only(setup: Setup) -> Timed:
    """What the target allows: the same rows, transformed in advance, written into an empty collection."""
    from w2z_dagster.core.retry import RetryPolicy
    from w2z_dagster.core.schema import SourceObject
    from w2z_dagster.core.sink import open_sink
    from w2z_dagster.core.transform import to_rows

    plan = _target(setup)
    size = setup.write_batch_rows or setup.page_size
    batches = []
    for start, block in data.chunks(setup.objects, setup.dim, size):
        page = [
            SourceObject(
                uuid=data.object_uuid(i), properties=data.properties(i), vectors={"default": block[i - start]}
            )
            for i in range(start, start + len(block))
        ]
        batches.append(to_rows(page, plan).rows)
    with open_sink(setup.milvus_uri, None, "default", RetryPolicy(3, 1.0)) as sink:
        sink.ensure_collection(plan)
        clock = _Stopwatch()
        for rows in batches:
            sink.write(plan.target, rows, insert=setup.insert)
        return clock.stop(sum(len(b) for b in batches))


def baseline(setup: Setup) -> Timed:
    """The older script's loop, written plainly: fetch a page, convert it, insert it, then the next.

    Its target has the older script's shape (the properties and the vector, no w2z bookkeeping fields)
    and the same vector index as w2z's, so the index build costs both the same.
    """
    from pymilvus import MilvusClient

    index = _target(setup).indexes[0]
    milvus = MilvusClient(uri=setup.milvus_uri)
    _create_plain(milvus, setup.dim, index)
    count = 0
    with _weaviate(setup) as client:
        collection = client.collections.use(data.COLLECTION)
        clock = _Stopwatch()
        after = None
        while True:
            page = collection.query.fetch_objects(limit=setup.page_size, after=after, include_vector=True)
            if not page.objects:
                break
            rows = [{"id": str(o.uuid), **o.properties, "vector": o.vector["default"]} for o in page.objects]
            milvus.insert(data.COLLECTION, rows)
            count += len(rows)
            after = page.objects[-1].uuid
        timed = clock.stop(count)
    milvus.close()
    return timed


def _create_plain(milvus: Any, dim: int, index: Any) -> None:
    from pymilvus import DataType

    schema = milvus.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.VARCHAR, max_length=36, is_primary=True)
    for name in ("title", "category"):
        schema.add_field(name, DataType.VARCHAR, max_length=65_535)
    schema.add_field("views", DataType.INT64)
    schema.add_field("score", DataType.DOUBLE)
    schema.add_field("published", DataType.BOOL)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
    params = milvus.prepare_index_params()
    params.add_index(
        field_name="vector", index_type=index.index_type, metric_type=index.metric, params=index.params
    )
    milvus.create_collection(data.COLLECTION, schema=schema, index_params=params, consistency_level="Strong")


def w2z(setup: Setup) -> Timed:
    """The `migrated_batches` asset through Dagster, checkpoints and all, in a fresh instance.

    The schema and target collection are materialized first, untimed; the timed run is the migration.
    """
    os.environ.update(
        {
            "DAGSTER_HOME": setup.dagster_home,
            "WEAVIATE_ENDPOINT": setup.weaviate_http,
            "WEAVIATE_GRPC_ENDPOINT": setup.weaviate_grpc,
            "ZILLIZ_CLOUD_URI": setup.milvus_uri,
        }
    )
    import dagster as dg

    from w2z_dagster.cli.runs import materialize_collection, register_partitions
    from w2z_dagster.definitions import defs
    from w2z_dagster.defs.assets import ASSETS, migrated_batches
    from w2z_dagster.lib.metadata import CopyMetadataSet

    definitions = defs()
    instance = dg.DagsterInstance.get()
    register_partitions(instance, [data.COLLECTION])
    prepared = materialize_collection(definitions, instance, data.COLLECTION, assets=ASSETS[:2])
    if not prepared.success:
        raise RuntimeError("preparing the schema and target collection failed")
    config: dict[str, Any] = {
        "batch_size": setup.page_size,
        "write_batch_size": setup.write_batch_rows,
        "insert_when_safe": setup.insert,
    }
    if setup.limit is not None:
        config["limit"] = setup.limit
    clock = _Stopwatch()
    result = materialize_collection(definitions, instance, data.COLLECTION, config, assets=[migrated_batches])
    timed = clock.stop(0, "")
    if not result.success:
        raise RuntimeError("the migrated_batches run failed")
    metadata = CopyMetadataSet.extract(result.asset_materializations_for_node("migrated_batches")[0].metadata)
    return timed._replace(objects=metadata.objects)


SCENARIOS: dict[str, Callable[[Setup], Timed]] = {
    "read-only": read_only,
    "write-only": write_only,
    "baseline": baseline,
    "w2z": w2z,
}


def main(argv: list[str]) -> int:
    name, raw = argv
    timed = SCENARIOS[name](Setup.model_validate_json(raw))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(Measured(peak_rss_mb=peak_mb, **timed._asdict()).model_dump_json(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
