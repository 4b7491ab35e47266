"""Seeding helpers: fill the test Weaviate through the real weaviate-client, run the asset chain, and
read back the asset checks a run recorded.

Objects get fixed UUIDs (`uuid_of`) and seeded random vectors, so a test knows exactly which object it
corrupts and the expected numbers never depend on chance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg
import numpy as np
import weaviate
import weaviate.classes.config as wc
from weaviate.classes.data import DataObject
from weaviate.classes.tenants import Tenant

from w2z_dagster.core.keyword import SPARSE_FIELD
from w2z_dagster.core.verification.report import CHECKS
from w2z_dagster.defs.assets import ASSETS, verification_report
from w2z_dagster.defs.io_managers import CATALOG, CatalogIOManager
from w2z_dagster.defs.partitions import collections_partitions
from w2z_dagster.defs.resources import WeaviateResource, ZillizResource

ALL_CHECKS = set(CHECKS)
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)

ARTICLE_PROPERTIES = [
    wc.Property(name="title", data_type=wc.DataType.TEXT),
    wc.Property(name="views", data_type=wc.DataType.INT),
    wc.Property(name="score", data_type=wc.DataType.NUMBER),
    wc.Property(name="published", data_type=wc.DataType.DATE),
    wc.Property(name="tags", data_type=wc.DataType.TEXT_ARRAY),
]


def uuid_of(i: int) -> str:
    return f"00000000-0000-0000-0000-{i:012d}"


def article(i: int) -> dict[str, Any]:
    return {
        "title": f"article {i} ✓",
        "views": i * 1000,
        "score": i / 7,
        "published": EPOCH + timedelta(days=i, microseconds=i),
        "tags": [f"t{i % 3}", "all"],
    }


def _vectors(rng: np.random.Generator, n: int, dim: int) -> list[list[float]]:
    return rng.random((n, dim), dtype=np.float32).tolist()


def _hnsw(distance: wc.VectorDistances) -> Any:
    return wc.Configure.VectorIndex.hnsw(distance_metric=distance)


def seed_articles(
    client: weaviate.WeaviateClient, name: str = "Articles", n: int = 30, dim: int = 8, seed: int = 7
) -> list[DataObject]:
    """One legacy-style single vector (cosine), five scalar and array properties."""
    collection = client.collections.create(
        name,
        properties=ARTICLE_PROPERTIES,
        vector_config=wc.Configure.Vectors.self_provided(
            vector_index_config=_hnsw(wc.VectorDistances.COSINE)
        ),
    )
    vectors = _vectors(np.random.default_rng(seed), n, dim)
    objects = [DataObject(properties=article(i), uuid=uuid_of(i), vector=vectors[i]) for i in range(n)]
    collection.data.insert_many(objects)
    return objects


def seed_multi_tenant(
    client: weaviate.WeaviateClient, name: str, tenants: Sequence[str], n: int, dim: int = 8, seed: int = 11
) -> None:
    """The same UUIDs in every tenant, so only the tenant tells two objects apart."""
    collection = client.collections.create(
        name,
        properties=ARTICLE_PROPERTIES,
        vector_config=wc.Configure.Vectors.self_provided(
            vector_index_config=_hnsw(wc.VectorDistances.COSINE)
        ),
        multi_tenancy_config=wc.Configure.multi_tenancy(enabled=True),
    )
    collection.tenants.create([Tenant(name=t) for t in tenants])
    rng = np.random.default_rng(seed)
    for tenant in tenants:
        vectors = _vectors(rng, n, dim)
        collection.with_tenant(tenant).data.insert_many(
            [DataObject(properties=article(i), uuid=uuid_of(i), vector=vectors[i]) for i in range(n)]
        )


def seed_named_vectors(
    client: weaviate.WeaviateClient, name: str, n: int, dims: Mapping[str, int], seed: int = 13
) -> None:
    """One named vector per entry of `dims`, alternating cosine and dot distance."""
    distances = [wc.VectorDistances.COSINE, wc.VectorDistances.DOT]
    collection = client.collections.create(
        name,
        properties=ARTICLE_PROPERTIES[:2],
        vector_config=[
            wc.Configure.Vectors.self_provided(name=vector, vector_index_config=_hnsw(distances[i % 2]))
            for i, vector in enumerate(dims)
        ],
    )
    rng = np.random.default_rng(seed)
    per_name = {vector: _vectors(rng, n, dim) for vector, dim in dims.items()}
    collection.data.insert_many(
        [
            DataObject(
                properties={k: v for k, v in article(i).items() if k in ("title", "views")},
                uuid=uuid_of(i),
                vector={vector: per_name[vector][i] for vector in dims},
            )
            for i in range(n)
        ]
    )


def proxied_resources(
    http_url: str,
    grpc_url: str,
    milvus_uri: str,
    weaviate_retries: int,
    zilliz_retries: int,
    search_indexes: bool = True,
) -> dict[str, dg.ConfigurableResource | dg.ConfigurableIOManager]:
    """The chain's resources against a test Weaviate and a target behind a fault proxy, with fast retries."""
    return {
        CATALOG: CatalogIOManager(),
        "weaviate": WeaviateResource(
            endpoint=http_url, grpc_endpoint=grpc_url, max_retries=weaviate_retries, retry_delay=0.01
        ),
        "zilliz": ZillizResource(
            uri=milvus_uri, max_retries=zilliz_retries, retry_delay=0.01, search_indexes=search_indexes
        ),
    }


def vectors_only(resources: Mapping[str, Any]) -> dict[str, Any]:
    """The same resources planning no keyword search or scalar indexes (`W2Z_SEARCH_INDEXES=false`).

    For tests of volume, sync and slicing, which assert nothing about search: Milvus Lite analyses every
    row's text for BM25 in Python, which made a 20,000-object test three times slower.
    """
    zilliz: ZillizResource = resources["zilliz"]
    return {**resources, "zilliz": zilliz.model_copy(update={"search_indexes": False})}


def as_written(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row read back with `output_fields=["*"]`, without the BM25 outputs Milvus fills itself: what an
    upsert of it may carry."""
    return {k: v for k, v in row.items() if not k.startswith(SPARSE_FIELD)}


def migrate(
    instance: dg.DagsterInstance, resources: Mapping[str, Any], name: str
) -> dg.ExecuteInProcessResult:
    """The whole chain for one collection, as the UI or the CLI would run it."""
    if not instance.has_dynamic_partition(collections_partitions.name, name):
        instance.add_dynamic_partitions(collections_partitions.name, [name])
    return dg.materialize(
        ASSETS, partition_key=name, instance=instance, resources=resources, raise_on_error=False
    )


def reverify(
    instance: dg.DagsterInstance,
    resources: Mapping[str, Any],
    name: str,
    config: Mapping[str, Any] | None = None,
) -> dg.ExecuteInProcessResult:
    """Only `verification_report`: proof of an existing copy, without migrating again."""
    return dg.materialize(
        ASSETS,
        selection=[verification_report],
        partition_key=name,
        instance=instance,
        resources=resources,
        raise_on_error=False,
        run_config={"ops": {"verification_report": {"config": dict(config)}}} if config else None,
    )


# --- reading the checks a run recorded ------------------------------------------------------------


def verdicts(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    """The verification checks' verdicts; the copy's own `lag` check is not one of them."""
    return {
        e.check_name: e.passed
        for e in result.get_asset_check_evaluations()
        if e.asset_key == verification_report.key
    }


def failed(result: dg.ExecuteInProcessResult) -> set[str]:
    return {name for name, passed in verdicts(result).items() if not passed}


def numbers(result: dg.ExecuteInProcessResult, check: str) -> dict[str, Any]:
    evaluation = next(e for e in result.get_asset_check_evaluations() if e.check_name == check)
    return {k: v.value for k, v in evaluation.metadata.items() if k not in ("summary", "mismatches")}


def mismatches(result: dg.ExecuteInProcessResult, check: str) -> list[dict[str, str]]:
    evaluation = next(e for e in result.get_asset_check_evaluations() if e.check_name == check)
    return [dict(r.data) for r in evaluation.metadata["mismatches"].value.records]
