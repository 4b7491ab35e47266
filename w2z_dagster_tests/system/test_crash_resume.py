"""Issue 5's crash proof: SIGKILL the migrating process at many points, rerun, and find an exact copy."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import dagster as dg
import numpy as np
import pytest
import weaviate.classes.config as wc
from pymilvus import MilvusClient
from weaviate.classes.data import DataObject
from weaviate.util import generate_uuid5

from w2z_dagster.cli import runs
from w2z_dagster.lib.checkpoints import latest_checkpoint
from w2z_dagster.lib.metadata import ReportMetadataSet
from w2z_dagster.lib.slices import recorded_plan, unfinished
from w2z_dagster_tests.support.milvus_server import MilvusServer
from w2z_dagster_tests.support.seeding import seed_multi_tenant
from w2z_dagster_tests.support.weaviate_server import WeaviateTestServer

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
TENANTS = ["t1", "t2", "t3"]
PER_TENANT = 100
KILLS = [
    ("before-write", 3),
    ("after-write", 5),
    ("in-transform", 2),
    ("in-read", 4),
    ("after-checkpoint", 3),
    ("after-write", 4),
]


def _child(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [
        sys.executable,
        "-m",
        "w2z_dagster_tests.support.crash_child",
        "Crashy",
        "--batch-size",
        "10",
        *args,
    ]
    return subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=240, check=False)


@pytest.fixture
def crash_env(
    tmp_path: Path,
    weaviate_server: WeaviateTestServer,
    milvus_server: MilvusServer,
) -> dict[str, str]:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    return {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "WEAVIATE_ENDPOINT": weaviate_server.http_url,
        "WEAVIATE_GRPC_ENDPOINT": f"http://{weaviate_server.host}:{weaviate_server.grpc_port}",
        "ZILLIZ_CLOUD_URI": milvus_server.uri,
        "MIGRATION_RETRY_DELAY": "0.01",
    }


def test_sigkill_anywhere_then_rerun_gives_an_exact_copy(
    crash_env: dict[str, str], weaviate_server: WeaviateTestServer, milvus_server: MilvusServer
) -> None:
    with weaviate_server.connect() as client:
        seed_multi_tenant(client, "Crashy", TENANTS, PER_TENANT)
    rng = random.Random(5)
    kills = [*KILLS, ("after-write", rng.randint(2, 8)), ("in-read", rng.randint(2, 8))]
    progress = []
    for point, at in kills:
        killed = _child(crash_env, "--kill", point, "--at", str(at))
        assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
        with dg.DagsterInstance.from_config(crash_env["DAGSTER_HOME"]) as instance:
            checkpoint = latest_checkpoint(instance, dg.AssetKey("migrated_batches"), "Crashy")
            progress.append(checkpoint.objects if checkpoint else 0)

    finished = _child(crash_env)

    assert finished.returncode == 0, finished.stderr[-3000:]
    assert progress == sorted(progress) and progress[-1] > 0, progress
    milvus = MilvusClient(milvus_server.uri)
    total = milvus.query("Crashy", filter="", output_fields=["count(*)"])[0]["count(*)"]
    keys = [r["id"] for r in milvus.query("Crashy", filter='id != ""', output_fields=["id"], limit=1000)]
    assert total == len(keys) == len(set(keys)) == len(TENANTS) * PER_TENANT
    with dg.DagsterInstance.from_config(crash_env["DAGSTER_HOME"]) as instance:
        report = instance.fetch_materializations(
            dg.AssetRecordsFilter(dg.AssetKey("verification_report"), asset_partitions=["Crashy"]), limit=1
        ).records[0]
        assert ReportMetadataSet.extract(report.asset_materialization.metadata).passed is True
        assert len(runs.collections_partitions.get_partition_keys(dynamic_partitions_store=instance)) == 1


SLICED = 600
SLICE_KILLS = [(0, "after-write", 3), (1, "before-write", 2), (1, "after-checkpoint", 4), (2, "in-read", 5)]


def test_sigkill_slice_runs_then_rerun_them_gives_an_exact_copy(
    crash_env: dict[str, str], weaviate_server: WeaviateTestServer, milvus_server: MilvusServer
) -> None:
    """Three slices of one collection, killed at several points each, rerun: one copy of every object."""
    with weaviate_server.connect() as client:
        collection = client.collections.create(
            "Crashy",
            properties=[wc.Property(name="n", data_type=wc.DataType.INT)],
            vector_config=wc.Configure.Vectors.self_provided(),
        )
        vectors = np.random.default_rng(2).random((SLICED, 8), dtype=np.float32).tolist()
        collection.data.insert_many(
            [
                DataObject(properties={"n": i}, uuid=generate_uuid5(i), vector=vectors[i])
                for i in range(SLICED)
            ]
        )
    assert _child(crash_env, "--plan", "3").returncode == 0
    rng = random.Random(9)
    kills = [*SLICE_KILLS, (rng.randint(0, 2), "after-write", rng.randint(2, 6))]
    with dg.DagsterInstance.from_config(crash_env["DAGSTER_HOME"]) as instance:
        cut = recorded_plan(instance, "Crashy")
    assert cut is not None and len(cut.slices) == 3
    for index, point, at in kills:
        killed = _child(crash_env, "--slice", str(index), "--kill", point, "--at", str(at))
        assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]

    for index in range(3):
        rerun = _child(crash_env, "--slice", str(index))
        assert rerun.returncode == 0, rerun.stderr[-3000:]
    finished = _child(crash_env)

    assert finished.returncode == 0, finished.stderr[-3000:]
    milvus = MilvusClient(milvus_server.uri)
    total = milvus.query("Crashy", filter="", output_fields=["count(*)"])[0]["count(*)"]
    keys = [r["id"] for r in milvus.query("Crashy", filter='id != ""', output_fields=["id"], limit=1000)]
    assert total == len(keys) == len(set(keys)) == SLICED
    with dg.DagsterInstance.from_config(crash_env["DAGSTER_HOME"]) as instance:
        assert unfinished(instance, cut) == []
        report = instance.fetch_materializations(
            dg.AssetRecordsFilter(dg.AssetKey("verification_report"), asset_partitions=["Crashy"]), limit=1
        ).records[0]
        assert ReportMetadataSet.extract(report.asset_materialization.metadata).passed is True
