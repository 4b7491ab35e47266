"""Issue 5's fault proof: transient failures on both sides are absorbed; permanent ones stop the run at
its last good checkpoint, and a rerun after the fault clears completes the copy."""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
import grpc
import pytest
from pymilvus import MilvusClient

from w2z_dagster.records import latest_checkpoint
from w2z_dagster.resources import WeaviateResource, ZillizResource
from w2z_dagster_tests.milvus_proxy import FaultyMilvusProxy, faulty_proxy
from w2z_dagster_tests.milvus_server import MilvusServer
from w2z_dagster_tests.seeding import ASSETS, seed_articles
from w2z_dagster_tests.weaviate_server import WeaviateTestServer

OBJECTS = 120
BATCH = 10


@pytest.fixture
def proxy(milvus_server: MilvusServer) -> Iterator[FaultyMilvusProxy]:
    with faulty_proxy(milvus_server.uri) as faulty:
        yield faulty


def _resources(server: WeaviateTestServer, proxy: FaultyMilvusProxy) -> dict[str, dg.ConfigurableResource]:
    return {
        "weaviate": WeaviateResource(
            endpoint=server.http_url,
            grpc_endpoint=f"http://{server.host}:{server.grpc_port}",
            max_retries=8,
            retry_delay=0.01,
        ),
        "zilliz": ZillizResource(uri=proxy.uri, max_retries=8, retry_delay=0.01),
    }


def _materialize(instance: dg.DagsterInstance, resources: dict, **config: float) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        ASSETS,
        partition_key="Articles",
        instance=instance,
        resources=resources,
        run_config={"ops": {"migrated_batches": {"config": {"batch_size": BATCH, **config}}}},
        raise_on_error=False,
    )


def _count(uri: str) -> int:
    return MilvusClient(uri).query("Articles", filter="", output_fields=["count(*)"])[0]["count(*)"]


def test_transient_faults_on_both_sides_are_retried_to_an_exact_copy(
    weaviate_server: WeaviateTestServer, proxy: FaultyMilvusProxy, milvus_server: MilvusServer, instance
) -> None:
    with weaviate_server.connect() as client:
        seed_articles(client, n=OBJECTS)
    instance.add_dynamic_partitions("weaviate_collections", ["Articles"])
    weaviate_server.faults.fail_share("Search", 0.3, grpc.StatusCode.DEADLINE_EXCEEDED, seed=1)
    proxy.fail_share("Upsert", 0.3, grpc.StatusCode.RESOURCE_EXHAUSTED, seed=2)

    result = _materialize(instance, _resources(weaviate_server, proxy))

    assert result.success
    assert proxy.failures["Upsert"] > 0
    assert weaviate_server.faults.calls("Search") > OBJECTS // BATCH + 1
    assert _count(milvus_server.uri) == OBJECTS
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert all(checks.values()) and len(checks) == 7


def test_a_permanent_fault_stops_at_the_last_good_batch_and_a_rerun_completes(
    weaviate_server: WeaviateTestServer, proxy: FaultyMilvusProxy, milvus_server: MilvusServer, instance
) -> None:
    with weaviate_server.connect() as client:
        seed_articles(client, n=OBJECTS)
    instance.add_dynamic_partitions("weaviate_collections", ["Articles"])
    resources = _resources(weaviate_server, proxy)
    proxy.fail_after("Upsert", 4, grpc.StatusCode.PERMISSION_DENIED)

    failed = _materialize(instance, resources, checkpoint_interval_seconds=3600)

    assert not failed.success
    recorded = [o.metadata["batches"].value for o in failed.asset_observations_for_node("migrated_batches")]
    assert recorded == [1, 4], "the first write is recorded at once, the last good one when the run fails"
    checkpoint = latest_checkpoint(instance, dg.AssetKey("migrated_batches"), "Articles")
    assert (checkpoint.batches, checkpoint.objects, checkpoint.status.value) == (4, 4 * BATCH, "running")
    assert _count(milvus_server.uri) == 4 * BATCH

    proxy.clear()
    rerun = _materialize(instance, resources)

    assert rerun.success
    assert _count(milvus_server.uri) == OBJECTS
    metadata = rerun.asset_materializations_for_node("migrated_batches")[0].metadata
    assert (metadata["objects"].value, metadata["batches"].value) == (OBJECTS, OBJECTS // BATCH)
