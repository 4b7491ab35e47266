"""`python -m benchmarks.sync`: a 1% change synced by time against today's full merge, in one run.

Two collections hold the same objects (`data.py`), one with `indexTimestamps` and one without; both are
copied, both get the same change (half of it new objects, half updates), and each is synced once with
`migrated_batches` on the same Dagster instance. The sync by time reads the changes; the merge reads every
id of both sides. The result is time and objects read from the source (counted by the test Weaviate on
the wire) for each, and their ratios. Both servers run in this process (the test Weaviate, Milvus Lite):
a ratio of two syncs on the same machine, not an absolute throughput. The safety margin is 0 here: the
test Weaviate has one clock and applies a write before it answers, and with the margin the re-read of
the changes of its last seconds would be measured instead (docs/cutover.md says what it costs).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import BaseModel
from weaviate.classes.data import DataObject

from benchmarks import data
from w2z_dagster.defs.assets import ASSETS
from w2z_dagster.defs.io_managers import CATALOG, CatalogIOManager
from w2z_dagster.defs.resources import WeaviateResource, ZillizResource
from w2z_dagster.lib.metadata import CopyMetadataSet
from w2z_dagster_tests.support.weaviate_server import WeaviateTestServer, start_server
from w2z_dagster_tests.support.weaviate_server.objects import ObjectInput, put_batch
from w2z_dagster_tests.support.weaviate_server.schema_json import build_class
from w2z_dagster_tests.support.weaviate_server.store import Collection

BY_TIME, BY_MERGE = "SyncByTime", "SyncByMerge"


class SyncFigure(BaseModel):
    collection: str
    changes_found_by: str
    seconds: float
    objects_read: int
    added: int
    updated: int


class SyncReport(BaseModel):
    objects: int
    dim: int
    changed: int
    by_time: SyncFigure
    by_merge: SyncFigure
    time_ratio: float
    read_ratio: float


def _create(server: WeaviateTestServer, name: str, timestamps: bool, objects: int, dim: int) -> None:
    """Straight into the store, as `weaviate_process.load` does: far faster than the batch API."""
    body = {**data.CLASS_BODY, "class": name, "invertedIndexConfig": {"indexTimestamps": timestamps}}
    with server.store.lock:
        class_json = build_class(body, server.store.collections)
        server.store.collections[name] = Collection(class_json)
    for start, block in data.chunks(objects, dim):
        inputs = [
            ObjectInput(
                name,
                "",
                data.object_uuid(i),
                data.properties(i),
                vectors={"default": (block[i - start].astype("<f4").tobytes(), False)},
            )
            for i in range(start, start + len(block))
        ]
        put_batch(server.store, list(enumerate(inputs)))


def _add(server: WeaviateTestServer, name: str, indexes: range, dim: int) -> None:
    """The change arrives as an application's would: through weaviate-client."""
    block = data.vectors(indexes.start, indexes.stop, dim)
    with server.connect() as client:
        client.collections.use(name).data.insert_many(
            [
                DataObject(
                    uuid=data.object_uuid(i),
                    properties=data.properties(i),
                    vector=block[i - indexes.start].tolist(),
                )
                for i in indexes
            ]
        )


def _update(server: WeaviateTestServer, name: str, indexes: range) -> None:
    with server.connect() as client:
        collection = client.collections.use(name)
        for i in indexes:
            collection.data.update(uuid=data.object_uuid(i), properties={"title": f"changed {i}"})


def _materialize(
    instance: dg.DagsterInstance, resources: dict[str, Any], name: str, assets: list[Any]
) -> Any:
    result = dg.materialize(
        ASSETS[:3],
        selection=assets,
        partition_key=name,
        instance=instance,
        resources=resources,
        run_config={"ops": {"migrated_batches": {"config": {"batch_size": 1000}}}}
        if ASSETS[2] in assets
        else None,
    )
    if not result.success:
        raise RuntimeError(f"materializing {name} failed")
    return result


def _sync(
    server: WeaviateTestServer, instance: dg.DagsterInstance, resources: dict[str, Any], name: str
) -> SyncFigure:
    _materialize(instance, resources, name, ASSETS[:2])
    with server.store.lock:
        server.store.objects_read = 0
    started = time.perf_counter()
    result = _materialize(instance, resources, name, [ASSETS[2]])
    seconds = time.perf_counter() - started
    with server.store.lock:
        read = server.store.objects_read
    copy = CopyMetadataSet.extract(result.asset_materializations_for_node("migrated_batches")[0].metadata)
    return SyncFigure(
        collection=name,
        changes_found_by=copy.changes_found_by or "",
        seconds=round(seconds, 3),
        objects_read=read,
        added=copy.added or 0,
        updated=copy.updated or 0,
    )


def measure(objects: int, dim: int, workdir: Path) -> SyncReport:
    changed = max(2, objects // 100)
    with start_server() as server, dg.instance_for_test(temp_dir=str(workdir)) as instance:
        resources = {
            CATALOG: CatalogIOManager(),
            "weaviate": WeaviateResource(
                endpoint=server.http_url,
                grpc_endpoint=f"http://{server.host}:{server.grpc_port}",
                sync_margin_seconds=0,
            ),
            "zilliz": ZillizResource(uri=str(workdir / "target.db")),
        }
        for name, timestamps in ((BY_TIME, True), (BY_MERGE, False)):
            _create(server, name, timestamps, objects, dim)
            instance.add_dynamic_partitions("weaviate_collections", [name])
            _materialize(instance, resources, name, ASSETS[:3])
        figures = []
        for name in (BY_TIME, BY_MERGE):
            _add(server, name, range(objects, objects + changed // 2), dim)
            _update(server, name, range(0, changed - changed // 2))
            figures.append(_sync(server, instance, resources, name))
    by_time, by_merge = figures
    return SyncReport(
        objects=objects,
        dim=dim,
        changed=changed,
        by_time=by_time,
        by_merge=by_merge,
        time_ratio=round(by_time.seconds / by_merge.seconds, 3),
        read_ratio=round(by_time.objects_read / by_merge.objects_read, 4),
    )


def main(argv: Sequence[str] | None = None) -> SyncReport:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sync", description=__doc__)
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=32)
    parser.add_argument("--out", type=Path, help="also write the result as JSON into this folder")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="w2z-bench-sync-") as workdir:
        report = measure(args.objects, args.dim, Path(workdir))
    for figure in (report.by_time, report.by_merge):
        print(
            f"{figure.changes_found_by:>5}: {figure.seconds:8.2f} s, {figure.objects_read:>8} objects read "
            f"({figure.added} added, {figure.updated} updated)"
        )
    print(f"by time / merge: time {report.time_ratio:.3f}, objects read {report.read_ratio:.4f}")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        path = args.out / f"sync-{args.objects}x{args.dim}.json"
        path.write_text(json.dumps(report.model_dump(mode="json"), indent=2))
        print(f"wrote {path}")
    return report


if __name__ == "__main__":
    main()
