"""Issue 3's proof: one collection through the four assets into a real Milvus Lite file."""

from __future__ import annotations

import dagster as dg
import numpy as np
import weaviate
import weaviate.classes.config as wc
from pymilvus import MilvusClient
from weaviate.classes.data import DataObject

from w2z_dagster.defs.assets import migrated_batches, source_schema, verification_report, zilliz_collection
from w2z_dagster.defs.partitions import collections_partitions
from w2z_dagster.lib.metadata import CopyMetadataSet

ASSETS = [source_schema, zilliz_collection, migrated_batches, verification_report]
OBJECTS = 23


def _seed_articles(client: weaviate.WeaviateClient) -> dict[str, dict]:
    articles = client.collections.create(
        "Articles",
        properties=[
            wc.Property(name="title", data_type=wc.DataType.TEXT),
            wc.Property(name="views", data_type=wc.DataType.INT),
            wc.Property(name="score", data_type=wc.DataType.NUMBER),
            wc.Property(name="published", data_type=wc.DataType.BOOL),
        ],
        vector_config=wc.Configure.Vectors.self_provided(
            vector_index_config=wc.Configure.VectorIndex.hnsw(distance_metric=wc.VectorDistances.COSINE)
        ),
    )
    rng = np.random.default_rng(7)
    expected = {}
    objects = []
    for i in range(OBJECTS):
        uuid = f"00000000-0000-0000-0000-{i:012d}"
        props = {"title": f"article {i} ✓", "views": i * 1000, "score": i / 7, "published": i % 2 == 0}
        vector = rng.random(8, dtype=np.float32).tolist()
        expected[uuid] = {**props, "vector": vector}
        objects.append(DataObject(properties=props, uuid=uuid, vector=vector))
    articles.data.insert_many(objects)
    return expected


def _run(instance: dg.DagsterInstance, resources: dict, **config: object) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        ASSETS,
        partition_key="Articles",
        instance=instance,
        resources=resources,
        run_config={"ops": {"migrated_batches": {"config": config}}} if config else None,
    )


def test_every_object_arrives_equal_and_a_rerun_duplicates_nothing(
    source_client: weaviate.WeaviateClient, instance: dg.DagsterInstance, resources: dict, milvus_uri: str
) -> None:
    expected = _seed_articles(source_client)
    instance.add_dynamic_partitions(collections_partitions.name, ["Articles"])

    first = _run(instance, resources, batch_size=5)
    second = _run(instance, resources, batch_size=5)

    assert first.success and second.success
    metadata = CopyMetadataSet.extract(first.asset_materializations_for_node("migrated_batches")[0].metadata)
    assert metadata.objects == OBJECTS
    assert metadata.batches == 5
    milvus = MilvusClient(milvus_uri)
    assert milvus.query("Articles", filter="", output_fields=["count(*)"])[0]["count(*)"] == OBJECTS
    rows = {r["id"]: r for r in milvus.query("Articles", filter='id != ""', output_fields=["*"], limit=100)}
    assert set(rows) == set(expected)
    for uuid, want in expected.items():
        got = rows[uuid]
        assert (got["title"], got["views"], got["score"], got["published"]) == (
            want["title"],
            want["views"],
            want["score"],
            want["published"],
        )
        assert np.array_equal(
            np.asarray(got["default"], dtype=np.float32), np.asarray(want["vector"], dtype=np.float32)
        )


def test_limit_stops_after_that_many_objects(
    source_client: weaviate.WeaviateClient, instance: dg.DagsterInstance, resources: dict, milvus_uri: str
) -> None:
    _seed_articles(source_client)
    instance.add_dynamic_partitions(collections_partitions.name, ["Articles"])

    result = dg.materialize(
        ASSETS[:3],
        partition_key="Articles",
        instance=instance,
        resources=resources,
        run_config={"ops": {"migrated_batches": {"config": {"batch_size": 4, "limit": 10}}}},
    )

    assert result.success
    assert (
        CopyMetadataSet.extract(
            result.asset_materializations_for_node("migrated_batches")[0].metadata
        ).objects
        == 10
    )
    assert (
        MilvusClient(milvus_uri).query("Articles", filter="", output_fields=["count(*)"])[0]["count(*)"] == 10
    )
