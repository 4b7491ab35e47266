"""Data in and out through the real client: every data type, normalisation, validation, REST routes."""

from __future__ import annotations

import datetime as dt
import uuid

import httpx
import pytest
import weaviate
from weaviate.classes.config import Configure, DataType, Property, ReferenceProperty
from weaviate.classes.data import DataObject, GeoCoordinate, PhoneNumber, ReferenceToMulti
from weaviate.classes.query import Filter, MetadataQuery, QueryNested, QueryReference
from weaviate.classes.tenants import Tenant
from weaviate.collections import Collection
from weaviate.exceptions import WeaviateInsertManyAllFailedError

from w2z_dagster_tests.support.weaviate_server import WeaviateTestServer

UTC = dt.UTC
NESTED = [
    Property(name="label", data_type=DataType.TEXT),
    Property(name="n", data_type=DataType.INT),
    Property(name="x", data_type=DataType.NUMBER),
    Property(name="ok", data_type=DataType.BOOL),
    Property(name="when", data_type=DataType.DATE),
    Property(name="id", data_type=DataType.UUID),
    Property(name="words", data_type=DataType.TEXT_ARRAY),
    Property(name="nums", data_type=DataType.INT_ARRAY),
    Property(
        name="deep",
        data_type=DataType.OBJECT,
        nested_properties=[Property(name="z", data_type=DataType.TEXT)],
    ),
]
PROPERTIES = [
    Property(name="text", data_type=DataType.TEXT),
    Property(name="texts", data_type=DataType.TEXT_ARRAY),
    Property(name="int", data_type=DataType.INT),
    Property(name="ints", data_type=DataType.INT_ARRAY),
    Property(name="number", data_type=DataType.NUMBER),
    Property(name="numbers", data_type=DataType.NUMBER_ARRAY),
    Property(name="bool", data_type=DataType.BOOL),
    Property(name="bools", data_type=DataType.BOOL_ARRAY),
    Property(name="date", data_type=DataType.DATE),
    Property(name="dates", data_type=DataType.DATE_ARRAY),
    Property(name="uuid", data_type=DataType.UUID),
    Property(name="uuids", data_type=DataType.UUID_ARRAY),
    Property(name="geo", data_type=DataType.GEO_COORDINATES),
    Property(name="phone", data_type=DataType.PHONE_NUMBER),
    Property(name="blob", data_type=DataType.BLOB),
    Property(name="object", data_type=DataType.OBJECT, nested_properties=NESTED),
    Property(name="objects", data_type=DataType.OBJECT_ARRAY, nested_properties=NESTED),
]
NON_BLOB = [p.name for p in PROPERTIES if p.name != "blob"]
FULL = {
    "text": "Hello World",
    "texts": ["a", "b c"],
    "int": 42,
    "ints": [1, -2, 3],
    "number": 2.5,
    "numbers": [0.1, -1.5],
    "bool": True,
    "bools": [True, False],
    "date": dt.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC),
    "dates": [dt.datetime(2020, 5, 6, tzinfo=UTC), dt.datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC)],
    "uuid": uuid.UUID(int=77),
    "uuids": [uuid.UUID(int=1), uuid.UUID(int=2)],
    "geo": GeoCoordinate(latitude=52.5, longitude=4.25),
    "phone": PhoneNumber(number="+31 6 12345678"),
    "blob": "aGVsbG8gd29ybGQ=",
    "object": {
        "label": "nested",
        "n": 7,
        "x": 1.25,
        "ok": False,
        "when": dt.datetime(2021, 1, 1, tzinfo=UTC),
        "id": uuid.UUID(int=9),
        "words": ["w1", "w2"],
        "nums": [4, 5],
        "deep": {"z": "bottom"},
    },
    "objects": [{"label": "first", "n": 1}, {"label": "second", "deep": {"z": "deeper"}}],
}


@pytest.fixture
def everything(weaviate_client: weaviate.WeaviateClient) -> Collection:
    weaviate_client.collections.create("Target", properties=[Property(name="name", data_type=DataType.TEXT)])
    return weaviate_client.collections.create(
        "Everything",
        properties=PROPERTIES,
        references=[
            ReferenceProperty(name="single", target_collection="Target"),
            ReferenceProperty.MultiTarget(name="multi", target_collections=["Target", "Everything"]),
        ],
        vector_config=Configure.Vectors.self_provided(),
    )


def _rest(server: WeaviateTestServer) -> httpx.Client:
    return httpx.Client(base_url=server.http_url, trust_env=False)


def test_every_data_type_round_trips(everything: Collection) -> None:
    result = everything.data.insert_many(
        [DataObject(properties=FULL, uuid=uuid.UUID(int=1), vector=[0.5, 0.25, -1.0])]
    )
    assert result.errors == {}
    obj = everything.query.fetch_object_by_id(
        uuid.UUID(int=1), include_vector=True, return_properties=[p.name for p in PROPERTIES]
    )
    assert obj is not None
    props = dict(obj.properties)
    phone = props.pop("phone")
    geo = props.pop("geo")
    expected = {k: v for k, v in FULL.items() if k not in ("phone", "geo")}
    expected["object"] = {**FULL["object"]}
    assert props == expected
    assert (phone.number, phone.country_code, phone.national, phone.valid) == (
        "+31 6 12345678",
        31,
        612345678,
        True,
    )
    assert (geo.latitude, geo.longitude) == (52.5, 4.25)
    assert obj.vector == {"default": [0.5, 0.25, -1.0]}


def test_values_are_stored_as_real_weaviate_stores_them(
    weaviate_server: WeaviateTestServer, everything: Collection
) -> None:
    everything.data.insert_many(
        [
            DataObject(
                properties={
                    "date": dt.datetime(2024, 1, 1, tzinfo=UTC),
                    "dates": [
                        dt.datetime(2024, 1, 1, 12, 0, 0, 500000, tzinfo=dt.timezone(dt.timedelta(hours=2)))
                    ],
                    "int": 2**53 + 1,
                    "ints": [2**53 + 1, -5],
                    "geo": GeoCoordinate(latitude=52.366, longitude=4.9),
                    "uuid": "6F1D3C1E-2B7A-4C55-9A40-6D2F0B9E7A11",
                },
                uuid=uuid.UUID(int=2),
            )
        ]
    )
    with _rest(weaviate_server) as http:
        stored = http.get(f"/v1/objects/Everything/{uuid.UUID(int=2)}").json()["properties"]
    assert stored == {
        "date": "2024-01-01T00:00:00Z",
        "dates": ["2024-01-01T12:00:00.5+02:00"],
        "int": 2**53,
        "ints": [2**53, -5],
        "geo": {"latitude": 52.36600112915039, "longitude": 4.900000095367432},
        "uuid": "6f1d3c1e-2b7a-4c55-9a40-6d2f0b9e7a11",
    }
    fetched = everything.query.fetch_object_by_id(uuid.UUID(int=2), return_properties=["geo", "int"])
    assert fetched is not None
    assert fetched.properties["int"] == 2**53
    assert fetched.properties["geo"].latitude == 52.36600112915039


def test_missing_properties_blobs_and_empty_lists(everything: Collection) -> None:
    everything.data.insert_many(
        [
            DataObject(
                properties={"text": "sparse", "texts": [], "object": {"label": "only"}, "blob": "aGk="},
                uuid=uuid.UUID(int=3),
            )
        ]
    )
    default = everything.query.fetch_objects().objects[0].properties
    assert default == {**dict.fromkeys(NON_BLOB), "text": "sparse", "texts": [], "object": {"label": "only"}}
    named = everything.query.fetch_objects(return_properties=["blob", "text"]).objects[0].properties
    assert named == {"blob": "aGk=", "text": "sparse"}
    nothing = everything.query.fetch_objects(return_properties=[]).objects[0]
    assert (nothing.properties, nothing.uuid) == ({}, uuid.UUID(int=3))


def test_references_resolve_and_dangling_ones_are_dropped(
    everything: Collection, weaviate_client: weaviate.WeaviateClient
) -> None:
    target = weaviate_client.collections.get("Target")
    target.data.insert_many(
        [DataObject(properties={"name": f"t{i}"}, uuid=uuid.UUID(int=100 + i)) for i in range(3)]
    )
    everything.data.insert_many(
        [
            DataObject(
                properties={"text": "refs"},
                uuid=uuid.UUID(int=4),
                references={"single": [uuid.UUID(int=100), uuid.UUID(int=101)]},
            )
        ]
    )
    everything.data.reference_add(
        uuid.UUID(int=4), "multi", to=ReferenceToMulti(uuids=uuid.UUID(int=102), target_collection="Target")
    )
    target.data.delete_by_id(uuid.UUID(int=101))
    obj = everything.query.fetch_object_by_id(
        uuid.UUID(int=4),
        return_properties=["text"],
        return_references=[
            QueryReference(link_on="single", return_properties=["name"]),
            QueryReference.MultiTarget(
                link_on="multi", target_collection="Target", return_properties=["name"]
            ),
        ],
    )
    assert obj is not None
    single = [(o.uuid, o.properties, o.collection) for o in obj.references["single"].objects]
    multi = [(o.uuid, o.properties, o.collection) for o in obj.references["multi"].objects]
    assert single == [(uuid.UUID(int=100), {"name": "t0"}, "Target")]
    assert multi == [(uuid.UUID(int=102), {"name": "t2"}, "Target")]


def test_batch_references_route_and_reference_validation(
    everything: Collection, weaviate_client: weaviate.WeaviateClient
) -> None:
    weaviate_client.collections.get("Target").data.insert_many(
        [DataObject(properties={"name": "t"}, uuid=uuid.UUID(int=50))]
    )
    result = everything.data.insert_many(
        [
            DataObject(properties={"text": "a"}, uuid=uuid.UUID(int=5)),
            DataObject(
                properties={"text": "b"}, uuid=uuid.UUID(int=6), references={"single": uuid.UUID(int=999)}
            ),
        ]
    )
    assert {i: e.message for i, e in result.errors.items()} == {
        1: f"invalid cref: 'cref' Everything:single: no object with id {uuid.UUID(int=999)} found"
    }
    with weaviate_client.batch.fixed_size(batch_size=10) as batch:
        batch.add_reference(
            from_uuid=uuid.UUID(int=5),
            from_collection="Everything",
            from_property="single",
            to=uuid.UUID(int=50),
        )
        batch.add_reference(
            from_uuid=uuid.UUID(int=5),
            from_collection="Everything",
            from_property="nope",
            to=uuid.UUID(int=50),
        )
    assert [r.message for r in weaviate_client.batch.failed_references] == [
        "property nope does not exist for class Everything"
    ]
    obj = everything.query.fetch_object_by_id(
        uuid.UUID(int=5), return_references=QueryReference(link_on="single")
    )
    assert obj is not None
    assert [o.uuid for o in obj.references["single"].objects] == [uuid.UUID(int=50)]


def test_reinsert_updates_the_object_and_its_times(everything: Collection) -> None:
    key = uuid.UUID(int=7)
    everything.data.insert_many([DataObject(properties={"text": "v1", "int": 1}, uuid=key)])
    first = everything.query.fetch_object_by_id(key)
    everything.data.insert_many([DataObject(properties={"text": "v2"}, uuid=key)])
    second = everything.query.fetch_object_by_id(key)
    assert first is not None and second is not None
    assert second.properties["text"] == "v2"
    assert second.properties["int"] is None
    assert second.metadata.last_update_time >= first.metadata.last_update_time
    assert len(everything) == 1


def test_each_bad_object_gets_its_own_error_and_the_rest_is_stored(everything: Collection) -> None:
    result = everything.data.insert_many(
        [
            DataObject(properties={"text": "good"}, uuid=uuid.UUID(int=10)),
            DataObject(properties={"int": "not a number"}, uuid=uuid.UUID(int=11)),
            DataObject(properties={"unknown": 1}, uuid=uuid.UUID(int=12)),
            DataObject(properties={"text": 5}, uuid=uuid.UUID(int=13)),
            DataObject(properties={"int": 1.5}, uuid=uuid.UUID(int=14)),
            DataObject(properties={"date": "yesterday"}, uuid=uuid.UUID(int=15)),
            DataObject(properties={"text": "good too"}, uuid=uuid.UUID(int=16)),
        ]
    )
    assert {i: e.message for i, e in result.errors.items()} == {
        1: "invalid integer property 'int' on class 'Everything': "
        "requires an integer, the given value is 'not a number'",
        2: "no such prop with name 'unknown' found in class 'Everything' in the schema. "
        "Check your schema files for which properties in this class are available",
        3: "invalid text property 'text' on class 'Everything': not a string, but float64",
        4: "invalid integer property 'int' on class 'Everything': "
        "requires an integer, the given value is '1.5'",
        5: "invalid date property 'date' on class 'Everything': "
        "requires a string with a RFC3339 formatted date, but the given value is 'yesterday'",
    }
    assert sorted(o.properties["text"] for o in everything.query.fetch_objects().objects) == [
        "good",
        "good too",
    ]


def test_multi_tenant_write_errors_per_object(weaviate_client: weaviate.WeaviateClient) -> None:
    mt = weaviate_client.collections.create(
        "Mt",
        multi_tenancy_config=Configure.multi_tenancy(enabled=True),
        properties=[Property(name="x", data_type=DataType.INT)],
    )
    mt.tenants.create([Tenant(name="a")])
    assert mt.with_tenant("a").data.insert_many([{"x": 1}]).errors == {}
    with pytest.raises(
        WeaviateInsertManyAllFailedError, match="multi-tenancy enabled, but request was without tenant"
    ):
        mt.data.insert_many([{"x": 1}])
    with pytest.raises(WeaviateInsertManyAllFailedError, match='tenant not found: "zz"'):
        mt.with_tenant("zz").data.insert_many([{"x": 1}])
    with weaviate_client.batch.fixed_size(batch_size=10) as batch:
        batch.add_object("Mt", {"x": 2}, tenant="a")
        batch.add_object("Mt", {"x": 3}, tenant="zz")
        batch.add_object("Mt", {"x": 4})
    assert [o.message for o in weaviate_client.batch.failed_objects] == [
        'tenant not found: "zz"',
        "class Mt has multi-tenancy enabled, but request was without tenant",
    ]
    assert len(mt.with_tenant("a")) == 2


def test_rest_object_routes(weaviate_server: WeaviateTestServer, everything: Collection) -> None:
    key = everything.data.insert({"text": "rest", "int": 1}, uuid=uuid.UUID(int=20), vector=[1.0, 0.0, 0.0])
    assert everything.data.exists(key)
    created = everything.query.fetch_object_by_id(key)
    assert created is not None
    everything.data.update(key, properties={"int": 2})
    merged = everything.query.fetch_object_by_id(key, include_vector=True)
    assert merged is not None
    assert (merged.properties["text"], merged.properties["int"], merged.vector) == (
        "rest",
        2,
        {"default": [1.0, 0.0, 0.0]},
    )
    everything.data.replace(key, properties={"number": 1.5}, vector=[0.0, 1.0, 0.0])
    replaced = everything.query.fetch_object_by_id(key)
    assert replaced is not None
    assert (replaced.properties["text"], replaced.properties["number"]) == (None, 1.5)
    assert replaced.metadata.creation_time == created.metadata.creation_time
    with _rest(weaviate_server) as http:
        body = http.get(f"/v1/objects/Everything/{key}", params={"include": "vector"}).json()
        duplicate = http.post("/v1/objects", json={"class": "Everything", "id": str(key), "properties": {}})
    assert (body["id"], body["properties"], body["vectors"]) == (
        str(key),
        {"number": 1.5},
        {"default": [0.0, 1.0, 0.0]},
    )
    assert duplicate.status_code == 422
    assert everything.data.delete_by_id(key)
    assert not everything.data.delete_by_id(key)
    assert not everything.data.exists(key)


def test_delete_many_by_id_and_by_filter(everything: Collection) -> None:
    everything.data.insert_many(
        [DataObject(properties={"int": i}, uuid=uuid.UUID(int=30 + i)) for i in range(6)]
    )
    by_id = everything.data.delete_many(where=Filter.by_id().equal(uuid.UUID(int=30)), verbose=True)
    assert (by_id.matches, by_id.successful, [o.uuid for o in by_id.objects]) == (1, 1, [uuid.UUID(int=30)])
    dry = everything.data.delete_many(where=Filter.by_property("int").greater_or_equal(3), dry_run=True)
    assert (dry.matches, len(everything)) == (3, 5)
    done = everything.data.delete_many(where=Filter.by_property("int").greater_or_equal(3))
    assert (done.matches, done.failed) == (3, 0)
    assert sorted(o.properties["int"] for o in everything.query.fetch_objects().objects) == [1, 2]


def test_deleting_a_collection_deletes_its_objects(weaviate_client: weaviate.WeaviateClient) -> None:
    first = weaviate_client.collections.create(
        "Gone", properties=[Property(name="a", data_type=DataType.TEXT)]
    )
    first.data.insert_many([{"a": "x"}] * 3)
    assert len(first) == 3
    weaviate_client.collections.delete("Gone")
    again = weaviate_client.collections.create(
        "Gone", properties=[Property(name="a", data_type=DataType.TEXT)]
    )
    assert len(again) == 0


def test_metadata_fields_present_exactly_when_set(everything: Collection) -> None:
    everything.data.insert_many(
        [DataObject(properties={"text": "m"}, uuid=uuid.UUID(int=40), vector=[1.0, 0.0, 0.0])]
    )
    listed = everything.query.fetch_objects(return_metadata=MetadataQuery.full()).objects[0].metadata
    assert (listed.distance, listed.certainty, listed.score, listed.explain_score, listed.is_consistent) == (
        None,
        None,
        0.0,
        "",
        None,
    )
    assert listed.creation_time is not None and listed.last_update_time is not None
    near = everything.query.near_vector(
        [1.0, 0.0, 0.0], return_metadata=MetadataQuery(distance=True, certainty=True)
    )
    assert (near.objects[0].metadata.distance, near.objects[0].metadata.certainty) == (0.0, 1.0)
    bare = everything.query.fetch_objects().objects[0].metadata
    assert (bare.creation_time, bare.distance, bare.score) == (None, None, None)


def test_nested_property_selection(everything: Collection) -> None:
    everything.data.insert_many([DataObject(properties=FULL, uuid=uuid.UUID(int=60))])
    selection = [
        QueryNested(name="object", properties=["label", QueryNested(name="deep", properties=["z"])]),
        QueryNested(name="objects", properties=["n"]),
    ]
    obj = everything.query.fetch_object_by_id(uuid.UUID(int=60), return_properties=selection)
    assert obj is not None
    assert obj.properties == {
        "object": {"label": "nested", "deep": {"z": "bottom"}},
        "objects": [{"n": 1}, {}],
    }


def test_reference_replace_and_delete_routes(
    everything: Collection, weaviate_client: weaviate.WeaviateClient
) -> None:
    target = weaviate_client.collections.get("Target")
    target.data.insert_many(
        [DataObject(properties={"name": f"r{i}"}, uuid=uuid.UUID(int=70 + i)) for i in range(3)]
    )
    key = everything.data.insert(
        {"text": "refs"}, uuid=uuid.UUID(int=80), references={"single": uuid.UUID(int=70)}
    )
    everything.data.reference_replace(key, "single", [uuid.UUID(int=71), uuid.UUID(int=72)])
    everything.data.reference_delete(key, "single", uuid.UUID(int=71))
    obj = everything.query.fetch_object_by_id(key, return_references=QueryReference(link_on="single"))
    assert obj is not None
    assert [o.uuid for o in obj.references["single"].objects] == [uuid.UUID(int=72)]
