"""Every filter operator on every filterable type, the same in fetch, search, aggregate counts and
batch delete; the index options they need, with Weaviate's errors when they are off."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import weaviate
from weaviate.classes.config import Configure, DataType, Property
from weaviate.classes.data import DataObject, GeoCoordinate
from weaviate.classes.query import Filter
from weaviate.classes.tenants import Tenant
from weaviate.collections import Collection
from weaviate.exceptions import WeaviateQueryError

U = [uuid.UUID(int=i + 1) for i in range(3)]
IDS = [uuid.uuid5(uuid.NAMESPACE_URL, f"filter/{i}") for i in range(4)]
AMSTERDAM = GeoCoordinate(latitude=52.37, longitude=4.90)


def _day(month: int, day: int = 1) -> dt.datetime:
    return dt.datetime(2024, month, day, tzinfo=dt.UTC)


ROWS = [
    {
        "text": "Red Apple",
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
        "geo": AMSTERDAM,
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
        "d": _day(2),
        "ds": [_day(2)],
        "u": U[1],
        "us": [U[1]],
        "geo": GeoCoordinate(latitude=52.52, longitude=13.40),
    },
    {
        "text": "Blue berry",
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
        "geo": GeoCoordinate(latitude=48.86, longitude=2.35),
    },
    {"n": 4},
]
TYPES = {
    "text": DataType.TEXT,
    "texts": DataType.TEXT_ARRAY,
    "n": DataType.INT,
    "ns": DataType.INT_ARRAY,
    "x": DataType.NUMBER,
    "xs": DataType.NUMBER_ARRAY,
    "b": DataType.BOOL,
    "bs": DataType.BOOL_ARRAY,
    "d": DataType.DATE,
    "ds": DataType.DATE_ARRAY,
    "u": DataType.UUID,
    "us": DataType.UUID_ARRAY,
    "geo": DataType.GEO_COORDINATES,
}
P = Filter.by_property
CASES: list[tuple[str, object, list[int]]] = [
    ("text equal is by token", P("text").equal("apple"), [0, 1]),
    ("text not equal", P("text").not_equal("apple"), [2, 3]),
    ("text like", P("text").like("app*"), [0, 1]),
    ("text like suffix", P("text").like("*rry"), [2]),
    ("text contains any", P("text").contains_any(["pie", "berry"]), [1, 2]),
    ("text contains all", P("text").contains_all(["green", "apple"]), [1]),
    ("text contains none", P("text").contains_none(["apple"]), [2, 3]),
    ("text[] equal", P("texts").equal("green"), [0, 1]),
    ("text[] contains all", P("texts").contains_all(["red", "green"]), [0]),
    ("int equal", P("n").equal(2), [1]),
    ("int not equal", P("n").not_equal(2), [0, 2, 3]),
    ("int greater", P("n").greater_than(2), [2, 3]),
    ("int greater or equal", P("n").greater_or_equal(2), [1, 2, 3]),
    ("int less", P("n").less_than(2), [0]),
    ("int less or equal", P("n").less_or_equal(2), [0, 1]),
    ("int contains any", P("n").contains_any([1, 3]), [0, 2]),
    ("int contains none", P("n").contains_none([1, 3]), [1, 3]),
    ("int[] equal", P("ns").equal(2), [0, 1]),
    ("int[] contains all", P("ns").contains_all([2, 3]), [1]),
    ("number greater", P("x").greater_than(1.0), [1, 2]),
    ("number less or equal", P("x").less_or_equal(1.5), [0, 1]),
    ("number equal", P("x").equal(2.5), [2]),
    ("number[] contains any", P("xs").contains_any([2.5]), [1]),
    ("number[] greater", P("xs").greater_than(2.0), [1]),
    ("boolean equal", P("b").equal(True), [0, 2]),
    ("boolean not equal", P("b").not_equal(True), [1, 3]),
    ("boolean[] contains all", P("bs").contains_all([True, False]), [1]),
    ("boolean[] equal", P("bs").equal(False), [1, 2]),
    ("date greater", P("d").greater_than(_day(1, 15)), [1, 2]),
    ("date less", P("d").less_than(_day(2)), [0]),
    ("date equal", P("d").equal(_day(3)), [2]),
    ("date[] contains any", P("ds").contains_any([_day(6)]), [0]),
    ("uuid equal", P("u").equal(U[1]), [1]),
    ("uuid contains any", P("u").contains_any([U[0], U[2]]), [0, 2]),
    ("uuid[] contains all", P("us").contains_all([U[1]]), [0, 1]),
    ("geo within 10 km", P("geo").within_geo_range(AMSTERDAM, 10_000), [0]),
    ("geo within 700 km", P("geo").within_geo_range(AMSTERDAM, 700_000), [0, 1, 2]),
    ("geo within 500 km", P("geo").within_geo_range(AMSTERDAM, 500_000), [0, 2]),
    ("text is null", P("text").is_none(True), [3]),
    ("text is not null", P("text").is_none(False), [0, 1, 2]),
    ("empty array is null", P("xs").is_none(True), [2, 3]),
    ("geo is null", P("geo").is_none(True), [3]),
    ("text length", P("text", length=True).greater_than(9), [1, 2]),
    ("missing has length 0", P("text", length=True).equal(0), [3]),
    ("array length", P("texts", length=True).equal(2), [0]),
    ("by id", Filter.by_id().equal(IDS[0]), [0]),
    ("by id contains any", Filter.by_id().contains_any([IDS[0], IDS[2]]), [0, 2]),
    ("by id not equal", Filter.by_id().not_equal(IDS[0]), [1, 2, 3]),
    ("and", P("n").greater_than(1) & P("b").equal(True), [2]),
    ("or", P("n").equal(1) | P("x").equal(2.5), [0, 2]),
    ("not", Filter.not_(P("n").equal(1) | P("n").equal(4)), [1, 2]),
    ("all of", Filter.all_of([P("texts").equal("green"), P("n").less_than(2)]), [0]),
    ("any of", Filter.any_of([P("u").equal(U[2]), Filter.by_id().equal(IDS[3])]), [2, 3]),
]


@pytest.fixture
def collection(weaviate_client: weaviate.WeaviateClient) -> Collection:
    created = weaviate_client.collections.create(
        "Everything",
        vector_config=Configure.Vectors.self_provided(),
        properties=[Property(name=name, data_type=data_type) for name, data_type in TYPES.items()],
        inverted_index_config=Configure.inverted_index(
            index_timestamps=True, index_null_state=True, index_property_length=True
        ),
    )
    created.data.insert_many(
        [DataObject(properties=row, uuid=IDS[i], vector=[1.0, float(i)]) for i, row in enumerate(ROWS)]
    )
    return created


@pytest.mark.parametrize(("flt", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_filter_in_fetch_search_count_and_delete(collection: Collection, flt, expected: list[int]) -> None:
    wanted = {IDS[i] for i in expected}
    fetched = {o.uuid for o in collection.query.fetch_objects(filters=flt, limit=10).objects}
    searched = {o.uuid for o in collection.query.near_vector([1.0, 0.0], filters=flt, limit=10).objects}
    count = collection.aggregate.over_all(filters=flt, total_count=True).total_count
    dry = collection.data.delete_many(where=flt, dry_run=True, verbose=True)
    assert (fetched, searched, count) == (wanted, wanted, len(expected))
    assert (dry.matches, {o.uuid for o in dry.objects}) == (len(expected), wanted)
    assert len(collection) == len(ROWS)


def test_timestamps_filter_only_with_index_timestamps(
    collection: Collection, weaviate_client: weaviate.WeaviateClient
) -> None:
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)
    assert (
        len(collection.query.fetch_objects(filters=Filter.by_creation_time().less_than(later)).objects) == 4
    )
    assert collection.query.fetch_objects(filters=Filter.by_creation_time().greater_than(later)).objects == []
    before = collection.query.fetch_object_by_id(IDS[1])
    assert before is not None
    collection.data.update(IDS[1], {"n": 20})
    updated = Filter.by_update_time().greater_than(before.metadata.last_update_time)
    assert [o.uuid for o in collection.query.fetch_objects(filters=updated).objects] == [IDS[1]]

    plain = weaviate_client.collections.create(
        "Plain", properties=[Property(name="n", data_type=DataType.INT)]
    )
    plain.data.insert({"n": 1})
    with pytest.raises(
        WeaviateQueryError,
        match=r"Timestamps must be indexed to be filterable! Add `IndexTimestamps: true` to the "
        r"InvertedIndexConfig in Plain",
    ):
        plain.query.fetch_objects(filters=Filter.by_creation_time().less_than(later))
    with pytest.raises(
        WeaviateQueryError, match=r"Nullstate must be indexed to be filterable! Add `indexNullState: true`"
    ):
        plain.query.fetch_objects(filters=Filter.by_property("n").is_none(True))
    with pytest.raises(
        WeaviateQueryError,
        match=r"Property length must be indexed to be filterable! add `IndexPropertyLength",
    ):
        plain.query.fetch_objects(filters=Filter.by_property("n", length=True).equal(1))


def test_batch_delete_by_filter_per_tenant(weaviate_client: weaviate.WeaviateClient) -> None:
    collection = weaviate_client.collections.create(
        "Tenanted",
        multi_tenancy_config=Configure.multi_tenancy(enabled=True),
        properties=[Property(name="n", data_type=DataType.INT)],
    )
    collection.tenants.create([Tenant(name="a"), Tenant(name="b")])
    for tenant in ("a", "b"):
        collection.with_tenant(tenant).data.insert_many([{"n": i} for i in range(6)])
    result = collection.with_tenant("a").data.delete_many(
        where=Filter.by_property("n").greater_or_equal(3), verbose=True
    )
    assert (result.matches, result.successful, result.failed, len(result.objects)) == (3, 3, 0, 3)
    remaining = sorted(o.properties["n"] for o in collection.with_tenant("a").query.fetch_objects().objects)
    assert remaining == [0, 1, 2]
    assert len(collection.with_tenant("b")) == 6
