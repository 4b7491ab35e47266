"""Nightly sync: after a full copy, a rematerialization only sends what changed, deletes included."""

from __future__ import annotations

import dagster as dg
import pytest
import weaviate
import weaviate.classes.config as wc
from pymilvus import MilvusClient
from weaviate.classes.data import DataObject
from weaviate.classes.query import Filter
from weaviate.classes.tenants import Tenant, TenantActivityStatus

from w2z_dagster.defs.assets import source_schema, verification_report
from w2z_dagster.lib.metadata import CopyMetadataSet
from w2z_dagster_tests.support.seeding import (
    ARTICLE_PROPERTIES,
    ASSETS,
    article,
    seed_articles,
    seed_multi_tenant,
    uuid_of,
)

pytestmark = pytest.mark.slow


def _materialize(instance: dg.DagsterInstance, resources: dict, name: str, **config: object) -> dict:
    result = dg.materialize(
        ASSETS,
        partition_key=name,
        instance=instance,
        resources=resources,
        run_config={"ops": {"migrated_batches": {"config": {"batch_size": 7, **config}}}},
    )
    assert result.success
    assert all(e.passed for e in result.get_asset_check_evaluations())
    return CopyMetadataSet.extract(
        result.asset_materializations_for_node("migrated_batches")[0].metadata
    ).model_dump()


def test_sync_sends_only_changes_and_deletes_what_weaviate_deleted(
    source_client: weaviate.WeaviateClient, instance: dg.DagsterInstance, resources: dict, milvus_uri: str
) -> None:
    seed_articles(source_client, n=40)
    instance.add_dynamic_partitions("weaviate_collections", ["Articles"])
    first = _materialize(instance, resources, "Articles")
    articles = source_client.collections.use("Articles")
    articles.data.insert_many(
        [DataObject(properties=article(i), uuid=uuid_of(i), vector=[0.5] * 8) for i in range(40, 45)]
    )
    for i in (3, 4, 5):
        articles.data.update(uuid=uuid_of(i), properties={"title": f"changed {i}"})
    articles.data.delete_many(where=Filter.by_id().contains_any([uuid_of(i) for i in (10, 11)]))

    second = _materialize(instance, resources, "Articles")
    third = _materialize(instance, resources, "Articles")

    assert (first["mode"], first["objects"]) == ("full copy", 40)
    assert {k: second[k] for k in ("mode", "added", "updated", "deleted", "unchanged")} == {
        "mode": "sync",
        "added": 5,
        "updated": 3,
        "deleted": 2,
        "unchanged": 35,
    }
    assert {k: third[k] for k in ("added", "updated", "deleted", "unchanged")} == {
        "added": 0,
        "updated": 0,
        "deleted": 0,
        "unchanged": 43,
    }
    milvus = MilvusClient(milvus_uri)
    assert milvus.get("Articles", ids=[uuid_of(4)], output_fields=["title"])[0]["title"] == "changed 4"
    assert milvus.get("Articles", ids=[uuid_of(10)]) == []


def test_restart_forces_a_full_copy_and_tenants_sync_separately(
    source_client: weaviate.WeaviateClient, instance: dg.DagsterInstance, resources: dict
) -> None:
    seed_multi_tenant(source_client, "Shared", ["a", "b"], n=10)
    instance.add_dynamic_partitions("weaviate_collections", ["Shared"])
    _materialize(instance, resources, "Shared")
    source_client.collections.use("Shared").with_tenant("b").data.delete_by_id(uuid_of(1))

    synced = _materialize(instance, resources, "Shared")
    restarted = _materialize(instance, resources, "Shared", restart=True)

    assert (synced["deleted"], synced["unchanged"]) == (1, 19)
    assert (restarted["mode"], restarted["objects"]) == ("full copy", 19)


def test_an_empty_collection_migrates_to_nothing_and_verifies(
    source_client: weaviate.WeaviateClient, instance: dg.DagsterInstance, resources: dict, milvus_uri: str
) -> None:
    source_client.collections.create(
        "Nothing", properties=ARTICLE_PROPERTIES, vector_config=wc.Configure.Vectors.self_provided()
    )
    instance.add_dynamic_partitions("weaviate_collections", ["Nothing"])

    metadata = _materialize(instance, resources, "Nothing")

    assert (metadata["mode"], metadata["objects"]) == ("empty source", 0)
    assert not MilvusClient(milvus_uri).has_collection("Nothing")


def test_a_tenant_deleted_in_weaviate_fails_verification_until_sync_deletes_its_rows(
    source_client: weaviate.WeaviateClient, instance: dg.DagsterInstance, resources: dict, milvus_uri: str
) -> None:
    seed_multi_tenant(source_client, "Shared", ["a", "b", "cold"], n=6)
    shared = source_client.collections.use("Shared")
    instance.add_dynamic_partitions("weaviate_collections", ["Shared"])
    _materialize(instance, resources, "Shared")
    shared.tenants.update([Tenant(name="cold", activity_status=TenantActivityStatus.INACTIVE)])
    shared.tenants.remove(["b"])

    stale = dg.materialize(
        ASSETS,
        selection=[source_schema, verification_report],
        partition_key="Shared",
        instance=instance,
        resources=resources,
        raise_on_error=False,
    )
    synced = _materialize(instance, resources, "Shared")

    assert not stale.success
    counts = next(e for e in stale.get_asset_check_evaluations() if e.check_name == "counts")
    assert not counts.passed
    assert counts.description == (
        "weaviate 6 / milvus 6; 6 row(s) of tenant(s) Weaviate no longer has (b); "
        "1 inactive tenant(s) not verified"
    )
    assert counts.metadata["milvus_rows_of_deleted_tenants"].value == 6
    assert (synced["mode"], synced["deleted"], synced["unchanged"]) == ("sync", 6, 6)
    milvus = MilvusClient(milvus_uri)
    assert milvus.query("Shared", filter="", output_fields=["count(*)"])[0]["count(*)"] == 12
    assert milvus.query("Shared", filter='tenant == "b"', output_fields=["count(*)"])[0]["count(*)"] == 0
    assert milvus.query("Shared", filter='tenant == "cold"', output_fields=["count(*)"])[0]["count(*)"] == 6
