"""Sync at the cost of what changed: changes found by time, deletions by counts, the merge as fallback.

Objects read are counted by the test Weaviate (`Store.objects_read`: every object and id gRPC Search
and REST return), so "under 5% of the collection" is measured on the wire, not inferred.
"""

from __future__ import annotations

from typing import Any

import dagster as dg
import numpy as np
import pytest
import weaviate
import weaviate.classes.config as wc
from pymilvus import MilvusClient
from weaviate.classes.data import DataObject
from weaviate.classes.query import Filter
from weaviate.classes.tenants import Tenant

from w2z_dagster.core.source import DIMENSION_SAMPLE
from w2z_dagster.defs.resources import WeaviateResource
from w2z_dagster.lib.metadata import CopyMetadataSet
from w2z_dagster_tests.support.seeding import (
    ALL_CHECKS,
    ARTICLE_PROPERTIES,
    ASSETS,
    article,
    uuid_of,
    vectors_only,
)
from w2z_dagster_tests.support.weaviate_server.server import WeaviateTestServer

pytestmark = pytest.mark.slow

N = 20_000
BATCH = 1000
SCHEMA_SAMPLE = DIMENSION_SAMPLE
"""`source_schema` reads this many objects of the first tenant to learn the vector dimensions."""


def _create(client: weaviate.WeaviateClient, name: str, *, timestamps: bool, tenants: list[str] = ()) -> Any:
    collection = client.collections.create(
        name,
        properties=ARTICLE_PROPERTIES,
        vector_config=wc.Configure.Vectors.self_provided(),
        inverted_index_config=wc.Configure.inverted_index(index_timestamps=timestamps),
        multi_tenancy_config=wc.Configure.multi_tenancy(enabled=bool(tenants)),
    )
    if tenants:
        collection.tenants.create([Tenant(name=t) for t in tenants])
    return collection


def _insert(collection: Any, ids: range, seed: int = 5) -> None:
    vectors = np.random.default_rng(seed).random((len(ids), 8), dtype=np.float32).tolist()
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        collection.data.insert_many(
            [
                DataObject(properties=article(i), uuid=uuid_of(i), vector=vectors[start + j])
                for j, i in enumerate(chunk)
            ]
        )


def _update(collection: Any, ids: range) -> None:
    for i in ids:
        collection.data.update(uuid=uuid_of(i), properties={"title": f"changed {i}"})


def _run(instance: dg.DagsterInstance, resources: dict, name: str) -> dg.ExecuteInProcessResult:
    result = dg.materialize(
        ASSETS,
        partition_key=name,
        instance=instance,
        resources=resources,
        run_config={"ops": {"migrated_batches": {"config": {"batch_size": BATCH}}}},
    )
    assert result.success
    return result


def _sync(
    instance: dg.DagsterInstance, resources: dict, server: WeaviateTestServer, name: str
) -> tuple[dict[str, Any], int]:
    """The copy's metadata and the objects the whole chain read from Weaviate, minus verification's reads."""
    with server.store.lock:
        server.store.objects_read = 0
    result = dg.materialize(
        ASSETS[:3],
        partition_key=name,
        instance=instance,
        resources=resources,
        run_config={"ops": {"migrated_batches": {"config": {"batch_size": BATCH}}}},
    )
    assert result.success
    with server.store.lock:
        read = server.store.objects_read
    metadata = CopyMetadataSet.extract(result.asset_materializations_for_node("migrated_batches")[0].metadata)
    return metadata.model_dump(), read


def _verified(instance: dg.DagsterInstance, resources: dict, name: str) -> dict[str, bool]:
    result = dg.materialize(
        ASSETS, selection=[ASSETS[0], ASSETS[3]], partition_key=name, instance=instance, resources=resources
    )
    return {e.check_name: e.passed for e in result.get_asset_check_evaluations()}


@pytest.fixture
def resources_fast(resources: dict) -> dict:
    """The suite's resources with no safety margin (the test server stamps writes with its own clock),
    planning vectors only."""
    source: WeaviateResource = resources["weaviate"]
    fields = {"endpoint": source.endpoint, "grpc_endpoint": source.grpc_endpoint, "retry_delay": 0.01}
    return vectors_only({**resources, "weaviate": WeaviateResource(**fields, sync_margin_seconds=0.0)})


def test_one_percent_changed_is_synced_reading_under_five_percent_and_deletions_by_counts(
    weaviate_server: WeaviateTestServer,
    weaviate_client: weaviate.WeaviateClient,
    instance: dg.DagsterInstance,
    resources_fast: dict,
    milvus_uri: str,
) -> None:
    resources = resources_fast
    articles = _create(weaviate_client, "Articles", timestamps=True)
    _insert(articles, range(N))
    instance.add_dynamic_partitions("weaviate_collections", ["Articles"])
    _run(instance, resources, "Articles")

    _insert(articles, range(N, N + N // 100), seed=6)
    _update(articles, range(0, N, 100))
    changed, changed_read = _sync(instance, resources, weaviate_server, "Articles")

    articles.data.delete_many(where=Filter.by_id().contains_any([uuid_of(i) for i in range(1, N, 100)]))
    deleted, deleted_read = _sync(instance, resources, weaviate_server, "Articles")

    assert {k: changed[k] for k in ("changes_found_by", "added", "updated", "deleted", "tenants_merged")} == {
        "changes_found_by": "time",
        "added": 200,
        "updated": 200,
        "deleted": 0,
        "tenants_merged": 0,
    }
    assert changed["objects_read"] == 400
    assert changed_read == SCHEMA_SAMPLE + 400
    assert changed_read < N // 20
    assert {k: deleted[k] for k in ("added", "updated", "deleted", "tenants_merged")} == {
        "added": 0,
        "updated": 0,
        "deleted": 200,
        "tenants_merged": 1,
    }
    assert deleted["objects_read"] == N + N // 100 - 200
    assert deleted_read == SCHEMA_SAMPLE + N + N // 100 - 200
    assert _verified(instance, resources, "Articles") == dict.fromkeys(ALL_CHECKS, True)
    milvus = MilvusClient(milvus_uri)
    assert milvus.get("Articles", ids=[uuid_of(300)], output_fields=["title"])[0]["title"] == "changed 300"
    assert milvus.get("Articles", ids=[uuid_of(101)]) == []


def _titles(milvus_uri: str, name: str, ids: range) -> list[str]:
    rows = MilvusClient(milvus_uri).get(name, ids=[uuid_of(i) for i in ids], output_fields=["title"])
    return sorted(r["title"] for r in rows)


def test_tenants_sync_by_time_and_only_a_tenant_whose_counts_differ_is_merged(
    weaviate_server: WeaviateTestServer,
    weaviate_client: weaviate.WeaviateClient,
    instance: dg.DagsterInstance,
    resources_fast: dict,
) -> None:
    shared = _create(weaviate_client, "Shared", timestamps=True, tenants=["a", "b", "c"])
    for tenant in ("a", "b", "c"):
        _insert(shared.with_tenant(tenant), range(2000))
    instance.add_dynamic_partitions("weaviate_collections", ["Shared"])
    _run(instance, resources_fast, "Shared")

    _insert(shared.with_tenant("a"), range(2000, 2020))
    shared.with_tenant("b").data.delete_many(
        where=Filter.by_id().contains_any([uuid_of(i) for i in range(0, 2000, 100)])
    )
    shared.tenants.remove(["c"])
    synced, read = _sync(instance, resources_fast, weaviate_server, "Shared")

    assert {k: synced[k] for k in ("changes_found_by", "added", "deleted", "tenants_merged")} == {
        "changes_found_by": "time",
        "added": 20,
        "deleted": 20 + 2000,
        "tenants_merged": 1,
    }
    assert read == SCHEMA_SAMPLE + 20 + 1980
    assert all(_verified(instance, resources_fast, "Shared").values())


def test_without_index_timestamps_the_sync_merges_in_full_says_why_and_is_exact(
    weaviate_server: WeaviateTestServer,
    weaviate_client: weaviate.WeaviateClient,
    instance: dg.DagsterInstance,
    resources_fast: dict,
    milvus_uri: str,
) -> None:
    plain = _create(weaviate_client, "Plain", timestamps=False)
    _insert(plain, range(2000))
    instance.add_dynamic_partitions("weaviate_collections", ["Plain"])
    _run(instance, resources_fast, "Plain")
    _insert(plain, range(2000, 2020))
    _update(plain, range(0, 2000, 100))
    plain.data.delete_many(where=Filter.by_id().contains_any([uuid_of(i) for i in range(1, 2000, 100)]))

    synced, read = _sync(instance, resources_fast, weaviate_server, "Plain")

    assert {k: synced[k] for k in ("changes_found_by", "added", "updated", "deleted", "tenants_merged")} == {
        "changes_found_by": "merge",
        "added": 20,
        "updated": 20,
        "deleted": 20,
        "tenants_merged": 1,
    }
    assert synced["why_full_merge"].startswith("the collection has no `indexTimestamps`")
    assert "index_timestamps=True" in synced["why_full_merge"]
    assert read == SCHEMA_SAMPLE + 2000 + 40
    assert _titles(milvus_uri, "Plain", range(100, 300, 100)) == ["changed 100", "changed 200"]
    assert all(_verified(instance, resources_fast, "Plain").values())


def test_writes_racing_a_sync_are_in_the_target_after_the_next_sync(
    weaviate_server: WeaviateTestServer,
    weaviate_client: weaviate.WeaviateClient,
    instance: dg.DagsterInstance,
    resources_fast: dict,
    milvus_uri: str,
) -> None:
    racing = _create(weaviate_client, "Racing", timestamps=True)
    _insert(racing, range(2000))
    instance.add_dynamic_partitions("weaviate_collections", ["Racing"])
    _run(instance, resources_fast, "Racing")
    _update(racing, range(1000, 1010))
    writer = weaviate_server.connect()
    # Aggregate 1 is source_schema's count; 2 is the sync's first window count, 3 its next count.
    weaviate_server.faults.run_before(
        "Aggregate", 2, lambda: _update(writer.collections.use("Racing"), range(0, 10))
    )
    weaviate_server.faults.run_before(
        "Aggregate", 3, lambda: _update(writer.collections.use("Racing"), range(500, 510))
    )

    during, _ = _sync(instance, resources_fast, weaviate_server, "Racing")
    stale = _titles(milvus_uri, "Racing", range(0, 10))
    after, _ = _sync(instance, resources_fast, weaviate_server, "Racing")
    writer.close()

    assert during["updated"] == 10
    assert stale == sorted(f"article {i} ✓" for i in range(10))
    assert after["updated"] == 20
    assert _titles(milvus_uri, "Racing", range(0, 10)) == sorted(f"changed {i}" for i in range(10))
    assert _titles(milvus_uri, "Racing", range(500, 510)) == sorted(f"changed {i}" for i in range(500, 510))
    assert all(_verified(instance, resources_fast, "Racing").values())


def test_lag_is_numeric_metadata_and_its_check_fails_above_the_maximum_without_failing_the_run(
    weaviate_client: weaviate.WeaviateClient, instance: dg.DagsterInstance, resources_fast: dict
) -> None:
    lagging = _create(weaviate_client, "Lagging", timestamps=True)
    _insert(lagging, range(200))
    instance.add_dynamic_partitions("weaviate_collections", ["Lagging"])
    _run(instance, resources_fast, "Lagging")
    source: WeaviateResource = resources_fast["weaviate"]
    strict = {
        **resources_fast,
        "weaviate": WeaviateResource(
            endpoint=source.endpoint,
            grpc_endpoint=source.grpc_endpoint,
            sync_margin_seconds=0,
            max_lag_seconds=0.001,
        ),
    }

    result = _run(instance, strict, "Lagging")

    metadata = result.asset_materializations_for_node("migrated_batches")[0].metadata
    [lag] = [e for e in result.get_asset_check_evaluations() if e.check_name == "lag"]
    assert isinstance(metadata["w2z/lag_seconds"], dg.FloatMetadataValue)
    assert isinstance(metadata["w2z/watermark_ms"], dg.IntMetadataValue)
    assert metadata["w2z/lag_seconds"].value > 0.001
    assert not lag.passed
    assert lag.description.endswith("> 0.001 s (W2Z_MAX_LAG_SECONDS)")
