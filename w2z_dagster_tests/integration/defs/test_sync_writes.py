"""Sync writes obey the copy's limits and its error handling (issue 14, points 7 and 9).

The sync sends only changed objects, but each write is still a real upsert against a real server: it
must stay within the request budget counted in UTF-8 bytes, under the rate cap, split what the server
finds too large, and dead-letter a row the server refuses with its vectors intact.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import dagster as dg
import numpy as np
import pytest
from pymilvus import MilvusClient

from w2z_dagster.core.dead_letters import read_dead_letters
from w2z_dagster.core.plan import MigrationPlan
from w2z_dagster.core.sync import sync
from w2z_dagster.defs.assets import zilliz_collection
from w2z_dagster.defs.io_managers import recorded
from w2z_dagster.defs.resources import ZillizResource
from w2z_dagster.lib.metadata import CopyMetadataSet
from w2z_dagster_tests.support.milvus_proxy import FaultyMilvusProxy, faulty_proxy, merr_status
from w2z_dagster_tests.support.milvus_server import MilvusServer
from w2z_dagster_tests.support.seeding import (
    ALL_CHECKS,
    ASSETS,
    proxied_resources,
    seed_articles,
    uuid_of,
    verdicts,
)
from w2z_dagster_tests.support.weaviate_server import WeaviateTestServer

pytestmark = pytest.mark.slow

OBJECTS = 40
CHANGED = 10
WIDE_TITLE = "é" * 2000
"""4,000 bytes in UTF-8 but 2,000 characters: a budget counted in characters would send twice too much."""
BUDGET = 12_000


@pytest.fixture
def proxy(milvus_server: MilvusServer) -> Iterator[FaultyMilvusProxy]:
    with faulty_proxy(milvus_server.uri) as faulty:
        yield faulty


def _resources(
    server: WeaviateTestServer, proxy: FaultyMilvusProxy
) -> dict[str, dg.ConfigurableResource | dg.ConfigurableIOManager]:
    """Without keyword search: its text field would carry each title twice, and the request sizes below
    are counted for the title once."""
    grpc = f"http://{server.host}:{server.grpc_port}"
    return proxied_resources(server.http_url, grpc, proxy.uri, 3, 3, search_indexes=False)


def _materialize(instance: dg.DagsterInstance, resources: dict) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        ASSETS,
        partition_key="Articles",
        instance=instance,
        resources=resources,
        run_config={"ops": {"migrated_batches": {"config": {"batch_size": OBJECTS}}}},
        raise_on_error=False,
    )


def _copied_then_widened(
    server: WeaviateTestServer, proxy: FaultyMilvusProxy, instance: dg.DagsterInstance
) -> list:
    """A complete copy, then CHANGED objects given a wide title: the next sync updates exactly those."""
    with server.connect() as client:
        seeded = seed_articles(client, n=OBJECTS)
        instance.add_dynamic_partitions("weaviate_collections", ["Articles"])
        assert _materialize(instance, _resources(server, proxy)).success
        articles = client.collections.use("Articles")
        for i in range(CHANGED):
            articles.data.update(uuid=uuid_of(i), properties={"title": WIDE_TITLE})
    proxy.sizes.clear()
    proxy.calls.clear()
    return seeded


def _titles(uri: str) -> dict[str, str]:
    rows = MilvusClient(uri).query("Articles", filter="", output_fields=["id", "title"], limit=1000)
    return {row["id"]: row["title"] for row in rows}


def test_sync_requests_stay_within_the_byte_budget_in_utf8_and_under_the_rate_cap(
    weaviate_server: WeaviateTestServer,
    proxy: FaultyMilvusProxy,
    milvus_server: MilvusServer,
    instance: dg.DagsterInstance,
) -> None:
    _copied_then_widened(weaviate_server, proxy, instance)
    resources = _resources(weaviate_server, proxy)
    plan = recorded(instance, zilliz_collection.key, "Articles", MigrationPlan)
    assert plan is not None
    rate = 0.02

    with resources["weaviate"].open() as source, resources["zilliz"].open() as sink:
        schema = source.read_schema("Articles")
        started = time.monotonic()
        counts = dict(
            sync(source, sink, schema, plan, OBJECTS, write_batch_bytes=BUDGET, max_write_mb_per_s=rate)
        )
        seconds = time.monotonic() - started

    assert (counts[None].updated, counts[None].unchanged, counts[None].rejects) == (
        CHANGED,
        OBJECTS - CHANGED,
        [],
    )
    sizes = proxy.sizes["Upsert"]
    assert len(sizes) == 4, "about 42 kB of rows in 12 kB requests"
    assert max(sizes) <= BUDGET * 1.1, "the budget is estimated before encoding, within a few percent"
    metered = 0.9 * sum(sizes[:-1]) / (rate * 1_000_000)
    assert seconds >= metered, "each request waits until the estimated bytes before it are paid for"
    titles = _titles(milvus_server.uri)
    assert [titles[uuid_of(i)] for i in range(CHANGED)] == [WIDE_TITLE] * CHANGED


def test_sync_splits_a_request_the_server_finds_too_large_at_once(
    weaviate_server: WeaviateTestServer,
    proxy: FaultyMilvusProxy,
    milvus_server: MilvusServer,
    instance: dg.DagsterInstance,
) -> None:
    _copied_then_widened(weaviate_server, proxy, instance)
    proxy.max_request_bytes = 30_000

    synced = _materialize(instance, _resources(weaviate_server, proxy))
    proxy.max_request_bytes = 1 << 28

    metadata = CopyMetadataSet.extract(synced.asset_materializations_for_node("migrated_batches")[0].metadata)
    assert (metadata.mode, metadata.updated, metadata.rejected) == (
        "sync",
        CHANGED,
        0,
    )
    assert proxy.failures["Upsert"] == 1, "refused once as too large, never resent as it was"
    assert proxy.calls["Upsert"] == 3, "then sent as two halves"
    titles = _titles(milvus_server.uri)
    assert [titles[uuid_of(i)] for i in range(CHANGED)] == [WIDE_TITLE] * CHANGED


def test_sync_dead_letters_a_row_the_server_refuses_with_exact_vectors(
    weaviate_server: WeaviateTestServer,
    proxy: FaultyMilvusProxy,
    milvus_server: MilvusServer,
    instance: dg.DagsterInstance,
) -> None:
    seeded = _copied_then_widened(weaviate_server, proxy, instance)
    resources = _resources(weaviate_server, proxy)
    bad = 4
    proxy.answer("Upsert", merr_status(1100, "title too long"), keys={uuid_of(bad)})

    synced = _materialize(instance, resources)

    metadata = CopyMetadataSet.extract(synced.asset_materializations_for_node("migrated_batches")[0].metadata)
    assert (metadata.updated, metadata.rejected) == (CHANGED, 1)
    (reject,) = read_dead_letters(ZillizResource(uri="unused").dead_letter_folder(instance, "Articles"))
    assert (reject.uuid, reject.reason) == (uuid_of(bad), "target refused: invalid parameter[title too long]")
    kept = np.asarray(reject.object["vectors"]["default"], dtype=np.float32)
    assert kept.tobytes() == np.asarray(seeded[bad].vector, dtype=np.float32).tobytes()
    titles = _titles(milvus_server.uri)
    assert titles[uuid_of(bad)] != WIDE_TITLE
    assert [titles[uuid_of(i)] for i in range(CHANGED) if i != bad] == [WIDE_TITLE] * (CHANGED - 1)

    proxy.clear()
    again = _materialize(instance, resources)
    assert again.success
    assert verdicts(again) == dict.fromkeys(ALL_CHECKS, True)
    assert _titles(milvus_server.uri)[uuid_of(bad)] == WIDE_TITLE
