"""Issue 6's proof: each fault planted in the Milvus copy fails exactly the checks that must see it.

Every test migrates a collection through the four assets, corrupts the Milvus Lite target with plain
pymilvus (one fault per test), then rematerializes only `verification_report` and reads the asset checks
it recorded for the partition.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dagster as dg
import numpy as np
import pytest
import weaviate
from pymilvus import DataType, MilvusClient

from w2z_dagster.defs.resources import ZillizResource
from w2z_dagster.lib.metadata import ReportMetadataSet
from w2z_dagster_tests.support.seeding import (
    ALL_CHECKS,
    failed,
    migrate,
    mismatches,
    numbers,
    reverify,
    seed_articles,
    uuid_of,
    verdicts,
)

pytestmark = pytest.mark.slow

NAME = "Articles"
OBJECTS = 30
VECTOR = "default"
"""weaviate-client's unnamed `self_provided()` vector is the named vector `default`, kept as that field."""


@pytest.fixture
def resources(
    resources: dict[str, dg.ConfigurableResource | dg.ConfigurableIOManager], milvus_uri: str
) -> dict[str, dg.ConfigurableResource | dg.ConfigurableIOManager]:
    """Targets without keyword search: `_recreate` rebuilds them field by field with plain pymilvus,
    which cannot re-create a BM25 function (keyword search has its own tests)."""
    return {**resources, "zilliz": ZillizResource(uri=milvus_uri, retry_delay=0.01, search_indexes=False)}


def _row(milvus: MilvusClient, uuid: str) -> dict[str, Any]:
    return dict(milvus.get(NAME, ids=[uuid], output_fields=["*"])[0])


def _recreate(milvus: MilvusClient, change: Callable[[str, dict[str, Any]], dict[str, Any] | None]) -> None:
    """Drop the target and create it again with `change` applied to each field's add_field kwargs
    (None drops the field), then put every row back, minus what the schema no longer holds."""
    rows = milvus.query(NAME, filter='id != ""', output_fields=["*"], limit=1000)
    described = milvus.describe_collection(NAME)["fields"]
    milvus.drop_collection(NAME)
    schema = milvus.create_schema(auto_id=False, enable_dynamic_field=False)
    index = milvus.prepare_index_params()
    kept: dict[str, int | None] = {}
    for raw in described:
        kwargs: dict[str, Any] = {**raw.get("params", {})}
        for flag in ("is_primary", "nullable", "element_type"):
            if raw.get(flag):
                kwargs[flag] = raw[flag]
        if raw.get("element_type") == DataType.VARCHAR:
            kwargs.setdefault("max_length", 65_535)  # Lite does not describe an array's element length
        kwargs = change(raw["name"], kwargs)
        if kwargs is None:
            continue
        schema.add_field(raw["name"], raw["type"], **kwargs)
        kept[raw["name"]] = kwargs.get("dim")
        if raw["type"] == DataType.FLOAT_VECTOR:
            index.add_index(
                field_name=raw["name"],
                index_type="HNSW",
                metric_type="COSINE",
                params={"M": 32, "efConstruction": 128},  # the plan's: only the planted fault differs
            )
    milvus.create_collection(NAME, schema=schema, index_params=index, consistency_level="Strong")
    milvus.insert(
        NAME,
        [{k: (v[: kept[k]] if kept[k] else v) for k, v in row.items() if k in kept} for row in rows],
    )


@pytest.fixture
def migrated(
    weaviate_client: weaviate.WeaviateClient,
    instance: dg.DagsterInstance,
    resources: dict[str, Any],
    milvus_uri: str,
) -> MilvusClient:
    seed_articles(weaviate_client, NAME, n=OBJECTS)
    result = migrate(instance, resources, NAME)
    assert result.success
    assert failed(result) == set()
    return MilvusClient(milvus_uri)


def test_a_clean_copy_passes_every_check_per_partition_at_any_depth(
    weaviate_client: weaviate.WeaviateClient, instance: dg.DagsterInstance, resources: dict[str, Any]
) -> None:
    seed_articles(weaviate_client, NAME, n=OBJECTS)

    result = migrate(instance, resources, NAME)

    assert result.success
    assert verdicts(result) == dict.fromkeys(ALL_CHECKS, True)
    assert {e.partition for e in result.get_asset_check_evaluations()} == {NAME}
    assert numbers(result, "identity") == {
        "weaviate": OBJECTS,
        "milvus": OBJECTS,
        "matched": OBJECTS,
        "missing": 0,
        "extra": 0,
    }
    assert numbers(result, "counts")["milvus"] == OBJECTS
    assert numbers(result, "content")["compared"] == OBJECTS
    assert numbers(result, "search_parity")["recall"] == 1.0
    report = ReportMetadataSet.extract(
        result.asset_materializations_for_node("verification_report")[0].metadata
    )
    assert report.passed is True
    assert report.summary.value.startswith(f"**Safe to cut over**: all {len(ALL_CHECKS)} checks passed.")

    shallow = reverify(
        instance, resources, NAME, {"sample_size": 5, "search_queries": 2, "k": 3, "min_recall": 1.0}
    )
    assert shallow.success
    assert numbers(shallow, "content")["compared"] == 5
    assert (numbers(shallow, "search_parity")["queries"], numbers(shallow, "search_parity")["k"]) == (2, 3)


def test_a_missing_object_fails_counts_and_identity_and_the_run(
    migrated: MilvusClient, instance: dg.DagsterInstance, resources: dict[str, Any]
) -> None:
    migrated.delete(NAME, ids=[uuid_of(7)])

    result = reverify(instance, resources, NAME)

    assert not result.success
    assert failed(result) == {"counts", "identity"}
    assert (numbers(result, "counts")["weaviate"], numbers(result, "counts")["milvus"]) == (
        OBJECTS,
        OBJECTS - 1,
    )
    assert numbers(result, "identity") == {
        "weaviate": OBJECTS,
        "milvus": OBJECTS - 1,
        "matched": OBJECTS - 1,
        "missing": 1,
        "extra": 0,
    }
    assert mismatches(result, "identity") == [
        {
            "check": "identity",
            "tenant": "",
            "uuid": uuid_of(7),
            "field": "",
            "weaviate": "",
            "milvus": "",
            "detail": "missing in Milvus",
        }
    ]
    report = instance.fetch_materializations(dg.AssetKey("verification_report"), limit=1).records
    assert ReportMetadataSet.extract(report[0].asset_materialization.metadata).checks_failed == 2


def test_an_extra_object_fails_counts_and_identity(
    migrated: MilvusClient, instance: dg.DagsterInstance, resources: dict[str, Any]
) -> None:
    extra = _row(migrated, uuid_of(3))
    extra.update({"id": "ffffffff-0000-0000-0000-000000000000", VECTOR: [-1.0] * 8})
    migrated.insert(NAME, [extra])

    result = reverify(instance, resources, NAME)

    # The extra row is a copy of object 3: every drawn filter object 3 passes finds it too.
    assert failed(result) == {"counts", "identity", "filtered_parity"}
    assert numbers(result, "identity")["extra"] == 1
    assert numbers(result, "identity")["missing"] == 0
    assert [m["uuid"] for m in mismatches(result, "identity")] == ["ffffffff-0000-0000-0000-000000000000"]
    assert [(m["uuid"], m["milvus"], m["detail"]) for m in mismatches(result, "filtered_parity")] == [
        (
            uuid_of(3),
            'published == "2024-01-04T00:00:00.000003Z"',
            "weaviate 1 / milvus 2 object(s); extra in Milvus: ffffffff-0000-0000-0000-000000000000",
        )
    ]


def test_a_changed_property_fails_content_only(
    migrated: MilvusClient, instance: dg.DagsterInstance, resources: dict[str, Any]
) -> None:
    row = _row(migrated, uuid_of(12))
    row["title"] = "tampered"
    migrated.upsert(NAME, [row])

    result = reverify(instance, resources, NAME)

    assert result.success
    assert failed(result) == {"content"}
    assert {"compared": OBJECTS, "objects_differing": 1, "fields_differing": 1}.items() <= numbers(
        result, "content"
    ).items()
    assert [(m["uuid"], m["field"], m["weaviate"], m["milvus"]) for m in mismatches(result, "content")] == [
        (uuid_of(12), "title", "'article 12 ✓'", "'tampered'")
    ]


def test_a_changed_vector_component_fails_content_only(
    migrated: MilvusClient, instance: dg.DagsterInstance, resources: dict[str, Any]
) -> None:
    row = _row(migrated, uuid_of(20))
    vector = np.asarray(row[VECTOR], dtype=np.float32)
    original, changed = vector[5], np.nextafter(vector[5], np.float32(2))
    vector[5] = changed
    row[VECTOR] = vector.tolist()
    migrated.upsert(NAME, [row])

    result = reverify(instance, resources, NAME)

    assert failed(result) == {"content"}
    assert [(m["uuid"], m["field"], m["weaviate"], m["milvus"]) for m in mismatches(result, "content")] == [
        (uuid_of(20), VECTOR, f"[5]={original:.9g}", f"[5]={changed:.9g}")
    ]


def test_a_wrong_dimension_fails_schema_and_makes_content_and_search_unprovable(
    migrated: MilvusClient, instance: dg.DagsterInstance, resources: dict[str, Any]
) -> None:
    _recreate(migrated, lambda name, kw: {**kw, "dim": 7} if name == VECTOR else kw)

    result = reverify(instance, resources, NAME)

    assert failed(result) == {"schema", "content", "search_parity"}
    assert [(m["field"], m["weaviate"], m["milvus"]) for m in mismatches(result, "schema")] == [
        (VECTOR, "dim 8", "dim 7")
    ]
    assert numbers(result, "content")["objects_differing"] == OBJECTS
    assert numbers(result, "search_parity")["failing_fields"] == [VECTOR]


def test_a_missing_field_fails_schema_and_content(
    migrated: MilvusClient, instance: dg.DagsterInstance, resources: dict[str, Any]
) -> None:
    _recreate(migrated, lambda name, kw: None if name == "views" else kw)

    result = reverify(instance, resources, NAME)

    assert failed(result) == {"schema", "content"}
    assert [(m["field"], m["milvus"], m["detail"]) for m in mismatches(result, "schema")] == [
        ("views", "absent", "missing")
    ]
    assert numbers(result, "schema")["problems"] == 1
    assert numbers(result, "content")["fields_differing"] == OBJECTS


def test_verification_alone_loads_a_released_target(
    migrated: MilvusClient, instance: dg.DagsterInstance, resources: dict[str, Any]
) -> None:
    migrated.release_collection(NAME)

    result = reverify(instance, resources, NAME)

    assert result.success
    assert failed(result) == set()
