"""Issue 4's proof: a collection with every Weaviate type, sparse and edge values, a legacy vector, two
named vectors and references, plus a multi-tenant twin sharing UUIDs across tenants, migrated through the
four assets and read back from Milvus Lite."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import dagster as dg
import numpy as np
import pytest
import weaviate
from pymilvus import MilvusClient
from weaviate.classes.data import DataObject, GeoCoordinate, PhoneNumber
from weaviate.classes.tenants import Tenant

from w2z_dagster.defs.resources import ZillizResource
from w2z_dagster.lib.metadata import CopyMetadataSet
from w2z_dagster_tests.support.seeding import ALL_CHECKS, ASSETS, uuid_of

pytestmark = pytest.mark.slow

LIMIT_TEXT = "é" * 32_767 + "a"  # 65,535 UTF-8 bytes: exactly what Milvus VARCHAR holds
PROPERTIES = [
    ("p_text", "text"),
    ("p_texts", "text[]"),
    ("p_int", "int"),
    ("p_ints", "int[]"),
    ("p_number", "number"),
    ("p_numbers", "number[]"),
    ("p_bool", "boolean"),
    ("p_bools", "boolean[]"),
    ("p_date", "date"),
    ("p_dates", "date[]"),
    ("p_uuid", "uuid"),
    ("p_uuids", "uuid[]"),
    ("p_geo", "geoCoordinates"),
    ("p_phone", "phoneNumber"),
    ("p_blob", "blob"),
]
NESTED = {
    "name": "p_object",
    "dataType": ["object"],
    "nestedProperties": [
        {"name": "label", "dataType": ["text"]},
        {"name": "when", "dataType": ["date"]},
        {"name": "inner", "dataType": ["object"], "nestedProperties": [{"name": "n", "dataType": ["int"]}]},
    ],
}
NESTED_ARRAY = {
    "name": "p_objects",
    "dataType": ["object[]"],
    "nestedProperties": [
        {"name": "label", "dataType": ["text"]},
        {"name": "score", "dataType": ["number"]},
    ],
}
VECTORS = {"default": 5, "title_vec": 4, "body_vec": 6}
WHEN = datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=timezone(timedelta(hours=2)))


def _class(name: str, multi_tenant: bool) -> dict[str, Any]:
    return {
        "class": name,
        "vectorizer": "none",
        "vectorIndexType": "hnsw",
        "vectorIndexConfig": {"distance": "l2-squared"},
        "vectorConfig": {
            "title_vec": {
                "vectorizer": {"none": {}},
                "vectorIndexType": "hnsw",
                "vectorIndexConfig": {"distance": "cosine"},
            },
            "body_vec": {
                "vectorizer": {"none": {}},
                "vectorIndexType": "flat",
                "vectorIndexConfig": {"distance": "dot"},
            },
        },
        "multiTenancyConfig": {"enabled": multi_tenant},
        "properties": [
            *({"name": n, "dataType": [t]} for n, t in PROPERTIES),
            NESTED,
            NESTED_ARRAY,
            {"name": "author", "dataType": ["MatrixAuthor"]},
        ],
    }


def _full(i: int, rng: np.random.Generator) -> dict[str, Any]:
    return {
        "p_text": LIMIT_TEXT if i == 0 else f"text {i} ✓ 中文",
        "p_texts": ["a", "ß", ""],
        "p_int": 2**53 - i,
        "p_ints": [-(2**40), 0, i],
        "p_number": 0.1 + i,
        "p_numbers": [1.5, -2.25e300, 5e-324],
        "p_bool": False,
        "p_bools": [True, False],
        "p_date": WHEN + timedelta(days=i),
        "p_dates": [WHEN, datetime(1999, 12, 31, tzinfo=UTC)],
        "p_uuid": uuid_of(900 + i),
        "p_uuids": [uuid_of(901), uuid_of(902)],
        "p_geo": GeoCoordinate(latitude=52.366 + i, longitude=4.9041),
        "p_phone": PhoneNumber(number="+31 6 12345678"),
        "p_blob": base64.b64encode(bytes(rng.integers(0, 256, 40, dtype=np.uint8))).decode(),
        "p_object": {"label": "outer", "when": WHEN, "inner": {"n": i}},
        "p_objects": [{"label": "x", "score": 1.25}, {"score": -3.0}],
    }


def _sparse() -> dict[str, Any]:
    return {"p_text": "only text", "p_texts": [], "p_ints": [], "p_objects": []}


def _vectors(rng: np.random.Generator) -> dict[str, list[float]]:
    return {name: rng.standard_normal(dim).astype(np.float32).tolist() for name, dim in VECTORS.items()}


def _seed(client: weaviate.WeaviateClient) -> dict[tuple[str, str | None, str], dict[str, Any]]:
    rng = np.random.default_rng(3)
    authors = client.collections.create_from_dict(
        {
            "class": "MatrixAuthor",
            "vectorConfig": {"default": {"vectorizer": {"none": {}}, "vectorIndexType": "hnsw"}},
        }
    )
    authors.data.insert_many(
        [DataObject(properties={}, uuid=uuid_of(500 + k), vector=[0.5, k]) for k in range(2)]
    )
    expected = {}
    single = client.collections.create_from_dict(_class("Matrix", multi_tenant=False))
    objects = []
    for i, props in enumerate([_full(0, rng), _full(1, rng), _sparse()]):
        vectors = _vectors(rng)
        refs = {"author": [uuid_of(500), uuid_of(501)]} if i < 2 else None
        objects.append(DataObject(properties=props, uuid=uuid_of(i), vector=vectors, references=refs))
        expected[("Matrix", None, uuid_of(i))] = {"props": props, "vectors": vectors, "refs": refs or {}}
    assert single.data.insert_many(objects).errors == {}
    twin = client.collections.create_from_dict(_class("MatrixTenants", multi_tenant=True))
    twin.tenants.create([Tenant(name="alpha"), Tenant(name="beta")])
    for k, tenant in enumerate(("alpha", "beta")):
        props = _full(10 + k, rng)
        vectors = _vectors(rng)
        assert (
            twin.with_tenant(tenant)
            .data.insert_many([DataObject(properties=props, uuid=uuid_of(0), vector=vectors)])
            .errors
            == {}
        )
        expected[("MatrixTenants", tenant, uuid_of(0))] = {"props": props, "vectors": vectors, "refs": {}}
    return expected


def _instant(value: Any) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value


def _assert_row_equals(row: dict[str, Any], want: dict[str, Any]) -> None:
    props = want["props"]
    for name, _ in PROPERTIES:
        value = props.get(name)
        got = row[name]
        if value is None or (isinstance(value, list) and not value and name not in props):
            assert got is None, name
        elif name == "p_date":
            assert _instant(got) == value, name
        elif name == "p_dates":
            assert [_instant(v) for v in got] == value
        elif name == "p_geo":
            assert got == {
                "latitude": float(np.float32(value.latitude)),
                "longitude": float(np.float32(value.longitude)),
            }
        elif name == "p_phone":
            assert got["input"] == value.number
        else:
            assert got == value, name
    assert row["p_objects"] == props.get("p_objects")
    if "p_object" in props:
        assert row["p_object"]["label"] == "outer" and row["p_object"]["inner"] == props["p_object"]["inner"]
        assert _instant(row["p_object"]["when"]) == WHEN
    else:
        assert row["p_object"] is None
    assert row["author"] == want["refs"].get("author", [])
    for name, vector in want["vectors"].items():
        field = "vector" if name == "default" else name
        assert (
            np.asarray(row[field], dtype=np.float32).tobytes()
            == np.asarray(vector, dtype=np.float32).tobytes()
        )


def test_every_type_arrives_equal_through_the_assets(
    weaviate_client: weaviate.WeaviateClient, instance: dg.DagsterInstance, resources: dict, milvus_uri: str
) -> None:
    expected = _seed(weaviate_client)
    resources = {**resources, "zilliz": ZillizResource(uri=milvus_uri, store_blobs=True, retry_delay=0.01)}
    instance.add_dynamic_partitions("weaviate_collections", ["Matrix", "MatrixTenants", "MatrixAuthor"])

    results = {
        name: dg.materialize(ASSETS, partition_key=name, instance=instance, resources=resources)
        for name in ("MatrixAuthor", "Matrix", "MatrixTenants")
    }

    for result in results.values():
        assert result.success
        assert {e.check_name: e.passed for e in result.get_asset_check_evaluations()} == dict.fromkeys(
            ALL_CHECKS, True
        )
    milvus = MilvusClient(milvus_uri)
    single = {r["id"]: r for r in milvus.query("Matrix", filter='id != ""', output_fields=["*"], limit=10)}
    twins = {
        r["id"]: r for r in milvus.query("MatrixTenants", filter='id != ""', output_fields=["*"], limit=10)
    }
    assert sorted(single) == [uuid_of(i) for i in range(3)]
    assert sorted(twins) == [f"alpha:{uuid_of(0)}", f"beta:{uuid_of(0)}"]
    assert len(single[uuid_of(0)]["p_text"].encode()) == 65_535
    for (collection, tenant, uuid), want in expected.items():
        row = single[uuid] if collection == "Matrix" else twins[f"{tenant}:{uuid}"]
        if tenant:
            assert (row["tenant"], row["uuid"]) == (tenant, uuid)
        _assert_row_equals(row, want)


def test_text_one_byte_over_the_limit_is_rejected_not_truncated(
    weaviate_client: weaviate.WeaviateClient, instance: dg.DagsterInstance, resources: dict, milvus_uri: str
) -> None:
    weaviate_client.collections.create_from_dict(
        {
            "class": "Long",
            "vectorConfig": {"default": {"vectorizer": {"none": {}}, "vectorIndexType": "hnsw"}},
            "properties": [{"name": "body", "dataType": ["text"]}],
        }
    )
    weaviate_client.collections.use("Long").data.insert_many(
        [
            DataObject(properties={"body": LIMIT_TEXT + "b"}, uuid=uuid_of(1), vector=[1.0, 2.0]),
            DataObject(properties={"body": "fits"}, uuid=uuid_of(2), vector=[1.0, 3.0]),
        ]
    )
    instance.add_dynamic_partitions("weaviate_collections", ["Long"])

    result = dg.materialize(
        ASSETS, partition_key="Long", instance=instance, resources=resources, raise_on_error=False
    )

    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks["counts"] is False and checks["rejects"] is False
    metadata = CopyMetadataSet.extract(result.asset_materializations_for_node("migrated_batches")[0].metadata)
    assert (metadata.objects, metadata.rejected) == (1, 1)
    assert metadata.first_rejects.records[0].data["reason"] == (
        "property 'body' is 65536 UTF-8 bytes; Milvus VARCHAR holds at most 65535"
    )
    assert [
        r["body"] for r in MilvusClient(milvus_uri).query("Long", filter='id != ""', output_fields=["body"])
    ] == ["fits"]
