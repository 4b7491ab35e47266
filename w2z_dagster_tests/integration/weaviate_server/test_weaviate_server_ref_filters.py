"""Filters on references: counts and paths into the referenced collection, single- and multi-target,
in fetch, search, aggregate counts and batch delete.

As Weaviate (`inverted/searcher.go`, `searcher_ref_filter.go`): a count filter compares the number
of stored references (dangling ones included; no property counts 0); a path filter runs the inner
filter on the target collection first, in the same tenant, and keeps the objects referencing one of
its matches, so a dangling reference never matches. Batch references (REST) do not check their target, so
they make the dangling one.
"""

from __future__ import annotations

import uuid

import grpc
import pytest
import weaviate
from weaviate.classes.config import Configure, DataType, Property, ReferenceProperty
from weaviate.classes.data import DataObject, DataReference
from weaviate.classes.query import Filter, MetadataQuery
from weaviate.classes.tenants import Tenant
from weaviate.collections import Collection
from weaviate.exceptions import WeaviateQueryError
from weaviate.proto.v1 import base_pb2, search_get_pb2, weaviate_pb2_grpc

from w2z_dagster_tests.support.weaviate_server.server import WeaviateTestServer

A = [uuid.uuid5(uuid.NAMESPACE_URL, f"author/{i}") for i in range(3)]
P0 = uuid.uuid5(uuid.NAMESPACE_URL, "publisher/0")
DANGLING = uuid.uuid5(uuid.NAMESPACE_URL, "author/gone")
B = [uuid.uuid5(uuid.NAMESPACE_URL, f"book/{i}") for i in range(4)]


@pytest.fixture
def books(weaviate_client: weaviate.WeaviateClient) -> Collection:
    authors = weaviate_client.collections.create(
        "Author",
        vector_config=Configure.Vectors.self_provided(),
        properties=[
            Property(name="name", data_type=DataType.TEXT),
            Property(name="born", data_type=DataType.INT),
        ],
    )
    publishers = weaviate_client.collections.create(
        "Publisher",
        vector_config=Configure.Vectors.self_provided(),
        properties=[Property(name="name", data_type=DataType.TEXT)],
    )
    books = weaviate_client.collections.create(
        "Book",
        vector_config=Configure.Vectors.self_provided(),
        properties=[Property(name="title", data_type=DataType.TEXT)],
        references=[
            ReferenceProperty(name="writtenBy", target_collection="Author"),
            ReferenceProperty.MultiTarget(name="about", target_collections=["Author", "Publisher"]),
        ],
    )
    authors.data.insert_many(
        [
            DataObject({"name": "Ada Lovelace", "born": 1815}, uuid=A[0], vector=[1.0, 0.0]),
            DataObject({"name": "Alan Turing", "born": 1912}, uuid=A[1], vector=[1.0, 0.0]),
            DataObject({"name": "Grace Hopper", "born": 1906}, uuid=A[2], vector=[1.0, 0.0]),
        ]
    )
    publishers.data.insert(properties={"name": "Penguin"}, uuid=P0, vector=[1.0, 0.0])
    result = books.data.insert_many(
        [
            DataObject({"title": "engines"}, uuid=B[0], vector=[1.0, 0.0], references={"writtenBy": [A[0]]}),
            DataObject(
                {"title": "machines"}, uuid=B[1], vector=[0.8, 0.6], references={"writtenBy": [A[1], A[2]]}
            ),
            DataObject(
                {"title": "compilers engines"}, uuid=B[2], vector=[0.0, 1.0], references={"writtenBy": [A[2]]}
            ),
            DataObject({"title": "notes"}, uuid=B[3], vector=[0.6, 0.8]),
        ]
    )
    assert not result.has_errors
    refs = books.data.reference_add_many(
        [
            DataReference(from_uuid=B[2], from_property="writtenBy", to_uuid=DANGLING),
            DataReference.MultiTarget(
                from_uuid=B[0], from_property="about", to_uuid=A[1], target_collection="Author"
            ),
            DataReference.MultiTarget(
                from_uuid=B[0], from_property="about", to_uuid=P0, target_collection="Publisher"
            ),
            DataReference.MultiTarget(
                from_uuid=B[2], from_property="about", to_uuid=A[0], target_collection="Author"
            ),
        ]
    )
    assert not refs.has_errors
    return books


def _fetched(books: Collection, flt) -> set[uuid.UUID]:
    return {o.uuid for o in books.query.fetch_objects(filters=flt).objects}


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (Filter.by_ref_count("writtenBy").equal(2), {B[1], B[2]}),
        (Filter.by_ref_count("writtenBy").not_equal(2), {B[0], B[3]}),
        (Filter.by_ref_count("writtenBy").greater_than(1), {B[1], B[2]}),
        (Filter.by_ref_count("writtenBy").greater_or_equal(1), {B[0], B[1], B[2]}),
        (Filter.by_ref_count("writtenBy").less_than(1), {B[3]}),
        (Filter.by_ref_count("writtenBy").less_or_equal(1), {B[0], B[3]}),
        (Filter.by_ref_count("about").equal(2), {B[0]}),
        (Filter.by_ref_count("about").equal(0), {B[1], B[3]}),
    ],
)
def test_reference_counts_include_dangling_and_missing_is_zero(books: Collection, flt, expected) -> None:
    assert _fetched(books, flt) == expected


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (Filter.by_ref("writtenBy").by_property("name").equal("grace"), {B[1], B[2]}),
        (Filter.by_ref("writtenBy").by_property("name").like("A*"), {B[0], B[1]}),
        (Filter.by_ref("writtenBy").by_property("born").less_than(1900), {B[0]}),
        (Filter.by_ref("writtenBy").by_property("born").greater_or_equal(1906), {B[1], B[2]}),
        (Filter.by_ref("writtenBy").by_id().equal(A[1]), {B[1]}),
        (Filter.by_ref("writtenBy").by_id().contains_any([A[0], A[1]]), {B[0], B[1]}),
        (Filter.by_ref("writtenBy").by_id().equal(DANGLING), set()),
        (Filter.by_ref_multi_target("about", "Author").by_property("name").equal("Ada"), {B[2]}),
        (Filter.by_ref_multi_target("about", "Author").by_id().equal(A[1]), {B[0]}),
        (Filter.by_ref_multi_target("about", "Publisher").by_property("name").equal("Penguin"), {B[0]}),
        (Filter.by_ref_multi_target("about", "Author").by_id().equal(P0), set()),
        (
            Filter.by_ref_count("writtenBy").equal(2) & Filter.by_ref("writtenBy").by_id().equal(A[1]),
            {B[1]},
        ),
        (Filter.not_(Filter.by_ref("writtenBy").by_property("name").equal("grace")), {B[0], B[3]}),
    ],
)
def test_reference_paths_filter_on_the_referenced_objects(books: Collection, flt, expected) -> None:
    assert _fetched(books, flt) == expected


def test_reference_filters_in_search_aggregate_and_delete(books: Collection) -> None:
    by_grace = Filter.by_ref("writtenBy").by_property("name").equal("grace")
    near = books.query.near_vector([1.0, 0.0], filters=by_grace, return_metadata=MetadataQuery(distance=True))
    assert [o.uuid for o in near.objects] == [B[1], B[2]]
    keyword = books.query.bm25("engines", filters=Filter.by_ref_count("writtenBy").equal(2))
    assert [o.uuid for o in keyword.objects] == [B[2]]
    hybrid = books.query.hybrid(
        "engines", vector=[1.0, 0.0], filters=Filter.by_ref_count("writtenBy").less_than(2)
    )
    assert [o.uuid for o in hybrid.objects] == [B[0], B[3]]
    assert books.aggregate.over_all(filters=by_grace, total_count=True).total_count == 2
    assert (
        books.aggregate.over_all(filters=Filter.by_ref_count("about").equal(0), total_count=True).total_count
        == 2
    )
    dry = books.data.delete_many(where=by_grace, dry_run=True, verbose=True)
    assert (dry.matches, {o.uuid for o in dry.objects}) == (2, {B[1], B[2]})
    assert len(books) == 4
    assert books.data.delete_many(where=Filter.by_ref_count("writtenBy").less_or_equal(1)).successful == 2
    assert {o.uuid for o in books.query.fetch_objects().objects} == {B[1], B[2]}


def test_reference_filter_errors_are_weaviates(books: Collection) -> None:
    with pytest.raises(
        WeaviateQueryError,
        match=r"expected reference property with a single target, got \[Author Publisher\] for about ",
    ):
        books.query.fetch_objects(filters=Filter.by_ref("about").by_property("name").equal("Ada"))
    with pytest.raises(WeaviateQueryError, match="no such prop with name 'missing' found in class 'Book'"):
        books.query.fetch_objects(filters=Filter.by_ref_count("missing").equal(1))
    with pytest.raises(WeaviateQueryError, match="no such prop with name 'nope' found in class 'Author'"):
        books.query.fetch_objects(filters=Filter.by_ref("writtenBy").by_property("nope").equal("x"))


def test_reference_paths_resolve_in_the_requests_tenant(weaviate_client: weaviate.WeaviateClient) -> None:
    people = weaviate_client.collections.create(
        "Person",
        vector_config=Configure.Vectors.self_provided(),
        multi_tenancy_config=Configure.multi_tenancy(enabled=True),
        properties=[Property(name="name", data_type=DataType.TEXT)],
    )
    notes = weaviate_client.collections.create(
        "Memo",
        vector_config=Configure.Vectors.self_provided(),
        multi_tenancy_config=Configure.multi_tenancy(enabled=True),
        references=[ReferenceProperty(name="by", target_collection="Person")],
    )
    for tenant, name in (("t1", "Ada"), ("t2", "Bob")):
        people.tenants.create(Tenant(name=tenant))
        notes.tenants.create(Tenant(name=tenant))
        people.with_tenant(tenant).data.insert({"name": name}, uuid=A[0], vector=[1.0, 0.0])
        notes.with_tenant(tenant).data.insert({}, uuid=B[0], vector=[1.0, 0.0], references={"by": A[0]})
    by_ada = Filter.by_ref("by").by_property("name").equal("Ada")
    assert [o.uuid for o in notes.with_tenant("t1").query.fetch_objects(filters=by_ada).objects] == [B[0]]
    assert notes.with_tenant("t2").query.fetch_objects(filters=by_ada).objects == []


def test_legacy_on_paths_filter_like_targets(weaviate_server: WeaviateTestServer, books: Collection) -> None:
    """Older clients send `on: [prop, Class, prop]` instead of a `target`; the current one never does."""
    flt = base_pb2.Filters(
        operator=base_pb2.Filters.OPERATOR_EQUAL, on=["writtenBy", "Author", "name"], value_text="grace"
    )
    even = base_pb2.Filters(
        operator=base_pb2.Filters.OPERATOR_EQUAL, on=["writtenBy", "Author"], value_text="x"
    )
    with grpc.insecure_channel(f"{weaviate_server.host}:{weaviate_server.grpc_port}") as channel:
        stub = weaviate_pb2_grpc.WeaviateStub(channel)
        reply = stub.Search(
            search_get_pb2.SearchRequest(
                collection="Book", filters=flt, metadata=search_get_pb2.MetadataRequest(uuid=True)
            )
        )
        assert {uuid.UUID(r.metadata.id) for r in reply.results} == {B[1], B[2]}
        with pytest.raises(grpc.RpcError, match="paths needs to have a uneven number of components"):
            stub.Search(search_get_pb2.SearchRequest(collection="Book", filters=even))
