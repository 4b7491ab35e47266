"""Verification of multi-tenant and named-vector collections, and of dead-lettered objects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import numpy as np
import pytest
import weaviate
import weaviate.classes.config as wc
from pymilvus import MilvusClient
from weaviate.classes.data import DataObject

from w2z_dagster.defs.resources import ZillizResource
from w2z_dagster_tests.support.seeding import (
    ALL_CHECKS,
    as_written,
    failed,
    migrate,
    mismatches,
    numbers,
    reverify,
    seed_articles,
    seed_multi_tenant,
    seed_named_vectors,
    uuid_of,
    verdicts,
)

pytestmark = pytest.mark.slow

TENANTS = ["alpha", "beta"]
PER_TENANT = 8


def test_multi_tenant_copy_passes_and_a_row_lost_in_one_tenant_is_named_by_tenant(
    weaviate_client: weaviate.WeaviateClient,
    instance: dg.DagsterInstance,
    resources: dict[str, Any],
    milvus_uri: str,
) -> None:
    seed_multi_tenant(weaviate_client, "Notes", TENANTS, PER_TENANT)
    clean = migrate(instance, resources, "Notes")
    assert clean.success
    assert verdicts(clean) == dict.fromkeys(ALL_CHECKS, True)
    assert numbers(clean, "identity")["matched"] == 2 * PER_TENANT
    assert numbers(clean, "content")["compared"] == 2 * PER_TENANT

    MilvusClient(milvus_uri).delete("Notes", ids=[f"beta:{uuid_of(5)}"])
    result = reverify(instance, resources, "Notes")

    assert failed(result) == {"counts", "identity"}
    assert [(m["tenant"], m["weaviate"], m["milvus"]) for m in mismatches(result, "counts")] == [
        ("beta", str(PER_TENANT), str(PER_TENANT - 1))
    ]
    assert [(m["tenant"], m["uuid"], m["detail"]) for m in mismatches(result, "identity")] == [
        ("beta", uuid_of(5), "missing in Milvus")
    ]


def test_named_vectors_are_compared_and_searched_per_vector(
    weaviate_client: weaviate.WeaviateClient,
    instance: dg.DagsterInstance,
    resources: dict[str, Any],
    milvus_uri: str,
) -> None:
    seed_named_vectors(weaviate_client, "Pages", 20, {"body": 8, "caption": 4})
    clean = migrate(instance, resources, "Pages")
    assert verdicts(clean) == dict.fromkeys(ALL_CHECKS, True)
    per_field = numbers(clean, "search_parity")["fields"]
    assert sorted(per_field) == ["body", "caption"]
    assert all(f["queries"] == 10 and f["mean_recall"] == 1.0 for f in per_field.values())

    milvus = MilvusClient(milvus_uri)
    row = as_written(milvus.get("Pages", ids=[uuid_of(9)], output_fields=["*"])[0])
    caption = np.asarray(row["caption"], dtype=np.float32)
    caption[2] = -caption[2] - 1
    row["caption"] = caption.tolist()
    milvus.upsert("Pages", [row])
    result = reverify(instance, resources, "Pages")

    assert failed(result) == {"content"}
    assert [(m["uuid"], m["field"]) for m in mismatches(result, "content")] == [(uuid_of(9), "caption")]


def test_a_dead_lettered_object_fails_rejects_and_content_and_is_listed_with_its_reason(
    weaviate_client: weaviate.WeaviateClient, instance: dg.DagsterInstance, resources: dict[str, Any]
) -> None:
    seed_articles(weaviate_client, "Articles", n=12)
    too_long = "x" * 70_000
    weaviate_client.collections.use("Articles").data.insert_many(
        [DataObject(properties={"title": too_long}, uuid=uuid_of(99), vector=[-1.0] * 8)]
    )

    result = migrate(instance, resources, "Articles")

    assert not result.success
    assert failed(result) == {"counts", "identity", "content", "rejects"}
    assert numbers(result, "rejects")["dead_lettered"] == 1
    listed = mismatches(result, "rejects")
    assert [m["uuid"] for m in listed] == [uuid_of(99)]
    assert "70000 UTF-8 bytes" in listed[0]["detail"]
    assert numbers(result, "content")["dead_lettered"] == 1
    assert [m["uuid"] for m in mismatches(result, "identity")] == [uuid_of(99)]


def _pod_instance(tmp_path: Path, pod: str) -> dg.DagsterInstance:
    """An instance as a Kubernetes run pod sees it: shared run and event storage, its own local disk."""
    home = tmp_path / pod
    home.mkdir()
    (home / "dagster.yaml").write_text(
        f"storage:\n  sqlite:\n    base_dir: {tmp_path / 'shared_storage'}\n"
        "local_artifact_storage:\n  module: dagster.core.storage.root\n  class: LocalArtifactStorage\n"
        f"  config:\n    base_dir: {home / 'local'}\ntelemetry:\n  enabled: false\n"
    )
    return dg.DagsterInstance.from_config(str(home))


def test_dead_letters_in_the_configured_location_reach_verification_run_on_another_machine(
    weaviate_client: weaviate.WeaviateClient, resources: dict[str, Any], milvus_uri: str, tmp_path: Path
) -> None:
    seed_articles(weaviate_client, "Articles", n=5)
    weaviate_client.collections.use("Articles").data.insert_many(
        [DataObject(properties={"title": "x" * 70_000}, uuid=uuid_of(99), vector=[-1.0] * 8)]
    )
    location = str(tmp_path / "dl")
    shared = {
        **resources,
        "zilliz": ZillizResource(uri=milvus_uri, retry_delay=0.01, dead_letter_dir=location),
    }
    with _pod_instance(tmp_path, "pod-1") as first:
        migrated = migrate(first, shared, "Articles")

    with _pod_instance(tmp_path, "pod-2") as second:
        seen = reverify(second, shared, "Articles")
        unseen = reverify(second, resources, "Articles")

    assert numbers(migrated, "rejects")["dead_lettered"] == 1
    assert [m["uuid"] for m in mismatches(seen, "rejects")] == [uuid_of(99)]
    assert numbers(unseen, "rejects")["dead_lettered"] == 0
    assert [p.name for p in (tmp_path / "dl").iterdir()] == ["Articles"]


def test_exact_duplicate_vectors_are_ties_not_search_parity_failures(
    weaviate_client: weaviate.WeaviateClient, instance: dg.DagsterInstance, resources: dict[str, Any]
) -> None:
    """Real collections store the same chunk twice: 40 objects, two vectors, 20 copies each.

    Any 10 of a vector's 20 copies are equally near neighbours; each database picks its own 10.
    """
    chunks = weaviate_client.collections.create(
        "Chunks",
        properties=[wc.Property(name="title", data_type=wc.DataType.TEXT)],
        vector_config=wc.Configure.Vectors.self_provided(),
    )
    vectors = [[1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]
    chunks.data.insert_many(
        [
            DataObject(properties={"title": f"chunk {i}"}, uuid=uuid_of(i), vector=vectors[i % 2])
            for i in range(40)
        ]
    )

    result = migrate(instance, resources, "Chunks")

    assert verdicts(result) == dict.fromkeys(ALL_CHECKS, True)
    assert numbers(result, "search_parity")["recall"] == 1.0
