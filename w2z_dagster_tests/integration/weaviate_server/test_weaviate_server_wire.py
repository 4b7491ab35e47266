"""The test Weaviate writes Search replies as bytes; they must parse to exactly the messages it used to build.

In-process, no sockets: every demo collection (every property type, legacy, named and multi vectors,
nulls, references, tenants) through both ways.
"""

from __future__ import annotations

import uuid

import pytest
from weaviate.proto.v1 import search_get_pb2

from w2z_dagster_tests.support.weaviate_server import wire
from w2z_dagster_tests.support.weaviate_server.search import search
from w2z_dagster_tests.support.weaviate_server.search_reply import MetaPlan, PropsPlan, metadata, properties
from w2z_dagster_tests.support.weaviate_server.seed import seed_demo
from w2z_dagster_tests.support.weaviate_server.store import Collection, Store

EVERYTHING = search_get_pb2.MetadataRequest(
    uuid=True, vector=True, creation_time_unix=True, last_update_time_unix=True
)


@pytest.fixture(scope="module")
def store() -> Store:
    demo = Store()
    seed_demo(demo)
    return demo


def _readable(store: Store) -> list[tuple[str, str]]:
    return [
        (name, tenant)
        for name, coll in store.collections.items()
        for tenant in (
            sorted(t for t, s in coll.tenants.items() if s == "HOT") if coll.info.multi_tenant else [""]
        )
    ]


def _as_messages(
    store: Store, coll: Collection, req: search_get_pb2.SearchRequest
) -> search_get_pb2.SearchReply:
    """The reply built from messages, as the server did before it wrote bytes."""
    info = coll.info
    meta = MetaPlan.from_request(info, req.metadata, certainty_ok=False)
    plan = PropsPlan.build(store, info, req.properties if req.HasField("properties") else None)
    keys = sorted(coll.shards[req.tenant].objects)[: req.limit]
    return search_get_pb2.SearchReply(
        results=[
            search_get_pb2.SearchResult(
                metadata=metadata(info, key, obj, meta, None),
                properties=properties(store, info, obj, plan, req.tenant),
            )
            for key in keys
            for obj in [coll.shards[req.tenant].objects[key]]
        ]
    )


def test_every_demo_collection_parses_to_the_message_built_reply(store: Store) -> None:
    compared = 0
    for name, tenant in _readable(store):
        coll = store.collections[name]
        refs = [
            search_get_pb2.RefPropertiesRequest(reference_property=p.name, target_collection=p.targets[0])
            for p in coll.info.props.values()
            if p.is_ref
        ]
        for props in (
            None,
            search_get_pb2.PropertiesRequest(return_all_nonref_properties=True, ref_properties=refs),
        ):
            req = search_get_pb2.SearchRequest(
                collection=name, tenant=tenant, limit=10_000, metadata=EVERYTHING, properties=props
            )
            if props is None:
                req.ClearField("properties")
            got = search_get_pb2.SearchReply.FromString(search(store, req))
            got.ClearField("took")
            expected = _as_messages(store, coll, req)
            assert got == expected, f"{name} [{tenant}]"
            compared += len(expected.results)
    assert compared > 500


@pytest.mark.parametrize("distance", [0.0, 0.25, 1.75])
def test_scores_and_distances_match_the_message_built_metadata(store: Store, distance: float) -> None:
    coll = store.collections["DemoArticle"]
    key, obj = next(iter(coll.shards[""].objects.items()))
    plan = MetaPlan(uuid=True, distance=True, certainty=True, score=True, explain_score=True)

    got = search_get_pb2.MetadataResult.FromString(wire.metadata_result(coll.info, key, obj, plan, distance))

    assert got == metadata(coll.info, key, obj, plan, distance)
    assert got.id == str(uuid.UUID(bytes=key))


@pytest.mark.parametrize("n", [0, 1, 127, 128, 16_383, 16_384, 1_700_000_000_000, -1, -(2**63)])
def test_varints_are_protobufs_own(n: int) -> None:
    expected = search_get_pb2.MetadataResult(last_update_time_unix=n).SerializeToString()

    assert wire.tag(5, 0) + wire.varint(n) == (expected or wire.tag(5, 0) + b"\x00")
