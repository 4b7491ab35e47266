"""Cursor semantics through the client's own iterator and `fetch_objects(after=...)`."""

from __future__ import annotations

import math
import random
import uuid

import pytest
import weaviate
from weaviate.classes.config import DataType, Property
from weaviate.classes.data import DataObject
from weaviate.classes.query import Filter, Sort
from weaviate.collections import Collection
from weaviate.exceptions import WeaviateQueryError

from w2z_dagster_tests.support.weaviate_server import WeaviateTestServer

PAGE = 3
KEYS = sorted(
    [
        uuid.UUID(int=2**127 + 5),
        uuid.UUID(int=1),
        uuid.UUID(int=2**64),
        uuid.UUID(int=255),
        uuid.UUID(int=2**120),
    ]
)


@pytest.fixture
def numbered(weaviate_client: weaviate.WeaviateClient) -> Collection:
    return weaviate_client.collections.create(
        "Numbered", properties=[Property(name="n", data_type=DataType.INT)]
    )


def _insert(collection: Collection, keys: list[uuid.UUID]) -> None:
    shuffled = list(enumerate(keys))
    random.Random(3).shuffle(shuffled)
    if shuffled:
        collection.data.insert_many([DataObject(properties={"n": n}, uuid=key) for n, key in shuffled])


@pytest.mark.parametrize("count", [0, 1, PAGE, PAGE + 1])
def test_iterator_order_exclusivity_and_termination(
    weaviate_server: WeaviateTestServer, numbered: Collection, count: int
) -> None:
    keys = KEYS[:count]
    _insert(numbered, keys)
    before = weaviate_server.faults.calls("Search")
    seen = [(o.uuid, o.properties["n"]) for o in numbered.iterator(cache_size=PAGE)]
    assert seen == [(key, n) for n, key in enumerate(keys)]
    assert weaviate_server.faults.calls("Search") - before == math.ceil(count / PAGE) + 1


def test_uuid_byte_order_and_exclusive_after(numbered: Collection) -> None:
    _insert(numbered, KEYS)
    assert [o.uuid for o in numbered.query.fetch_objects(limit=10).objects] == KEYS
    page = numbered.query.fetch_objects(after=KEYS[1], limit=2).objects
    assert [o.uuid for o in page] == KEYS[2:4]
    between = uuid.UUID(int=KEYS[2].int + 1)
    assert [o.uuid for o in numbered.query.fetch_objects(after=between, limit=10).objects] == KEYS[3:]
    assert numbered.query.fetch_objects(after=KEYS[-1]).objects == []


def test_limit_defaults_to_ten_and_maximum_is_enforced(numbered: Collection) -> None:
    numbered.data.insert_many([DataObject(properties={"n": i}, uuid=uuid.UUID(int=i + 1)) for i in range(15)])
    assert len(numbered.query.fetch_objects().objects) == 10
    assert [o.properties["n"] for o in numbered.query.fetch_objects(offset=12).objects] == [12, 13, 14]
    assert len(numbered.query.fetch_objects(limit=10000).objects) == 15
    for kwargs in ({"limit": 10001}, {"limit": 5001, "offset": 5000}):
        with pytest.raises(WeaviateQueryError, match="query maximum results exceeded"):
            numbered.query.fetch_objects(**kwargs)
    with pytest.raises(WeaviateQueryError, match="query maximum results exceeded"):
        list(numbered.iterator(cache_size=10001))


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"filters": Filter.by_property("n").equal(1)}, "where"),
        ({"offset": 1}, "offset"),
        ({"sort": Sort.by_property("n")}, "sort"),
    ],
)
def test_after_cannot_be_combined_with_filters_offset_or_sort(
    numbered: Collection, kwargs: dict, names: str
) -> None:
    with pytest.raises(WeaviateQueryError) as info:
        numbered.query.fetch_objects(after=KEYS[0], **kwargs)
    assert (
        f"cursor api: invalid 'after' parameter: {names} cannot be set with after and limit parameters"
        in str(info.value)
    )


def test_cursor_sees_writes_ahead_of_it(numbered: Collection) -> None:
    _insert(numbered, KEYS[:2])
    iterator = numbered.iterator(cache_size=1)
    assert next(iterator).uuid == KEYS[0]
    numbered.data.insert_many([DataObject(properties={"n": 9}, uuid=KEYS[4])])
    assert [next(iterator).uuid, next(iterator).uuid] == [KEYS[1], KEYS[4]]
    with pytest.raises(StopIteration):
        next(iterator)


def test_pages_do_not_scan_the_collection(weaviate_server: WeaviateTestServer, numbered: Collection) -> None:
    total = 20_000
    keys = [uuid.UUID(int=random.Random(i).getrandbits(128)) for i in range(total)]
    for start in range(0, total, 5000):
        numbered.data.insert_many(
            [DataObject(properties={"n": i}, uuid=keys[i]) for i in range(start, start + 5000)]
        )
    shard = weaviate_server.store.collection("Numbered").shards[""]
    ordered = sorted(keys)
    numbered.query.fetch_objects(limit=1)
    examined = shard.keys_examined
    page = numbered.query.fetch_objects(after=ordered[12_345], limit=100).objects
    assert [o.uuid for o in page] == ordered[12_346:12_446]
    assert shard.keys_examined - examined == 100
    examined = shard.keys_examined
    assert sum(1 for _ in numbered.iterator(cache_size=2000)) == total
    assert shard.keys_examined - examined == total
