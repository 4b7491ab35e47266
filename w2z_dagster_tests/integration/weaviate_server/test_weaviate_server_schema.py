"""Collections through the real client: create, read back with every default, list, delete."""

from __future__ import annotations

import warnings

import httpx
import pytest
import weaviate
from weaviate.classes.config import (
    Configure,
    DataType,
    Property,
    ReferenceProperty,
    Tokenization,
    VectorDistances,
)
from weaviate.collections.classes.config import VectorIndexType
from weaviate.exceptions import UnexpectedStatusCodeError

from w2z_dagster_tests.support.weaviate_server import WeaviateTestServer

HNSW_DEFAULTS = {
    "skip": False,
    "cleanupIntervalSeconds": 300,
    "maxConnections": 32,
    "efConstruction": 128,
    "ef": -1,
    "dynamicEfMin": 100,
    "dynamicEfMax": 500,
    "dynamicEfFactor": 8,
    "vectorCacheMaxObjects": 1000000000000,
    "flatSearchCutoff": 40000,
    "distance": "cosine",
    "pq": {
        "enabled": False,
        "bitCompression": False,
        "segments": 0,
        "centroids": 256,
        "trainingLimit": 100000,
        "encoder": {"type": "kmeans", "distribution": "log-normal"},
    },
    "bq": {"enabled": False},
    "sq": {"enabled": False, "trainingLimit": 100000, "rescoreLimit": 20},
    "rq": {"enabled": False, "bits": 8, "rescoreLimit": 20},
    "filterStrategy": "acorn",
    "multivector": {
        "enabled": False,
        "muvera": {"enabled": False, "ksim": 4, "dprojections": 16, "repetitions": 10},
        "aggregation": "maxSim",
    },
    "skipDefaultQuantization": False,
    "trackDefaultQuantization": False,
}


def _class_json(server: WeaviateTestServer, name: str) -> dict:
    with httpx.Client(base_url=server.http_url, trust_env=False) as http:
        return http.get(f"/v1/schema/{name}").json()


def test_default_collection_json_has_every_default(
    weaviate_server: WeaviateTestServer, weaviate_client: weaviate.WeaviateClient
) -> None:
    weaviate_client.collections.create(
        "article",
        properties=[
            Property(name="Title", data_type=DataType.TEXT),
            Property(name="count", data_type=DataType.INT),
            Property(
                name="meta",
                data_type=DataType.OBJECT,
                nested_properties=[Property(name="a", data_type=DataType.TEXT)],
            ),
        ],
        references=[ReferenceProperty(name="author", target_collection="Author")],
    )
    assert _class_json(weaviate_server, "Article") == {
        "class": "Article",
        "invertedIndexConfig": {
            "bm25": {"b": 0.75, "k1": 1.2},
            "cleanupIntervalSeconds": 60,
            "stopwords": {"preset": "en", "additions": None, "removals": None},
            "indexTimestamps": False,
            "indexNullState": False,
            "indexPropertyLength": False,
            "usingBlockMaxWAND": True,
        },
        "multiTenancyConfig": {"enabled": False, "autoTenantCreation": False, "autoTenantActivation": False},
        "replicationConfig": {"factor": 1, "asyncEnabled": False, "deletionStrategy": "TimeBasedResolution"},
        "shardingConfig": {
            "virtualPerPhysical": 128,
            "desiredCount": 1,
            "actualCount": 1,
            "desiredVirtualCount": 128,
            "actualVirtualCount": 128,
            "key": "_id",
            "strategy": "hash",
            "function": "murmur3",
        },
        "properties": [
            {
                "name": "title",
                "dataType": ["text"],
                "tokenization": "word",
                "indexFilterable": True,
                "indexSearchable": True,
                "indexRangeFilters": False,
            },
            {
                "name": "count",
                "dataType": ["int"],
                "indexFilterable": True,
                "indexSearchable": False,
                "indexRangeFilters": False,
            },
            {
                "name": "meta",
                "dataType": ["object"],
                "indexFilterable": True,
                "indexSearchable": False,
                "indexRangeFilters": False,
                "nestedProperties": [
                    {
                        "name": "a",
                        "dataType": ["text"],
                        "tokenization": "word",
                        "indexFilterable": True,
                        "indexSearchable": True,
                        "indexRangeFilters": False,
                    }
                ],
            },
            {
                "name": "author",
                "dataType": ["Author"],
                "indexFilterable": True,
                "indexSearchable": False,
                "indexRangeFilters": False,
            },
        ],
        "vectorConfig": {
            "default": {
                "vectorizer": {"none": {}},
                "vectorIndexType": "hnsw",
                "vectorIndexConfig": HNSW_DEFAULTS,
            }
        },
    }


def test_every_index_type_distance_and_multi_vector_round_trips(
    weaviate_client: weaviate.WeaviateClient,
) -> None:
    vectors = [
        Configure.Vectors.self_provided(
            name=f"hnsw_{d.name.lower()}", vector_index_config=Configure.VectorIndex.hnsw(distance_metric=d)
        )
        for d in VectorDistances
    ]
    vectors += [
        Configure.Vectors.self_provided(
            name="flat_dot",
            vector_index_config=Configure.VectorIndex.flat(distance_metric=VectorDistances.DOT),
        ),
        Configure.Vectors.self_provided(
            name="dyn_l1",
            vector_index_config=Configure.VectorIndex.dynamic(distance_metric=VectorDistances.MANHATTAN),
        ),
        Configure.Vectors.self_provided(
            name="hfresh_l2",
            vector_index_config=Configure.VectorIndex.hfresh(distance_metric=VectorDistances.L2_SQUARED),
        ),
        Configure.MultiVectors.self_provided(name="colbert"),
    ]
    weaviate_client.collections.create("Indexes", vector_config=vectors)
    config = weaviate_client.collections.get("Indexes").config.get().vector_config
    assert config is not None
    summary = {
        name: (type(v.vector_index_config).__name__, v.vector_index_config.distance_metric.value)
        for name, v in config.items()
    }
    assert summary == {
        **{f"hnsw_{d.name.lower()}": ("_VectorIndexConfigHNSW", d.value) for d in VectorDistances},
        "flat_dot": ("_VectorIndexConfigFlat", "dot"),
        "dyn_l1": ("_VectorIndexConfigDynamic", "manhattan"),
        "hfresh_l2": ("_VectorIndexConfigHFresh", "l2-squared"),
        "colbert": ("_VectorIndexConfigHNSW", "cosine"),
    }
    assert config["colbert"].vector_index_config.multi_vector.aggregation == "maxSim"
    assert config["hnsw_cosine"].vector_index_config.multi_vector is None


def test_legacy_vector_collection(
    weaviate_server: WeaviateTestServer, weaviate_client: weaviate.WeaviateClient
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        weaviate_client.collections.create(
            "Legacy",
            vectorizer_config=Configure.Vectorizer.none(),
            vector_index_config=Configure.VectorIndex.flat(distance_metric=VectorDistances.L2_SQUARED),
        )
    config = weaviate_client.collections.get("Legacy").config.get()
    assert (config.vector_index_type, config.vector_index_config.distance_metric) == (
        VectorIndexType.FLAT,
        VectorDistances.L2_SQUARED,
    )
    assert config.vector_config is None
    raw = _class_json(weaviate_server, "Legacy")
    assert (raw["vectorizer"], raw["vectorIndexType"], "vectorConfig" in raw) == ("none", "flat", False)


def test_multi_tenancy_references_and_nested_config(weaviate_client: weaviate.WeaviateClient) -> None:
    weaviate_client.collections.create("Target")
    weaviate_client.collections.create(
        "Source",
        multi_tenancy_config=Configure.multi_tenancy(enabled=True, auto_tenant_activation=True),
        properties=[
            Property(name="label", data_type=DataType.TEXT, tokenization=Tokenization.FIELD),
            Property(
                name="doc",
                data_type=DataType.OBJECT_ARRAY,
                nested_properties=[
                    Property(
                        name="inner",
                        data_type=DataType.OBJECT,
                        nested_properties=[Property(name="n", data_type=DataType.INT)],
                    )
                ],
            ),
        ],
        references=[
            ReferenceProperty(name="one", target_collection="Target"),
            ReferenceProperty.MultiTarget(name="many", target_collections=["Target", "Source"]),
        ],
    )
    config = weaviate_client.collections.get("Source").config.get()
    assert (config.multi_tenancy_config.enabled, config.multi_tenancy_config.auto_tenant_activation) == (
        True,
        True,
    )
    assert config.sharding_config is None
    assert [(r.name, r.target_collections) for r in config.references] == [
        ("one", ["Target"]),
        ("many", ["Target", "Source"]),
    ]
    label, doc = config.properties
    assert (label.name, label.tokenization) == ("label", Tokenization.FIELD)
    assert doc.nested_properties[0].nested_properties[0].name == "n"


def test_list_exists_delete_and_errors(
    weaviate_server: WeaviateTestServer, weaviate_client: weaviate.WeaviateClient
) -> None:
    collections = weaviate_client.collections
    for name in ("Bravo", "Alpha"):
        collections.create(name)
    assert list(collections.list_all(simple=False)) == ["Alpha", "Bravo"]
    assert list(collections.list_all(simple=True)) == ["Alpha", "Bravo"]
    assert collections.exists("Alpha")
    with pytest.raises(UnexpectedStatusCodeError, match="class name Alpha already exists"):
        collections.create("Alpha")
    with pytest.raises(
        UnexpectedStatusCodeError,
        match='target vector "default": vectorizer: no module with name "text2vec-aws"',
    ):
        collections.create(
            "Vectorized",
            vector_config=Configure.Vectors.text2vec_aws(
                region="eu-west-1", model="amazon.titan-embed-text-v2:0"
            ),
        )
    collections.delete("Alpha")
    collections.delete("Alpha")
    assert not collections.exists("Alpha")
    assert list(collections.list_all()) == ["Bravo"]


def test_add_property_extends_the_schema(weaviate_client: weaviate.WeaviateClient) -> None:
    collection = weaviate_client.collections.create(
        "Grows", properties=[Property(name="a", data_type=DataType.TEXT)]
    )
    collection.config.add_property(Property(name="b", data_type=DataType.NUMBER))
    assert [p.name for p in collection.config.get().properties] == ["a", "b"]
