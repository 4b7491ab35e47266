from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from w2z_dagster.core import transform
from w2z_dagster.core.mapping import build_plan
from w2z_dagster.core.plan import FieldRole, MappingOptions, MigrationPlan
from w2z_dagster.core.profiles import TargetProfile
from w2z_dagster.core.retry import RetryPolicy
from w2z_dagster.core.schema import CollectionSchema, PropertySpec, SourceObject, VectorSpec, WeaviateType
from w2z_dagster.core.sink import MilvusSink
from w2z_dagster.core.transform import canonical_date, from_row, primary_key, to_rows
from w2z_dagster.core.verification.equality import MULTI_VECTOR, VECTOR, values_equal
from w2z_dagster_tests.unit.core.test_mapping import every_type_schema, prop

T = WeaviateType
U1 = "6f1c7a5e-2b3d-4c5e-8f90-0a1b2c3d4e5f"
U2 = "0b9e3a2c-1d4f-4e6a-9b8c-7d6e5f4a3b2c"
CEST = timezone(timedelta(hours=2))
IST = timezone(timedelta(hours=5, minutes=30))

VALUES: dict[WeaviateType, Any] = {
    T.TEXT: "héllo ✓ 中文",
    T.TEXT_ARRAY: ["a", "ß", ""],
    T.INT: -(2**63),
    T.INT_ARRAY: [0, 2**63 - 1, -5],
    T.NUMBER: 0.1,
    T.NUMBER_ARRAY: [1.5, -2.25e300, 5e-324],
    T.BOOLEAN: False,
    T.BOOLEAN_ARRAY: [True, False],
    T.DATE: datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=CEST),
    T.DATE_ARRAY: [datetime(2024, 1, 1, tzinfo=UTC), datetime(1, 1, 1, tzinfo=UTC)],
    T.UUID: U2,
    T.UUID_ARRAY: [U1, U2],
    T.GEO: {"latitude": 52.36600112915039, "longitude": 4.900000095367432},
    T.PHONE: {
        "input": "+31 20 123 4567",
        "default_country": "NL",
        "country_code": 31,
        "national": 201234567,
        "national_formatted": "020 123 4567",
        "international_formatted": "+31 20 123 4567",
        "valid": True,
    },
    T.BLOB: "aGVsbG8gd29ybGQ=",
    T.OBJECT: {
        "when": datetime(2023, 12, 31, 23, 59, 59, tzinfo=IST),
        "score": 1.25,
        "inner": [{"days": [datetime(2020, 2, 29, tzinfo=UTC)], "tag": "x"}, {"tag": "y"}],
        "undeclared": {"deep": [1, None, "z"]},
    },
    T.OBJECT_ARRAY: [{"when": datetime(2000, 1, 1, tzinfo=UTC), "score": -0.5}, {"score": 3.0}],
}
REFERENCES = [U2, U1]
VECTORS = {"default": [0.1, 0.2, 0.3], "body": [1.0, -2.0, 3.5, 0.0], "colbert": [[0.1, 0.2], [0.3, 0.4]]}


def every_object(uuid: str = U1, tenant: str | None = None, **changes: Any) -> SourceObject:
    properties = {f"p_{t.name.lower()}": v for t, v in VALUES.items()}
    obj = SourceObject(
        uuid=uuid,
        tenant=tenant,
        properties=properties,
        references={"p_reference": list(REFERENCES)},
        vectors={k: list(v) for k, v in VECTORS.items()},
    )
    return obj.model_copy(update=changes)


def plan_for(multi_tenant: bool = False, profile: str = "lite", **options: Any) -> MigrationPlan:
    return build_plan(every_type_schema(multi_tenant), TargetProfile(profile), MappingOptions(**options))


STORE = {"blobs": "store"}


def assert_round_trip(obj: SourceObject, plan: MigrationPlan, back: dict[str, Any]) -> None:
    assert (back["uuid"], back["tenant"]) == (obj.uuid, obj.tenant)
    for f in plan.fields_with(FieldRole.PROPERTY):
        assert values_equal(f.weaviate_type, obj.properties.get(f.source), back["properties"][f.source]), (
            f.source
        )
    for f in plan.fields_with(FieldRole.REFERENCE):
        assert values_equal(T.REFERENCE, obj.references.get(f.source), back["references"][f.source])
    assert back["vectors"].keys() == {k for k, v in obj.vectors.items() if v is not None and len(v)}
    for f in plan.fields_with(FieldRole.VECTOR, FieldRole.MULTI_VECTOR):
        if f.source in back["vectors"]:
            kind = VECTOR if f.role == FieldRole.VECTOR else MULTI_VECTOR
            assert values_equal(kind, obj.vectors[f.source], back["vectors"][f.source])


def test_every_type_row() -> None:
    plan = plan_for(**STORE)
    result = to_rows([every_object()], plan)
    assert result.rejects == []
    (row,) = result.rows
    assert set(row) == set(plan.field_names) - {"w2z_bm25"}  # Milvus fills the BM25 output
    vectors = {k: row.pop(k) for k in ("vector", "body")}
    assert vectors["vector"].dtype == np.float32
    assert vectors["vector"].tolist() == np.asarray([0.1, 0.2, 0.3], dtype=np.float32).tolist()
    assert vectors["body"].tolist() == [1.0, -2.0, 3.5, 0.0]
    assert row == {
        "id": U1,
        "colbert": np.asarray(VECTORS["colbert"], dtype=np.float32).tolist(),
        "p_text": "héllo ✓ 中文",
        "p_text_array": ["a", "ß", ""],
        "w2z_text": "héllo ✓ 中文\na\nß\n",
        "p_int": -(2**63),
        "p_int_array": [0, 2**63 - 1, -5],
        "p_number": 0.1,
        "p_number_array": [1.5, -2.25e300, 5e-324],
        "p_boolean": False,
        "p_boolean_array": [True, False],
        "p_date": "2024-05-06T05:08:09.123456Z",
        "p_date_array": ["2024-01-01T00:00:00.000000Z", "0001-01-01T00:00:00.000000Z"],
        "p_uuid": U2,
        "p_uuid_array": [U1, U2],
        "p_geo": VALUES[T.GEO],
        "p_phone": VALUES[T.PHONE],
        "p_blob": "aGVsbG8gd29ybGQ=",
        "p_object": {
            "when": "2023-12-31T18:29:59.000000Z",
            "score": 1.25,
            "inner": [{"days": ["2020-02-29T00:00:00.000000Z"], "tag": "x"}, {"tag": "y"}],
            "undeclared": {"deep": [1, None, "z"]},
        },
        "p_object_array": [{"when": "2000-01-01T00:00:00.000000Z", "score": -0.5}, {"score": 3.0}],
        "p_reference": [U2, U1],
        "w2z_updated_ms": 0,
    }


@pytest.mark.parametrize("multi_tenant", [False, True])
def test_every_type_round_trip(multi_tenant: bool) -> None:
    plan = plan_for(multi_tenant, **STORE)
    obj = every_object(tenant="tenantA" if multi_tenant else None)
    (row,) = to_rows([obj], plan).rows
    back = from_row(row, plan)
    assert_round_trip(obj, plan, back)
    assert back["properties"]["p_date"] == VALUES[T.DATE]
    assert back["properties"]["p_date"].tzinfo == UTC
    assert back["properties"]["p_object"]["when"] == VALUES[T.OBJECT]["when"]
    assert back["properties"]["p_object"]["inner"][0]["days"] == [datetime(2020, 2, 29, tzinfo=UTC)]


@pytest.mark.parametrize("wtype", list(T))
def test_round_trip_per_type(wtype: WeaviateType) -> None:
    schema = CollectionSchema(
        name="One", properties=(prop(wtype),), vectors=(VectorSpec(name="v", dimension=2),)
    )
    plan = build_plan(schema, TargetProfile.MILVUS, MappingOptions(blobs="store"))
    name = f"p_{wtype.name.lower()}"
    value = VALUES.get(wtype, REFERENCES)
    objects = [
        SourceObject(
            uuid=U1,
            properties={} if wtype == T.REFERENCE else {name: value},
            references={name: value} if wtype == T.REFERENCE else {},
            vectors={"v": [1.0, 2.0]},
        ),
        SourceObject(uuid=U2, properties={name: None}, vectors={"v": [1.0, 2.0]}),
    ]
    result = to_rows(objects, plan)
    assert result.rejects == []
    assert result.rows[1][name] is None
    for obj, row in zip(objects, result.rows, strict=True):
        assert_round_trip(obj, plan, from_row(row, plan))


def test_missing_values_stay_missing() -> None:
    plan = plan_for(**STORE)
    obj = SourceObject(uuid=U1, properties={"p_text": None}, vectors=VECTORS)
    (row,) = to_rows([obj], plan).rows
    assert all(row[f.name] is None for f in plan.fields_with(FieldRole.PROPERTY, FieldRole.REFERENCE))
    back = from_row(row, plan)
    assert set(back["properties"].values()) == {None}
    assert back["references"] == {"p_reference": None}


def test_falsy_values_are_kept() -> None:
    plan = plan_for()
    obj = every_object(
        properties={"p_text": "", "p_int": 0, "p_number": 0.0, "p_boolean": False, "p_text_array": []},
        references={"p_reference": []},
    )
    (row,) = to_rows([obj], plan).rows
    assert (row["p_text"], row["p_int"], row["p_number"], row["p_boolean"], row["p_text_array"]) == (
        "",
        0,
        0.0,
        False,
        [],
    )
    assert row["p_reference"] == []


@pytest.mark.parametrize(
    ("value", "canonical"),
    [
        (datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=CEST), "2024-05-06T05:08:09.123456Z"),
        (datetime(2024, 5, 6, 5, 8, 9, 123456, tzinfo=UTC), "2024-05-06T05:08:09.123456Z"),
        (datetime(2024, 5, 6, 5, 8, 9), "2024-05-06T05:08:09.000000Z"),
        ("2024-05-06T07:08:09.5+02:00", "2024-05-06T05:08:09.500000Z"),
        ("2024-05-06T05:08:09Z", "2024-05-06T05:08:09.000000Z"),
        (datetime(1, 1, 1, tzinfo=UTC), "0001-01-01T00:00:00.000000Z"),
        (datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "9999-12-31T23:59:59.999999Z"),
        (datetime(2024, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=5))), "2023-12-31T20:00:00.000000Z"),
    ],
)
def test_date_normalisation(value: datetime | str, canonical: str) -> None:
    assert canonical_date(value) == canonical
    plan = plan_for()
    (row,) = to_rows([every_object(properties={"p_date": value})], plan).rows
    assert row["p_date"] == canonical
    assert values_equal(T.DATE, from_row(row, plan)["properties"]["p_date"], value)


def test_canonical_dates_sort_like_instants() -> None:
    instants = [
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(999, 5, 1, tzinfo=UTC),
        datetime(2024, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
        datetime(2024, 1, 1, 1, 30, tzinfo=CEST),
        datetime(2024, 1, 1, 0, 0, 1, tzinfo=UTC),
    ]
    texts = [canonical_date(d) for d in instants]
    assert {len(t) for t in texts} == {27}
    assert sorted(texts) == [canonical_date(d) for d in sorted(instants)]


def reject_reason(obj: SourceObject, plan: MigrationPlan | None = None) -> str:
    result = to_rows([obj], plan or plan_for(**STORE))
    assert result.rows == []
    (reject,) = result.rejects
    assert (reject.uuid, reject.tenant) == (obj.uuid, obj.tenant)
    return reject.reason


def with_props(**properties: Any) -> SourceObject:
    return every_object(properties=properties)


def with_vectors(**vectors: Any) -> SourceObject:
    return every_object(vectors={**VECTORS, **vectors})


@pytest.mark.parametrize(
    ("obj", "reason"),
    [
        (
            with_props(p_text="x" * 65_536),
            "property 'p_text' is 65536 UTF-8 bytes; Milvus VARCHAR holds at most 65535",
        ),
        (
            with_props(p_text="€" * 21_846),
            "property 'p_text' is 65538 UTF-8 bytes; Milvus VARCHAR holds at most 65535",
        ),
        (
            with_props(p_blob="A" * 70_000),
            "property 'p_blob' is 70000 UTF-8 bytes; Milvus VARCHAR holds at most 65535",
        ),
        (
            with_props(p_text_array=["a"] * 4097),
            "property 'p_text_array' has 4097 elements; Milvus ARRAY holds at most 4096",
        ),
        (
            with_props(p_text_array=["a", "é" * 32_768]),
            "an element of property 'p_text_array' is 65536 UTF-8 bytes; Milvus VARCHAR holds at most 65535",
        ),
        (
            with_props(p_uuid=U1 + "-extra"),
            "property 'p_uuid' is 42 UTF-8 bytes; Milvus VARCHAR holds at most 36",
        ),
        (
            with_props(p_text_array=["a", None]),
            "property 'p_text_array' contains a null element; Milvus arrays cannot hold nulls",
        ),
        (
            with_props(p_object={"tag": "x" * 65_530}),
            "property 'p_object' is 65540 bytes as JSON; Milvus JSON holds at most 65536",
        ),
        (
            with_props(p_object={"score": math.nan}),
            "property 'p_object' contains nan; JSON cannot hold NaN or infinite numbers",
        ),
        (
            with_props(p_object={"big": [2**64]}),
            "property 'p_object' contains 18446744073709551616; Milvus JSON holds integers of at most 64 bits",
        ),
        (
            with_props(p_object={"when": datetime(1, 1, 1, tzinfo=CEST)}),
            "property 'p_object' is not a representable RFC 3339 date (date value out of range)",
        ),
        (
            with_props(p_int=2**63),
            "property 'p_int' is 9223372036854775808; "
            "Milvus INT64 holds -9223372036854775808 to 9223372036854775807",
        ),
        (
            with_props(p_int_array=[1, -(2**63) - 1]),
            "an element of property 'p_int_array' is -9223372036854775809; "
            "Milvus INT64 holds -9223372036854775808 to 9223372036854775807",
        ),
        (
            with_props(p_number=math.nan),
            "property 'p_number' is nan; Milvus rejects NaN and infinite numbers",
        ),
        (
            with_props(p_number_array=[1.0, math.inf]),
            "an element of property 'p_number_array' is inf; Milvus rejects NaN and infinite numbers",
        ),
        (with_props(p_text=5), "property 'p_text' is of type int, not text"),
        (with_props(p_int=True), "property 'p_int' is of type bool, not an integer"),
        (with_props(p_int=1.5), "property 'p_int' is of type float, not an integer"),
        (with_props(p_boolean=1), "property 'p_boolean' is of type int, not a boolean"),
        (with_props(p_date=12), "property 'p_date' is of type int, not a date"),
        (
            with_props(p_date="yesterday"),
            "property 'p_date' is not a representable RFC 3339 date (Invalid isoformat string: 'yesterday')",
        ),
        (with_props(p_geo={"latitude": 1.0}), "property 'p_geo' is not a {latitude, longitude} pair"),
        (with_props(p_int_array="1,2"), "property 'p_int_array' is of type str, not a list"),
        (
            every_object(references={"p_reference": [U1] * 4097}),
            "reference 'p_reference' has 4097 elements; Milvus ARRAY holds at most 4096",
        ),
        (with_vectors(default=[0.1, 0.2]), "vector 'default' has dimension 2; the target field expects 3"),
        (
            with_vectors(body=[1.0, math.nan, 0.0, 0.0]),
            "vector 'body' contains NaN, infinity or a value beyond float32 range",
        ),
        (
            with_vectors(body=[1.0, math.inf, 0.0, 0.0]),
            "vector 'body' contains NaN, infinity or a value beyond float32 range",
        ),
        (
            with_vectors(body=[1.0, 1e39, 0.0, 0.0]),
            "vector 'body' contains NaN, infinity or a value beyond float32 range",
        ),
        (with_vectors(body=["a", "b", "c", "d"]), "vector 'body' is not a list of numbers"),
        (with_vectors(body=[[1.0, 2.0], [3.0, 4.0]]), "vector 'body' is not a flat list of numbers"),
        (with_vectors(body=None), "object has no vector 'body'"),
        (with_vectors(body=[]), "object has no vector 'body'"),
        (every_object(vectors={"body": [1, 2, 3, 4], "colbert": [[1, 2]]}), "object has no vector 'default'"),
        (
            with_vectors(colbert=[[0.1, 0.2, 0.3]]),
            "multi-vector 'colbert' has dimension 3; the target expects 2",
        ),
        (
            with_vectors(colbert=[[0.1, 0.2], [0.3]]),
            "multi-vector 'colbert' is not a list of equally long vectors",
        ),
        (
            with_vectors(colbert=[[0.1, math.nan]]),
            "multi-vector 'colbert' contains NaN, infinity or a value beyond float32 range",
        ),
        (
            with_vectors(colbert=[[0.1, 0.2]] * 2000),
            "multi-vector 'colbert' is 84001 bytes as JSON; Milvus JSON holds at most 65536",
        ),
        (
            every_object(uuid=U1 + U1),
            "object id is 72 UTF-8 bytes; Milvus VARCHAR holds at most 36",
        ),
        (
            every_object(tenant="tenantA"),
            "object has tenant 'tenantA' but the collection is not multi-tenant",
        ),
    ],
)
def test_rejects(obj: SourceObject, reason: str) -> None:
    assert reject_reason(obj) == reason


def test_text_at_the_limit_fits() -> None:
    plan = plan_for()
    obj = with_props(p_text="€" * 21_845, p_text_array=["x" * 65_535] * 2)
    assert to_rows([obj], plan).rejects == []


def test_multi_tenant_rejects() -> None:
    plan = plan_for(multi_tenant=True)
    assert reject_reason(every_object(), plan) == "object has no tenant but the collection is multi-tenant"
    assert (
        reject_reason(every_object(tenant="t" * 256), plan)
        == "tenant is 256 UTF-8 bytes; Milvus VARCHAR holds at most 255"
    )


def test_missing_vector_null_option() -> None:
    plan = plan_for(profile="milvus", missing_vector="null")
    obj = every_object(vectors={"default": [0.1, 0.2, 0.3]})
    (row,) = to_rows([obj], plan).rows
    assert (row["body"], row["colbert"]) == (None, None)
    assert from_row(row, plan)["vectors"].keys() == {"default"}


def test_a_reject_does_not_stop_the_batch() -> None:
    plan = plan_for()
    objects = [
        every_object(uuid=U1),
        with_props(p_number=math.inf).model_copy(update={"uuid": U2}),
        every_object(),
    ]
    result = to_rows(objects, plan)
    assert [r["id"] for r in result.rows] == [U1]
    assert [(r.uuid, r.reason) for r in result.rejects] == [
        (U2, "property 'p_number' is inf; Milvus rejects NaN and infinite numbers"),
        (U1, f"primary key '{U1}' already occurs in this batch; Milvus refuses duplicate keys in one upsert"),
    ]


def test_reject_carries_the_source_object_as_json() -> None:
    obj = with_vectors(body=[1.0, math.nan, 0.0, 0.0])
    (reject,) = to_rows([obj], plan_for()).rejects
    text = json.dumps(reject.object, allow_nan=False)
    assert json.loads(text) == reject.object
    assert reject.object["uuid"] == U1
    assert reject.object["vectors"]["body"] == [1.0, "nan", 0.0, 0.0]
    assert reject.object["properties"]["p_date"] == "2024-05-06T07:08:09.123456+02:00"


def test_multi_tenant_keys_never_collide() -> None:
    plan = plan_for(multi_tenant=True)
    result = to_rows([every_object(tenant="A"), every_object(tenant="B")], plan)
    assert result.rejects == []
    assert [(r["id"], r["uuid"], r["tenant"]) for r in result.rows] == [
        (f"A:{U1}", U1, "A"),
        (f"B:{U1}", U1, "B"),
    ]
    assert primary_key(plan, U1, "A") == f"A:{U1}"
    assert [from_row(r, plan)["tenant"] for r in result.rows] == ["A", "B"]


def test_single_tenant_key_is_the_uuid() -> None:
    plan = plan_for()
    assert primary_key(plan, U1, None) == U1
    assert to_rows([every_object()], plan).rows[0]["id"] == U1


def test_renamed_fields_round_trip() -> None:
    schema = CollectionSchema(
        name="R",
        properties=(PropertySpec(name="and", data_type=T.TEXT), PropertySpec(name="id", data_type=T.INT)),
        vectors=(VectorSpec(name="default", legacy=True, dimension=2),),
    )
    plan = build_plan(schema, TargetProfile.LITE)
    obj = SourceObject(uuid=U1, properties={"and": "x", "id": 7}, vectors={"default": [1.0, 2.0]})
    (row,) = to_rows([obj], plan).rows
    assert row == {
        "id": U1,
        "vector": row["vector"],
        "and_1": "x",
        "id_1": 7,
        "w2z_text": "x",
        "w2z_updated_ms": 0,
    }
    assert from_row(row, plan)["properties"] == {"and": "x", "id": 7}


def test_skipped_blobs_are_not_in_rows() -> None:
    plan = plan_for()
    (row,) = to_rows([every_object()], plan).rows
    assert "p_blob" not in row
    assert "p_blob" not in from_row(row, plan)["properties"]


def test_converters_are_compiled_once_per_plan() -> None:
    plan = plan_for()
    # The compile cache is the unit under test; it stays private to core/transform.py.
    assert transform._compiled(plan) is transform._compiled(plan)  # noqa: SLF001
    assert transform._compiled(plan_for()) is not transform._compiled(plan)  # noqa: SLF001


@pytest.mark.parametrize(
    ("kind", "a", "b", "equal"),
    [
        (T.DATE, datetime(2024, 1, 1, 2, tzinfo=CEST), "2024-01-01T00:00:00.000000Z", True),
        (T.DATE, datetime(2024, 1, 1, 2, tzinfo=UTC), datetime(2024, 1, 1, 2, tzinfo=CEST), False),
        (T.DATE_ARRAY, [datetime(2024, 1, 1, tzinfo=UTC)], ["2024-01-01T02:00:00+02:00"], True),
        (T.DATE, datetime(2024, 1, 1, tzinfo=UTC), "not a date", False),
        (T.OBJECT, {"when": datetime(2024, 1, 1, tzinfo=UTC)}, {"when": 5}, False),
        (T.NUMBER, 0.1, 0.1, True),
        (T.NUMBER, 0.1, 0.1000000001, False),
        (T.INT, 3, 3, True),
        (T.BOOLEAN, True, 1, False),
        (T.TEXT, "a", "a", True),
        (T.TEXT, "a", None, False),
        (T.TEXT, None, None, True),
        (T.UUID, U1.upper(), U1, True),
        (T.REFERENCE, [U1, U2], [U2, U1], False),
        (T.GEO, {"latitude": 52.366, "longitude": 4.9}, VALUES[T.GEO], True),
        (T.GEO, {"latitude": 52.367, "longitude": 4.9}, VALUES[T.GEO], False),
        (
            T.OBJECT,
            {"when": "2024-01-01T00:00:00Z", "n": 1},
            {"when": datetime(2024, 1, 1, tzinfo=UTC), "n": 1},
            True,
        ),
        (T.OBJECT, {"n": 1}, {"n": 1, "m": None}, False),
        (T.OBJECT_ARRAY, [{"ok": True}], [{"ok": 1}], False),
        (VECTOR, [0.1, 0.2], np.asarray([0.1, 0.2], dtype=np.float32), True),
        (VECTOR, [0.1, 0.2], [0.1, 0.2000001], False),
        (VECTOR, [0.1, 0.2], [0.1, 0.2, 0.0], False),
        (MULTI_VECTOR, [[0.1], [0.2]], [[np.float32(0.1)], [np.float32(0.2)]], True),
        (MULTI_VECTOR, [[0.1, 0.2]], [[0.1], [0.2]], False),
    ],
)
def test_values_equal(kind: str, a: Any, b: Any, equal: bool) -> None:
    assert values_equal(kind, a, b) is equal
    assert values_equal(kind, b, a) is equal


def test_every_type_round_trips_through_milvus_lite(tmp_path: Path) -> None:
    """The plan's field parameters are valid pymilvus, and what comes back reads as the source."""
    from pymilvus import MilvusClient

    plan = plan_for(multi_tenant=True, **STORE)
    client = MilvusClient(str(tmp_path / "m.db"))
    MilvusSink(client, RetryPolicy(1, 0.01)).ensure_collection(plan)

    objects = [
        every_object(tenant="A"),
        every_object(tenant="B"),
        SourceObject(uuid=U2, tenant="A", vectors=VECTORS),
    ]
    result = to_rows(objects, plan)
    assert result.rejects == []
    client.upsert(plan.target, result.rows)
    stored = client.query(plan.target, filter="", output_fields=["*"], limit=10)
    assert sorted(r["id"] for r in stored) == sorted(r["id"] for r in result.rows)
    by_id = {r["id"]: r for r in stored}
    for obj in objects:
        assert_round_trip(obj, plan, from_row(by_id[primary_key(plan, obj.uuid, obj.tenant)], plan))
    newer = client.query(plan.target, filter='p_date > "2024-05-06T05:08:09.000000Z"', output_fields=["id"])
    assert sorted(r["id"] for r in newer) == [f"A:{U1}", f"B:{U1}"]
    client.close()


def test_a_refused_row_keeps_its_cursor_page_vectors_bit_exact_as_json() -> None:
    plan = plan_for(multi_tenant=True)
    raw = np.frombuffer(np.array([0.1, -3.4028235e38, 1e-45, 7.0], dtype="<f4").tobytes(), dtype="<f4")
    page = [
        SourceObject(uuid=U1, tenant="t", properties={"p_text": "ok"}, vectors={"v": raw}),
        SourceObject(uuid=U2, tenant="t", properties={"p_text": "kept"}, vectors={"v": raw}),
    ]

    (reject,) = transform.target_refused(page, {primary_key(plan, U2, "t"): "invalid parameter"}, plan)

    assert (reject.uuid, reject.tenant, reject.reason) == (U2, "t", "target refused: invalid parameter")
    back = json.loads(reject.model_dump_json())["object"]
    assert np.asarray(back["vectors"]["v"], dtype="<f4").tobytes() == raw.tobytes()
    assert back["properties"]["p_text"] == "kept"
