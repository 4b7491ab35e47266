"""Fault controls: failing the next N calls, failing a seeded share, latency and call counts."""

from __future__ import annotations

import random
import time

import grpc
import pytest
import weaviate
from weaviate.classes.config import DataType, Property
from weaviate.classes.query import Filter
from weaviate.collections import Collection
from weaviate.exceptions import UnexpectedStatusCodeError, WeaviateBatchError, WeaviateQueryError

from w2z_dagster_tests.support.weaviate_server import WeaviateTestServer


@pytest.fixture
def things(weaviate_client: weaviate.WeaviateClient) -> Collection:
    collection = weaviate_client.collections.create(
        "Things", properties=[Property(name="n", data_type=DataType.INT)]
    )
    collection.data.insert_many([{"n": i} for i in range(5)])
    return collection


def test_fail_next_grpc_calls_then_recover(weaviate_server: WeaviateTestServer, things: Collection) -> None:
    faults = weaviate_server.faults
    faults.fail_next("Search", 2, grpc.StatusCode.INTERNAL)
    before = faults.calls("Search")
    for _ in range(2):
        with pytest.raises(WeaviateQueryError, match="injected INTERNAL for Search"):
            things.query.fetch_objects()
    assert len(things.query.fetch_objects().objects) == 5
    assert faults.calls("Search") - before == 3
    faults.fail_next("BatchObjects", 1, 500)
    with pytest.raises(WeaviateBatchError, match="injected INTERNAL for BatchObjects"):
        things.data.insert_many([{"n": 9}])


def test_unavailable_is_retried_by_the_client(
    weaviate_server: WeaviateTestServer, things: Collection
) -> None:
    weaviate_server.faults.fail_next("Aggregate", 1, grpc.StatusCode.UNAVAILABLE)
    assert len(things) == 5
    assert weaviate_server.faults.calls("Aggregate") == 2


def test_fail_next_rest_route(weaviate_server: WeaviateTestServer, things: Collection) -> None:
    weaviate_server.faults.fail_next("GET /v1/schema/{className}", 1, 503)
    with pytest.raises(UnexpectedStatusCodeError, match="503"):
        things.config.get()
    assert things.config.get().name == "Things"
    assert weaviate_server.faults.calls("GET /v1/schema/{className}") == 2


def test_fail_share_is_deterministic(weaviate_server: WeaviateTestServer, things: Collection) -> None:
    weaviate_server.faults.fail_share("Search", 0.3, grpc.StatusCode.INTERNAL, seed=42)
    outcomes = []
    for _ in range(40):
        try:
            things.query.fetch_objects(limit=1)
            outcomes.append(True)
        except WeaviateQueryError:
            outcomes.append(False)
    rng = random.Random(42)
    assert outcomes == [rng.random() >= 0.3 for _ in range(40)]
    weaviate_server.faults.clear()
    assert all(things.query.fetch_objects(limit=1).objects for _ in range(5))


def test_latency_and_call_counts(weaviate_server: WeaviateTestServer, things: Collection) -> None:
    faults = weaviate_server.faults
    faults.set_latency(0.1)
    started = time.perf_counter()
    things.query.fetch_objects()
    things.config.get()
    assert time.perf_counter() - started >= 0.2
    faults.clear()
    assert faults.latency == 0.0
    assert (faults.calls("BatchObjects"), faults.calls("POST /v1/schema")) == (1, 1)
    faults.reset_calls()
    assert faults.calls("Search") == 0
    with pytest.raises(ValueError, match="unknown method"):
        faults.fail_next("Serch", 1, grpc.StatusCode.INTERNAL)


def test_objects_read_counts_what_search_and_rest_return_and_nothing_else(
    weaviate_server: WeaviateTestServer, things: Collection
) -> None:
    store = weaviate_server.store
    with store.lock:
        store.objects_read = 0
    page = things.query.fetch_objects(limit=3, return_properties=[])
    things.query.fetch_objects(filters=Filter.by_property("n").greater_than(2))
    things.query.fetch_object_by_id(page.objects[0].uuid)
    assert len(things) == 5
    things.data.exists(page.objects[0].uuid)
    assert store.objects_read == 3 + 2 + 1


def test_a_hook_runs_once_just_before_the_chosen_call(
    weaviate_server: WeaviateTestServer, things: Collection
) -> None:
    seen: list[int] = []
    weaviate_server.faults.run_before("Aggregate", 2, lambda: things.data.insert({"n": 99}))
    seen.append(len(things))
    seen.append(len(things))
    seen.append(len(things))
    assert seen == [5, 6, 6]
