"""Every translated filter returns the same objects on Milvus Lite as the filter does on the test Weaviate.

One collection with every filterable type (and a property renamed by the plan) and one multi-tenant
collection are migrated once through the real asset chain; each case then runs the v4 `Filter` on
Weaviate and its translation on the Milvus Lite file, and the UUID sets must be equal and as expected.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any, NamedTuple

import dagster as dg
import pytest
import weaviate
from pymilvus import MilvusClient
from weaviate.classes.config import Configure, DataType, Property, ReferenceProperty, Tokenization
from weaviate.classes.data import DataObject
from weaviate.classes.query import Filter
from weaviate.classes.tenants import Tenant
from weaviate.collections.filters import _FilterToREST

from w2z_dagster.core.filter_translation import tokenization_of, translate_filter, where_from_filter
from w2z_dagster.core.plan import MigrationPlan
from w2z_dagster.defs.io_managers import CATALOG, CatalogIOManager
from w2z_dagster.defs.resources import WeaviateResource, ZillizResource
from w2z_dagster_tests.support.seeding import migrate
from w2z_dagster_tests.support.weaviate_server import start_server

IDS = [uuid.uuid5(uuid.NAMESPACE_URL, f"filter-parity/{i}") for i in range(5)]
U = [uuid.UUID(int=i + 1) for i in range(3)]
TENANTS = ("alpha", "beta")


def _day(month: int, day: int = 1) -> dt.datetime:
    return dt.datetime(2024, month, day, tzinfo=dt.UTC)


PROPERTIES = [
    Property(name="text", data_type=DataType.TEXT, tokenization=Tokenization.FIELD),
    Property(name="words", data_type=DataType.TEXT),
    Property(name="texts", data_type=DataType.TEXT_ARRAY, tokenization=Tokenization.FIELD),
    Property(name="n", data_type=DataType.INT),
    Property(name="ns", data_type=DataType.INT_ARRAY),
    Property(name="x", data_type=DataType.NUMBER),
    Property(name="xs", data_type=DataType.NUMBER_ARRAY),
    Property(name="b", data_type=DataType.BOOL),
    Property(name="bs", data_type=DataType.BOOL_ARRAY),
    Property(name="d", data_type=DataType.DATE),
    Property(name="ds", data_type=DataType.DATE_ARRAY),
    Property(name="u", data_type=DataType.UUID),
    Property(name="us", data_type=DataType.UUID_ARRAY),
    Property(name="like", data_type=DataType.INT),
    Property(name="ms", data_type=DataType.INT_ARRAY),
    Property(name="ys", data_type=DataType.NUMBER_ARRAY),
]
ROWS: list[dict[str, Any]] = [
    {
        "text": "red apple",
        "words": "Red Apple",
        "texts": ["red", "green"],
        "n": 1,
        "ns": [1, 2],
        "x": 0.5,
        "xs": [0.5, 1.5],
        "b": True,
        "bs": [True],
        "d": _day(1),
        "ds": [_day(1), _day(6)],
        "u": U[0],
        "us": [U[0], U[1]],
        "like": 10,
        "ms": [-3, 4],
        "ys": [-2.5],
    },
    {
        "text": "green apple pie",
        "texts": ["green"],
        "n": 2,
        "ns": [2, 3],
        "x": 1.5,
        "xs": [2.5],
        "b": False,
        "bs": [False, True],
        "d": _day(2, 15),
        "ds": [_day(2, 15)],
        "u": U[1],
        "us": [U[1]],
        "like": 20,
    },
    {
        "text": "blue berry",
        "texts": ["blue"],
        "n": 3,
        "ns": [3],
        "x": 2.5,
        "xs": [],
        "b": True,
        "bs": [False],
        "d": _day(3),
        "ds": [],
        "u": U[2],
        "us": [U[2]],
    },
    {"n": 4},
    {
        "text": 'say "hi" \\ 50% a_b',
        "texts": ["50%", "a_b"],
        "n": -5,
        "x": -1.25,
        "ms": [-(2**40)],
        "ys": [-2.5, 0.25],
    },
]

P = Filter.by_property


class Case(NamedTuple):
    name: str
    flt: Any
    expected: list[int]


CASES = [
    Case("text equal", P("text").equal("red apple"), [0]),
    Case("text equal quotes and backslash", P("text").equal('say "hi" \\ 50% a_b'), [4]),
    Case("text not equal keeps missing", P("text").not_equal("red apple"), [1, 2, 3, 4]),
    Case("text greater", P("text").greater_than("c"), [0, 1, 4]),
    Case("text less or equal", P("text").less_or_equal("green apple pie"), [1, 2]),
    Case("text like prefix", P("text").like("*apple*"), [0, 1]),
    Case("text like single char", P("text").like("blue b?rry"), [2]),
    Case("text like literal percent and underscore", P("text").like("*50% a_b"), [4]),
    Case("text like percent is no wildcard", P("text").like("%"), []),
    Case("text contains any", P("text").contains_any(["blue berry", "red apple"]), [0, 2]),
    Case("text contains all on a scalar", P("text").contains_all(["blue berry"]), [2]),
    Case("text contains none", P("text").contains_none(["blue berry"]), [0, 1, 3, 4]),
    Case("text[] equal", P("texts").equal("green"), [0, 1]),
    Case("text[] not equal", P("texts").not_equal("green"), [2, 3, 4]),
    Case("text[] contains any", P("texts").contains_any(["blue", "a_b"]), [2, 4]),
    Case("text[] contains all", P("texts").contains_all(["red", "green"]), [0]),
    Case("text[] contains none", P("texts").contains_none(["green"]), [2, 3, 4]),
    Case("int equal", P("n").equal(2), [1]),
    Case("int not equal", P("n").not_equal(2), [0, 2, 3, 4]),
    Case("int greater", P("n").greater_than(2), [2, 3]),
    Case("int greater or equal", P("n").greater_or_equal(2), [1, 2, 3]),
    Case("int less", P("n").less_than(2), [0, 4]),
    Case("int less or equal", P("n").less_or_equal(-5), [4]),
    Case("int contains any", P("n").contains_any([1, 3]), [0, 2]),
    Case("int contains none", P("n").contains_none([1, 3]), [1, 3, 4]),
    Case("int[] equal", P("ns").equal(2), [0, 1]),
    Case("int[] not equal", P("ns").not_equal(2), [2, 3, 4]),
    Case("int[] contains all", P("ns").contains_all([2, 3]), [1]),
    Case("int[] contains none", P("ns").contains_none([3]), [0, 3, 4]),
    Case("int[] equal a negative", P("ms").equal(-(2**40)), [4]),
    Case("int[] not equal a negative", P("ms").not_equal(-3), [1, 2, 3, 4]),
    Case("int[] contains any negatives", P("ms").contains_any([-3, -(2**40)]), [0, 4]),
    Case("int[] contains all with a negative", P("ms").contains_all([-3, 4]), [0]),
    Case("number[] equal a negative", P("ys").equal(-2.5), [0, 4]),
    Case("number[] contains none of a negative", P("ys").contains_none([-2.5]), [1, 2, 3]),
    Case("int equal a negative", P("n").equal(-5), [4]),
    Case("int contains any with a negative", P("n").contains_any([-5, 1]), [0, 4]),
    Case("number greater than a negative", P("x").greater_than(-2.0), [0, 1, 2, 4]),
    Case("number equal", P("x").equal(2.5), [2]),
    Case("number greater", P("x").greater_than(1.0), [1, 2]),
    Case("number less or equal with an int", P("x").less_or_equal(0), [4]),
    Case("number not equal", P("x").not_equal(0.5), [1, 2, 3, 4]),
    Case("number[] contains any", P("xs").contains_any([2.5, 0.5]), [0, 1]),
    Case("number[] contains none", P("xs").contains_none([2.5]), [0, 2, 3, 4]),
    Case("boolean equal", P("b").equal(True), [0, 2]),
    Case("boolean not equal keeps missing", P("b").not_equal(True), [1, 3, 4]),
    Case("boolean[] contains all", P("bs").contains_all([True, False]), [1]),
    Case("boolean[] equal", P("bs").equal(False), [1, 2]),
    Case("date equal", P("d").equal(_day(3)), [2]),
    Case(
        "date equal in another zone",
        P("d").equal(dt.datetime(2024, 3, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=2)))),
        [2],
    ),
    Case("date greater", P("d").greater_than(_day(1, 15)), [1, 2]),
    Case("date less", P("d").less_than(_day(2, 15)), [0]),
    Case("date contains any", P("d").contains_any([_day(1), _day(3)]), [0, 2]),
    Case("date[] contains any", P("ds").contains_any([_day(6)]), [0]),
    Case("date[] contains all", P("ds").contains_all([_day(1), _day(6)]), [0]),
    Case("uuid equal", P("u").equal(U[1]), [1]),
    Case("uuid not equal", P("u").not_equal(U[1]), [0, 2, 3, 4]),
    Case("uuid contains any", P("u").contains_any([U[0], U[2]]), [0, 2]),
    Case("uuid greater", P("u").greater_than(U[0]), [1, 2]),
    Case("uuid[] contains all", P("us").contains_all([U[1]]), [0, 1]),
    Case("uuid[] contains none", P("us").contains_none([U[1]]), [2, 3, 4]),
    Case("renamed property", P("like").equal(20), [1]),
    Case("renamed property greater", P("like").greater_than(5), [0, 1]),
    Case("number is null", P("x").is_none(True), [3]),
    Case("boolean is null", P("b").is_none(True), [3, 4]),
    Case("date is null", P("d").is_none(True), [3, 4]),
    Case("uuid is not null", P("u").is_none(False), [0, 1, 2]),
    Case("date[] equal", P("ds").equal(_day(6)), [0]),
    Case("date not equal keeps missing", P("d").not_equal(_day(3)), [0, 1, 3, 4]),
    Case(
        "date greater or equal in another zone",
        P("d").greater_or_equal(dt.datetime(2024, 2, 15, 1, tzinfo=dt.timezone(dt.timedelta(hours=1)))),
        [1, 2],
    ),
    Case("boolean[] contains none", P("bs").contains_none([True]), [2, 3, 4]),
    Case("text is null", P("text").is_none(True), [3]),
    Case("text is not null", P("text").is_none(False), [0, 1, 2, 4]),
    Case("int is null", P("n").is_none(True), []),
    Case("empty array is null", P("xs").is_none(True), [2, 3, 4]),
    Case("array is not null", P("ds").is_none(False), [0, 1]),
    Case("word text is null", P("words").is_none(False), [0]),
    Case("array length", P("texts", length=True).equal(2), [0, 4]),
    Case("missing array has length 0", P("ns", length=True).equal(0), [3, 4]),
    Case("array length greater", P("ns", length=True).greater_than(1), [0, 1]),
    Case("array length less", P("xs", length=True).less_than(1), [2, 3, 4]),
    Case("array length not equal", P("ds", length=True).not_equal(0), [0, 1]),
    Case("by id", Filter.by_id().equal(IDS[0]), [0]),
    Case("by id not equal", Filter.by_id().not_equal(IDS[0]), [1, 2, 3, 4]),
    Case("by id contains any", Filter.by_id().contains_any([IDS[0], IDS[2]]), [0, 2]),
    Case("by id contains none", Filter.by_id().contains_none([IDS[0], IDS[2]]), [1, 3, 4]),
    Case("and", P("n").greater_than(1) & P("b").equal(True), [2]),
    Case("or", P("n").equal(1) | P("x").equal(2.5), [0, 2]),
    Case("not", Filter.not_(P("n").equal(1) | P("n").equal(4)), [1, 2, 4]),
    Case("not of a missing value", Filter.not_(P("x").greater_than(0)), [3, 4]),
    Case("not of not equal", Filter.not_(P("b").not_equal(True)), [0, 2]),
    Case("not of and", Filter.not_(P("b").equal(True) & P("n").less_than(3)), [1, 2, 3, 4]),
    Case("not of contains none", Filter.not_(P("texts").contains_none(["green"])), [0, 1]),
    Case("not of is null", Filter.not_(P("text").is_none(True)), [0, 1, 2, 4]),
    Case("not of length", Filter.not_(P("ns", length=True).equal(0)), [0, 1, 2]),
    Case("all of", Filter.all_of([P("texts").equal("green"), P("n").less_than(2)]), [0]),
    Case("any of", Filter.any_of([P("u").equal(U[2]), Filter.by_id().equal(IDS[3])]), [2, 3]),
]


R = Filter.by_ref_count
LINKS = {0: [1, 2], 1: [0]}
"""Object 0 references objects 1 and 2, object 1 references object 0 (property `link`)."""
REFERENCE_CASES = [
    Case("reference count equal", R("link").equal(2), [0]),
    Case("reference count greater", R("link").greater_than(0), [0, 1]),
    Case("no reference counts 0", R("link").equal(0), [2, 3, 4]),
    Case("reference count not equal", R("link").not_equal(1), [0, 2, 3, 4]),
    Case("reference count less or equal", R("link").less_or_equal(1), [1, 2, 3, 4]),
    Case("reference is null", P("link").is_none(True), [2, 3, 4]),
    Case("reference is not null", P("link").is_none(False), [0, 1]),
    Case("not of a reference count", Filter.not_(R("link").greater_or_equal(1)), [2, 3, 4]),
]


class Migrated(NamedTuple):
    weaviate: weaviate.WeaviateClient
    milvus: MilvusClient
    plans: dict[str, MigrationPlan]
    tokenization: dict[str, dict[str, str]]
    updated_before: dt.datetime


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Migrated]:
    server = start_server()
    client = server.connect()
    uri = str(tmp_path_factory.mktemp("filters") / "target.db")
    try:
        everything = client.collections.create(
            "Everything",
            vector_config=Configure.Vectors.self_provided(),
            properties=PROPERTIES,
            inverted_index_config=Configure.inverted_index(
                index_timestamps=True, index_null_state=True, index_property_length=True
            ),
        )
        everything.data.insert_many(
            [DataObject(properties=row, uuid=IDS[i], vector=[1.0, float(i)]) for i, row in enumerate(ROWS)]
        )
        everything.config.add_reference(ReferenceProperty(name="link", target_collection="Everything"))
        for source, targets in LINKS.items():
            for target in targets:
                everything.data.reference_add(IDS[source], "link", IDS[target])
        before = everything.query.fetch_object_by_id(IDS[1])
        assert before is not None and before.metadata.last_update_time is not None
        everything.data.update(IDS[1], {"n": 2})
        tenanted = client.collections.create(
            "Tenanted",
            vector_config=Configure.Vectors.self_provided(),
            properties=[Property(name="n", data_type=DataType.INT)],
            multi_tenancy_config=Configure.multi_tenancy(enabled=True),
        )
        tenanted.tenants.create([Tenant(name=t) for t in TENANTS])
        for shift, tenant in enumerate(TENANTS):
            tenanted.with_tenant(tenant).data.insert_many(
                [
                    DataObject(properties={"n": i + shift}, uuid=IDS[i], vector=[1.0, float(i)])
                    for i in range(3)
                ]
            )
        resources = {
            CATALOG: CatalogIOManager(),
            "weaviate": WeaviateResource(
                endpoint=server.http_url,
                grpc_endpoint=f"http://{server.host}:{server.grpc_port}",
                retry_delay=0.01,
            ),
            "zilliz": ZillizResource(uri=uri, retry_delay=0.01),
        }
        plans, tokenization = {}, {}
        with dg.instance_for_test() as instance:
            for name in ("Everything", "Tenanted"):
                result = migrate(instance, resources, name)
                assert result.success
                plans[name] = result.output_for_node("zilliz_collection")
                config = client.collections.export_config(name).to_dict()
                tokenization[name] = tokenization_of(config)
        milvus = MilvusClient(uri)
        try:
            yield Migrated(client, milvus, plans, tokenization, before.metadata.last_update_time)
        finally:
            milvus.close()
    finally:
        client.close()
        server.stop()


def _milvus_uuids(m: Migrated, collection: str, expression: str, uuid_field: str = "id") -> set[uuid.UUID]:
    rows = m.milvus.query(
        m.plans[collection].target, filter=expression, output_fields=[uuid_field], limit=100
    )
    return {uuid.UUID(r[uuid_field]) for r in rows}


def _weaviate_uuids(m: Migrated, collection: str, flt: Any, tenant: str | None = None) -> set[uuid.UUID]:
    handle = m.weaviate.collections.use(collection)
    if tenant:
        handle = handle.with_tenant(tenant)
    return {o.uuid for o in handle.query.fetch_objects(filters=flt, limit=100).objects}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_translation_returns_what_weaviate_returns(migrated: Migrated, case: Case) -> None:
    translation = translate_filter(
        case.flt, migrated.plans["Everything"], tokenization=migrated.tokenization["Everything"]
    )
    wanted = {IDS[i] for i in case.expected}
    assert _weaviate_uuids(migrated, "Everything", case.flt) == wanted
    assert _milvus_uuids(migrated, "Everything", translation.filter) == wanted, translation.filter


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_rest_where_translates_as_the_filter_object(migrated: Migrated, case: Case) -> None:
    """The client's own REST form of each filter (dates as its RFC 3339 text) reads the same."""
    plan, tokens = migrated.plans["Everything"], migrated.tokenization["Everything"]
    rest = _FilterToREST.convert(case.flt)
    assert translate_filter(rest, plan, tokenization=tokens) == translate_filter(
        case.flt, plan, tokenization=tokens
    )
    assert where_from_filter(case.flt)["operator"] == rest["operator"]


@pytest.mark.parametrize("case", REFERENCE_CASES, ids=[c.name for c in REFERENCE_CASES])
def test_reference_counts_and_nulls_return_what_weaviate_returns(migrated: Migrated, case: Case) -> None:
    """A reference is migrated as its target UUIDs; Weaviate filters it by count (a missing one is 0)."""
    plan = migrated.plans["Everything"]
    translation = translate_filter(case.flt, plan)
    assert translation == translate_filter(where_from_filter(case.flt), plan)
    wanted = {IDS[i] for i in case.expected}
    assert _weaviate_uuids(migrated, "Everything", case.flt) == wanted
    assert _milvus_uuids(migrated, "Everything", translation.filter) == wanted, translation.filter


def test_update_time_is_stored_and_translated(migrated: Migrated) -> None:
    plan = migrated.plans["Everything"]
    for flt, expected in [
        (Filter.by_update_time().greater_than(migrated.updated_before), [1]),
        (Filter.by_update_time().less_or_equal(migrated.updated_before), [0, 2, 3, 4]),
    ]:
        expression = translate_filter(flt, plan).filter
        assert expression.startswith("w2z_updated_ms ")
        wanted = {IDS[i] for i in expected}
        assert (
            _weaviate_uuids(migrated, "Everything", flt),
            _milvus_uuids(migrated, "Everything", expression),
        ) == (
            wanted,
            wanted,
        )


@pytest.mark.parametrize("tenant", TENANTS)
def test_tenant_condition_scopes_to_the_tenant(migrated: Migrated, tenant: str) -> None:
    flt = P("n").greater_or_equal(1) & Filter.by_id().not_equal(IDS[2])
    translation = translate_filter(flt, migrated.plans["Tenanted"], tenant=tenant)
    assert translation.tenant_condition == f'tenant == "{tenant}"'
    assert translation.expression == f'n >= 1 and uuid != "{IDS[2]}"'
    wanted = _weaviate_uuids(migrated, "Tenanted", flt, tenant)
    assert wanted == ({IDS[1]} if tenant == "alpha" else {IDS[0], IDS[1]})
    assert _milvus_uuids(migrated, "Tenanted", translation.filter, "uuid") == wanted
