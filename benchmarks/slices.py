"""The slices scenario: one collection copied in K = 1, 2, 4 slice runs side by side, with latency.

    python -m benchmarks.slices [--objects N] [--dim D] [--latency S] [--ks 1,2,4]

For each K, on a fresh Milvus and Dagster instance: the schema, target and a K-slice plan are
materialized (untimed), then K child processes each run one `migrate_slices_job` run at once, as a run
launcher would. The figure is the aggregate objects/s over the wall time from the first start to the
last end, against K = 1, with the peak RSS of each slice run; the aim is ≥ 0.8 × K until the box's CPU is
the limit (every process, both servers included, shares the same cores).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from benchmarks import data, servers
from benchmarks.run import RESULTS


class SliceRun(BaseModel):
    objects: int
    seconds: float
    peak_rss_mb: float


class Figure(BaseModel):
    slices: int
    objects: int
    seconds: float
    objects_per_s: float
    speedup: float
    peak_rss_mb: list[float]


def _env(home: str, weaviate: servers.Weaviate, milvus_uri: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(servers.ROOT),
        "DAGSTER_HOME": home,
        "WEAVIATE_ENDPOINT": weaviate.http,
        "WEAVIATE_GRPC_ENDPOINT": weaviate.grpc,
        "ZILLIZ_CLOUD_URI": milvus_uri,
    }


def plan(slices: int) -> None:
    """Child: schema, target and the slice plan, in the instance of DAGSTER_HOME."""
    import dagster as dg

    from w2z_dagster.cli.runs import register_partitions
    from w2z_dagster.definitions import defs

    instance = dg.DagsterInstance.get()
    register_partitions(instance, [data.COLLECTION])
    result = (
        defs()
        .resolve_job_def("plan_slices_job")
        .execute_in_process(
            partition_key=data.COLLECTION,
            instance=instance,
            run_config={"ops": {"slice_plan": {"config": {"slices": slices, "min_slice_objects": 1}}}},
        )
    )
    if not result.success:
        raise RuntimeError("planning the slices failed")


def run_slice(index: int, page_size: int, write_rows: int) -> SliceRun:
    """Child: one slice run, timed from its start to its end; slice -1 is the unsliced copy (K = 1)."""
    import dagster as dg

    from w2z_dagster.cli.runs import materialize_collection
    from w2z_dagster.definitions import defs
    from w2z_dagster.defs.assets import migrated_batches
    from w2z_dagster.lib.metadata import CopyMetadataSet
    from w2z_dagster.lib.slices import slice_partition

    instance = dg.DagsterInstance.get()
    definitions = defs()
    config = {"batch_size": page_size, "write_batch_size": write_rows}
    started = time.perf_counter()
    if index < 0:
        result = materialize_collection(
            definitions, instance, data.COLLECTION, config, assets=[migrated_batches]
        )
        node = "migrated_batches"
    else:
        result = definitions.resolve_job_def("migrate_slices_job").execute_in_process(
            partition_key=slice_partition(data.COLLECTION, index),
            instance=instance,
            run_config={"ops": {"migrated_slices": {"config": config}}},
        )
        node = "migrated_slices"
    seconds = time.perf_counter() - started
    if not result.success:
        raise RuntimeError(f"slice {index} failed")
    copied = CopyMetadataSet.extract(result.asset_materializations_for_node(node)[0].metadata)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return SliceRun(objects=copied.objects or 0, seconds=seconds, peak_rss_mb=peak)


def _child(args: Sequence[str], env: dict[str, str], cwd: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "benchmarks.slices", *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _measure(
    k: int, weaviate: servers.Weaviate, latency: float, options: argparse.Namespace
) -> list[SliceRun]:
    with servers.milvus(latency) as milvus, tempfile.TemporaryDirectory(prefix="w2z-bench-slices-") as home:
        env = _env(home, weaviate, milvus.uri)
        planned = _child(["plan", str(k)], env, home)
        _, err = planned.communicate()
        if planned.returncode != 0:
            raise RuntimeError(f"plan of {k} slices failed:\n{err[-4000:]}")
        indexes = range(k) if k > 1 else [-1]
        children = [
            _child(["slice", str(i), str(options.page_size), str(options.write_batch_rows)], env, home)
            for i in indexes
        ]
        runs = []
        for i, child in enumerate(children):
            out, err = child.communicate()
            if child.returncode != 0:
                raise RuntimeError(f"slice {i} of {k} failed:\n{err[-4000:]}")
            runs.append(SliceRun.model_validate_json(out.strip().splitlines()[-1]))
        return runs


def main(argv: Sequence[str] | None = None) -> list[Figure]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.slices", description=__doc__)
    parser.add_argument("--objects", type=int, default=20_000)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per call on both sides")
    parser.add_argument("--ks", default="1,2,4", help="slice counts to measure, comma-separated")
    parser.add_argument("--page-size", type=int, default=250)
    parser.add_argument("--write-batch-rows", type=int, default=1000)
    options = parser.parse_args(argv)
    figures: list[Figure] = []
    with servers.weaviate(options.objects, options.dim) as weaviate:
        weaviate.set_latency(options.latency)
        for k in (int(v) for v in options.ks.split(",")):
            wall = time.perf_counter()
            runs = _measure(k, weaviate, options.latency, options)
            seconds = max(r.seconds for r in runs)
            objects = sum(r.objects for r in runs)
            rate = objects / seconds
            base = figures[0].objects_per_s if figures else rate
            figures.append(
                Figure(
                    slices=k,
                    objects=objects,
                    seconds=round(seconds, 2),
                    objects_per_s=round(rate, 1),
                    speedup=round(rate / base, 2),
                    peak_rss_mb=[round(r.peak_rss_mb, 1) for r in runs],
                )
            )
            print(
                f"K={k}: {objects} objects in {seconds:.1f} s = {rate:.0f} objects/s "
                f"({rate / base:.2f}x K=1; goal {0.8 * k:.1f}x), peak RSS per slice "
                f"{', '.join(f'{r.peak_rss_mb:.0f}' for r in runs)} MB (wall incl. setup {time.perf_counter() - wall:.0f} s)",
                flush=True,
            )
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"slices-{datetime.now(UTC):%Y%m%dT%H%M%S}-{options.objects}x{options.dim}.json"
    record: dict[str, Any] = {"options": vars(options), "figures": [f.model_dump() for f in figures]}
    path.write_text(json.dumps(record, indent=2))
    print(f"wrote {path}", flush=True)
    return figures


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "plan":
        plan(int(sys.argv[2]))
    elif len(sys.argv) > 1 and sys.argv[1] == "slice":
        print(run_slice(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])).model_dump_json(), flush=True)
    else:
        main()
