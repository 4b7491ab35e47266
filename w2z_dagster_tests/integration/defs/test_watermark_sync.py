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

from w2z_dagster.defs.resources import WeaviateResource
from w2z_dagster.lib.metadata import CopyMetadataSet
from w2z_dagster_tests.support.seeding import ARTICLE_PROPERTIES, ASSETS, article, uuid_of
from w2z_dagster_tests.support.weaviate_server.server import WeaviateTestServer

pytestmark = pytest.mark.slow

N = 20_000
BATCH = 1000


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
    """The suite's resources with no safety margin: the test server stamps writes with its own clock."""
    source: WeaviateResource = resources["weaviate"]
    fields = {"endpoint": source.endpoint, "grpc_endpoint": source.grpc_endpoint, "retry_delay": 0.01}
    return {**resources, "weaviate": WeaviateResource(**fields, sync_margin_seconds=0.0)}


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
    assert changed_read < N // 20
    assert {k: deleted[k] for k in ("added", "updated", "deleted", "tenants_merged")} == {
        "added": 0,
        "updated": 0,
        "deleted": 200,
        "tenants_merged": 1,
    }
    assert deleted["objects_read"] == N + N // 100 - 200
    assert deleted_read >= N
    assert _verified(instance, resources, "Articles") == dict.fromkeys(
        ("counts", "identity", "content", "schema", "search_parity", "rejects", "duplicates"), True
    )
    milvus = MilvusClient(milvus_uri)
    assert milvus.get("Articles", ids=[uuid_of(300)], output_fields=["title"])[0]["title"] == "changed 300"
    assert milvus.get("Articles", ids=[uuid_of(101)]) == []
