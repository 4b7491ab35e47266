"""Fault proofs: transient failures on both sides are absorbed; permanent ones stop the run at its last
good checkpoint, and a rerun after the fault clears completes the copy.

The target's faults are the statuses real Milvus sends (issue 14): a server failure (5, 6) fails the run
before the write and blames no row; backpressure (8, 9, 11) is waited out, then fails with what to do;
an input error (1100) dead-letters only the rows it names; a schema mismatch is described anew and
retried; a request larger than the server takes is split at once.
"""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
import grpc
import numpy as np
import pytest
from pymilvus import MilvusClient

from w2z_dagster.core.dead_letters import read_dead_letters
from w2z_dagster.defs.resources import ZillizResource
from w2z_dagster.lib.checkpoints import latest_checkpoint
from w2z_dagster.lib.metadata import CheckpointMetadataSet, CopyMetadataSet
from w2z_dagster_tests.support.milvus_proxy import FaultyMilvusProxy, faulty_proxy, merr_status
from w2z_dagster_tests.support.milvus_server import MilvusServer
from w2z_dagster_tests.support.seeding import (
    ALL_CHECKS,
    ASSETS,
    proxied_resources,
    reverify,
    seed_articles,
    uuid_of,
    verdicts,
)
from w2z_dagster_tests.support.weaviate_server import WeaviateTestServer

pytestmark = pytest.mark.slow

OBJECTS = 120
BATCH = 10
REQUEST_LIMIT = 1500
"""Between the size of a 5-row and a 10-row upsert request of `seed_articles` rows."""


@pytest.fixture
def proxy(milvus_server: MilvusServer) -> Iterator[FaultyMilvusProxy]:
    with faulty_proxy(milvus_server.uri) as faulty:
        yield faulty


def _resources(
    server: WeaviateTestServer, proxy: FaultyMilvusProxy, retries: int = 8
) -> dict[str, dg.ConfigurableResource | dg.ConfigurableIOManager]:
    return proxied_resources(
        server.http_url, f"http://{server.host}:{server.grpc_port}", proxy.uri, 8, retries
    )


def _materialize(instance: dg.DagsterInstance, resources: dict, **config: float) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        ASSETS,
        partition_key="Articles",
        instance=instance,
        resources=resources,
        run_config={"ops": {"migrated_batches": {"config": {"batch_size": BATCH, **config}}}},
        raise_on_error=False,
    )


def _count(uri: str) -> int:
    return MilvusClient(uri).query("Articles", filter="", output_fields=["count(*)"])[0]["count(*)"]


def test_transient_faults_on_both_sides_are_retried_to_an_exact_copy(
    weaviate_server: WeaviateTestServer, proxy: FaultyMilvusProxy, milvus_server: MilvusServer, instance
) -> None:
    with weaviate_server.connect() as client:
        seed_articles(client, n=OBJECTS)
    instance.add_dynamic_partitions("weaviate_collections", ["Articles"])
    weaviate_server.faults.fail_share("Search", 0.3, grpc.StatusCode.DEADLINE_EXCEEDED, seed=1)
    proxy.fail_share("Upsert", 0.3, grpc.StatusCode.RESOURCE_EXHAUSTED, seed=2)

    result = _materialize(instance, _resources(weaviate_server, proxy))

    assert result.success
    assert proxy.failures["Upsert"] > 0
    assert weaviate_server.faults.calls("Search") > OBJECTS // BATCH + 1
    assert _count(milvus_server.uri) == OBJECTS
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == dict.fromkeys(ALL_CHECKS, True)


def test_a_permanent_fault_stops_at_the_last_good_batch_and_a_rerun_completes(
    weaviate_server: WeaviateTestServer, proxy: FaultyMilvusProxy, milvus_server: MilvusServer, instance
) -> None:
    with weaviate_server.connect() as client:
        seed_articles(client, n=OBJECTS)
    instance.add_dynamic_partitions("weaviate_collections", ["Articles"])
    resources = _resources(weaviate_server, proxy)
    proxy.fail_after("Upsert", 4, grpc.StatusCode.PERMISSION_DENIED)

    failed = _materialize(instance, resources, checkpoint_interval_seconds=3600)

    assert not failed.success
    recorded = [
        CheckpointMetadataSet.extract(o.metadata).batches
        for o in failed.asset_observations_for_node("migrated_batches")
    ]
    assert recorded == [1, 4], "the first write is recorded at once, the last good one when the run fails"
    checkpoint = latest_checkpoint(instance, dg.AssetKey("migrated_batches"), "Articles")
    assert (checkpoint.batches, checkpoint.objects, checkpoint.status.value) == (4, 4 * BATCH, "running")
    assert _count(milvus_server.uri) == 4 * BATCH

    proxy.clear()
    rerun = _materialize(instance, resources)

    assert rerun.success
    assert _count(milvus_server.uri) == OBJECTS
    metadata = CopyMetadataSet.extract(rerun.asset_materializations_for_node("migrated_batches")[0].metadata)
    assert (metadata.objects, metadata.batches) == (OBJECTS, OBJECTS // BATCH)


def _cause(result: dg.ExecuteInProcessResult) -> str:
    """The user's exception under Dagster's wrappers, as `Class: message`."""
    failure = next(e for e in result.all_events if e.is_step_failure).step_failure_data.error
    while failure.cls_name.startswith("Dagster") and failure.cause is not None:
        failure = failure.cause
    return f"{failure.cls_name}: {' '.join(failure.message.split(': ', 1)[1].split())}"


def _step_failures(result: dg.ExecuteInProcessResult) -> int:
    return sum(e.is_step_failure for e in result.all_events)


def _rejects(instance: dg.DagsterInstance) -> list:
    return list(read_dead_letters(ZillizResource(uri="unused").dead_letter_folder(instance, "Articles")))


def _exact_after_clearing(
    instance: dg.DagsterInstance, resources: dict, proxy: FaultyMilvusProxy, uri: str
) -> dg.ExecuteInProcessResult:
    proxy.clear()
    rerun = _materialize(instance, resources)
    assert rerun.success
    assert _count(uri) == OBJECTS
    checks = {e.check_name: e.passed for e in rerun.get_asset_check_evaluations()}
    assert checks == dict.fromkeys(ALL_CHECKS, True)
    return rerun


@pytest.mark.parametrize("code", [5, 6])
def test_a_server_failure_fails_the_run_before_the_write_and_blames_no_row(
    weaviate_server: WeaviateTestServer,
    proxy: FaultyMilvusProxy,
    milvus_server: MilvusServer,
    instance: dg.DagsterInstance,
    code: int,
) -> None:
    with weaviate_server.connect() as client:
        seed_articles(client, n=OBJECTS)
    instance.add_dynamic_partitions("weaviate_collections", ["Articles"])
    resources = _resources(weaviate_server, proxy)
    proxy.answer("Upsert", merr_status(code), passes=4)

    failed = _materialize(instance, resources, checkpoint_interval_seconds=3600)

    assert not failed.success
    assert proxy.answered["Upsert"] == 1, "not retried (Milvus marks it not retriable), not bisected"
    assert proxy.calls["Upsert"] == 5
    assert _step_failures(failed) == 1, "not retried as a step either"
    assert _cause(failed).startswith(f"SinkError: the target failed a write of {BATCH} rows (code {code}: ")
    checkpoint = latest_checkpoint(instance, dg.AssetKey("migrated_batches"), "Articles")
    assert (checkpoint.batches, checkpoint.objects, checkpoint.rejected) == (4, 4 * BATCH, 0)
    assert _rejects(instance) == []
    assert _count(milvus_server.uri) == 4 * BATCH

    _exact_after_clearing(instance, resources, proxy, milvus_server.uri)


@pytest.mark.parametrize("code", [8, 9, 11])
def test_backpressure_is_waited_out_then_fails_saying_to_scale_or_slow_down(
    weaviate_server: WeaviateTestServer,
    proxy: FaultyMilvusProxy,
    milvus_server: MilvusServer,
    instance: dg.DagsterInstance,
    code: int,
) -> None:
    with weaviate_server.connect() as client:
        seed_articles(client, n=OBJECTS)
    instance.add_dynamic_partitions("weaviate_collections", ["Articles"])
    resources = _resources(weaviate_server, proxy, retries=3)
    proxy.answer("Upsert", merr_status(code), passes=4)

    failed = _materialize(instance, resources, checkpoint_interval_seconds=3600)

    assert not failed.success
    assert proxy.answered["Upsert"] == 4, "the write was retried max_retries times, never bisected"
    assert _step_failures(failed) == 1
    cause = _cause(failed)
    assert cause.startswith(f"Overloaded: the target kept refusing requests as overloaded (code {code}: ")
    assert cause.endswith(
        "over 4 attempts: scale the cluster up, or slow the writes down with max_write_mb_per_s"
    )
    checkpoint = latest_checkpoint(instance, dg.AssetKey("migrated_batches"), "Articles")
    assert (checkpoint.batches, checkpoint.objects) == (4, 4 * BATCH)
    assert _rejects(instance) == []

    _exact_after_clearing(instance, resources, proxy, milvus_server.uri)


@pytest.mark.parametrize("code", [8, 9, 11])
def test_brief_backpressure_is_absorbed(
    weaviate_server: WeaviateTestServer,
    proxy: FaultyMilvusProxy,
    milvus_server: MilvusServer,
    instance: dg.DagsterInstance,
    code: int,
) -> None:
    with weaviate_server.connect() as client:
        seed_articles(client, n=OBJECTS)
    instance.add_dynamic_partitions("weaviate_collections", ["Articles"])
    proxy.answer("Upsert", merr_status(code), times=3, passes=2)

    result = _materialize(instance, _resources(weaviate_server, proxy, retries=3))

    assert result.success
    assert proxy.answered["Upsert"] == 3
    assert proxy.calls["Upsert"] == OBJECTS // BATCH + 3
    assert _rejects(instance) == []
    assert _count(milvus_server.uri) == OBJECTS


def test_a_row_the_server_refuses_is_dead_lettered_with_exact_vectors_and_the_run_goes_on(
    weaviate_server: WeaviateTestServer,
    proxy: FaultyMilvusProxy,
    milvus_server: MilvusServer,
    instance: dg.DagsterInstance,
) -> None:
    with weaviate_server.connect() as client:
        seeded = seed_articles(client, n=OBJECTS)
    instance.add_dynamic_partitions("weaviate_collections", ["Articles"])
    resources = _resources(weaviate_server, proxy)
    bad = 37
    proxy.answer(
        "Upsert", merr_status(1100, "length of varchar field title exceeds max length"), keys={uuid_of(bad)}
    )

    result = _materialize(instance, resources)

    metadata = CopyMetadataSet.extract(result.asset_materializations_for_node("migrated_batches")[0].metadata)
    assert (metadata.objects, metadata.rejected) == (OBJECTS - 1, 1)
    assert _count(milvus_server.uri) == OBJECTS - 1
    assert MilvusClient(milvus_server.uri).get("Articles", ids=[uuid_of(bad)]) == []
    (reject,) = _rejects(instance)
    assert (reject.uuid, reject.tenant) == (uuid_of(bad), None)
    assert reject.reason == (
        "target refused: invalid parameter[length of varchar field title exceeds max length]"
    )
    kept = np.asarray(reject.object["vectors"]["default"], dtype=np.float32)
    assert kept.tobytes() == np.asarray(seeded[bad].vector, dtype=np.float32).tobytes()
    assert reject.object["properties"]["title"] == f"article {bad} ✓"
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert {name for name, passed in checks.items() if not passed} == {
        "counts",
        "identity",
        "content",
        "rejects",
    }

    rerun = _exact_after_clearing(instance, resources, proxy, milvus_server.uri)
    synced = CopyMetadataSet.extract(rerun.asset_materializations_for_node("migrated_batches")[0].metadata)
    assert (synced.mode, synced.added) == ("sync", 1)


def test_a_schema_mismatch_describes_the_target_again_and_retries_once(
    weaviate_server: WeaviateTestServer,
    proxy: FaultyMilvusProxy,
    milvus_server: MilvusServer,
    instance: dg.DagsterInstance,
) -> None:
    with weaviate_server.connect() as client:
        seed_articles(client, n=OBJECTS)
    instance.add_dynamic_partitions("weaviate_collections", ["Articles"])
    proxy.answer("Upsert", merr_status(109), times=1, passes=3)

    result = _materialize(instance, _resources(weaviate_server, proxy))

    assert result.success
    assert proxy.answered["Upsert"] == 1
    assert proxy.calls["Upsert"] == OBJECTS // BATCH + 1
    assert _rejects(instance) == []
    assert _count(milvus_server.uri) == OBJECTS


def test_a_target_that_keeps_changing_fails_the_run_and_a_rerun_completes(
    weaviate_server: WeaviateTestServer,
    proxy: FaultyMilvusProxy,
    milvus_server: MilvusServer,
    instance: dg.DagsterInstance,
) -> None:
    with weaviate_server.connect() as client:
        seed_articles(client, n=OBJECTS)
    instance.add_dynamic_partitions("weaviate_collections", ["Articles"])
    resources = _resources(weaviate_server, proxy)
    proxy.answer("Upsert", merr_status(109), passes=3)

    failed = _materialize(instance, resources)

    assert not failed.success
    assert proxy.answered["Upsert"] == 2, "the first mismatch is retried once, fresh; the second fails"
    assert _cause(failed) == (
        "SinkError: target collection 'Articles' kept changing while w2z wrote to it (schema mismatch again "
        "after describing it anew): stop whatever alters it, then run again"
    )
    assert _rejects(instance) == []

    _exact_after_clearing(instance, resources, proxy, milvus_server.uri)


def test_a_request_too_large_for_the_server_is_split_at_once_not_resent(
    weaviate_server: WeaviateTestServer,
    proxy: FaultyMilvusProxy,
    milvus_server: MilvusServer,
    instance: dg.DagsterInstance,
) -> None:
    with weaviate_server.connect() as client:
        seed_articles(client, n=OBJECTS)
    instance.add_dynamic_partitions("weaviate_collections", ["Articles"])

    with faulty_proxy(milvus_server.uri, max_request_bytes=REQUEST_LIMIT) as small:
        copied = dg.materialize(
            ASSETS[:3],
            partition_key="Articles",
            instance=instance,
            resources=_resources(weaviate_server, small),
            run_config={"ops": {"migrated_batches": {"config": {"batch_size": BATCH}}}},
        )

    assert copied.success
    writes = OBJECTS // BATCH
    assert small.failures["Upsert"] == writes, "each write refused once, never resent as it was"
    assert small.calls["Upsert"] == 3 * writes, "then sent as two halves"
    assert _rejects(instance) == []
    assert _count(milvus_server.uri) == OBJECTS
    verified = reverify(instance, _resources(weaviate_server, proxy), "Articles")
    assert verdicts(verified) == dict.fromkeys(ALL_CHECKS, True)
