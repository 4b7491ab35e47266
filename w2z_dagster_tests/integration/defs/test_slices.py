"""Slices as Dagster runs: the plan in the catalog, one `migrated_slices` run per (collection, slice),
each resumable on its own, and the chain's `migrated_batches` completing (and verifying) only after all."""

from __future__ import annotations

from typing import Any

import dagster as dg
import numpy as np
import pytest
import weaviate
import weaviate.classes.config as wc
from weaviate.classes.data import DataObject
from weaviate.util import generate_uuid5

from w2z_dagster.core.checkpoint import CheckpointStatus
from w2z_dagster.core.slices import SliceMethod
from w2z_dagster.defs.assets import ASSETS, migrated_batches
from w2z_dagster.defs.partitions import collections_partitions
from w2z_dagster.defs.sensors import follow_sensor
from w2z_dagster.defs.slices import SLICE_ASSETS, migrated_slices, slice_plan, sliced_copy_sensor
from w2z_dagster.lib import slices as recorded
from w2z_dagster.lib.checkpoints import latest_checkpoint
from w2z_dagster.lib.metadata import CopyMetadataSet, SliceMetadataSet
from w2z_dagster_tests.support.seeding import ALL_CHECKS, ARTICLE_PROPERTIES, article, migrate, verdicts

OBJECTS = 4_000
ALL = [*ASSETS, *SLICE_ASSETS]


def _seed(client: weaviate.WeaviateClient, name: str = "Big", n: int = OBJECTS) -> None:
    collection = client.collections.create(
        name,
        properties=ARTICLE_PROPERTIES,
        vector_config=wc.Configure.Vectors.self_provided(
            vector_index_config=wc.Configure.VectorIndex.hnsw(distance_metric=wc.VectorDistances.COSINE)
        ),
    )
    vectors = np.random.default_rng(5).random((n, 8), dtype=np.float32).tolist()
    collection.data.insert_many(
        [DataObject(properties=article(i), uuid=generate_uuid5(i), vector=vectors[i]) for i in range(n)]
    )


def _plan(
    instance: dg.DagsterInstance, resources: dict[str, Any], slices: int, restart: bool = False
) -> dg.ExecuteInProcessResult:
    if not instance.has_dynamic_partition(collections_partitions.name, "Big"):
        instance.add_dynamic_partitions(collections_partitions.name, ["Big"])
    return dg.materialize(
        ALL,
        selection=[*ASSETS[:2], slice_plan],
        partition_key="Big",
        instance=instance,
        resources=resources,
        raise_on_error=False,
        run_config={
            "ops": {
                "slice_plan": {"config": {"slices": slices, "min_slice_objects": 1_000, "restart": restart}}
            }
        },
    )


def _slice(
    instance: dg.DagsterInstance, resources: dict[str, Any], index: int, **config: Any
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        ALL,
        selection=[migrated_slices],
        partition_key=recorded.slice_partition("Big", index),
        instance=instance,
        resources=resources,
        raise_on_error=False,
        run_config={"ops": {"migrated_slices": {"config": config}}} if config else None,
    )


def _gatherings(instance: dg.DagsterInstance) -> list[dg.RunRequest]:
    result = sliced_copy_sensor(dg.build_sensor_context(instance=instance))
    return [] if isinstance(result, dg.SkipReason) else list(result)


def _copy(result: dg.ExecuteInProcessResult) -> CopyMetadataSet:
    [event] = result.get_asset_materialization_events()
    return CopyMetadataSet.extract(event.materialization.metadata)


@pytest.mark.slow
def test_a_collection_is_planned_copied_slice_by_slice_then_verified(
    weaviate_client: weaviate.WeaviateClient, instance: dg.DagsterInstance, resources: dict[str, Any]
) -> None:
    _seed(weaviate_client)
    assert _plan(instance, resources, slices=4).success
    cut = recorded.recorded_plan(instance, "Big")
    assert cut is not None and cut.method is SliceMethod.UNIFORM and len(cut.slices) == 4
    record = instance.fetch_materializations(slice_plan.key, limit=1).records[0]
    assert SliceMetadataSet.extract(record.asset_materialization.metadata).cut == recorded.cut_id(cut)

    assert _gatherings(instance) == []
    early = migrate(instance, resources, "Big")
    assert not early.success
    assert "slice(s) 0, 1, 2, 3 are not complete" in str(
        early.get_step_failure_events()[0].event_specific_data
    )

    copied = []
    for index in range(8):
        result = _slice(instance, resources, index, max_write_mb_per_s=8.0)
        assert result.success
        copied.append(_copy(result))
    assert [c.mode for c in copied] == ["full copy"] * 4 + ["nothing to do: beyond the plan"] * 4
    assert sum(c.objects or 0 for c in copied) == OBJECTS
    assert recorded.unfinished(instance, cut) == []
    [request] = _gatherings(instance)
    assert (request.run_key, request.partition_key) == (f"Big:{recorded.cut_id(cut)}", "Big")

    chain = migrate(instance, resources, "Big")
    assert chain.success
    gathered = next(
        e for e in chain.get_asset_materialization_events() if e.asset_key == migrated_batches.key
    ).materialization.metadata
    assert (CopyMetadataSet.extract(gathered).mode, CopyMetadataSet.extract(gathered).objects) == (
        "sliced copy",
        OBJECTS,
    )
    assert verdicts(chain) == dict.fromkeys(ALL_CHECKS, True)
    starts = [recorded.slice_checkpoint(instance, cut, s.index).started_ms for s in cut.slices]
    complete = latest_checkpoint(instance, migrated_batches.key, "Big")
    assert complete is not None and None not in starts
    assert complete.watermark_ms == min(starts)
    [lag] = [e for e in chain.get_asset_check_evaluations() if e.asset_key == migrated_batches.key]
    assert (lag.check_name, lag.passed) == ("lag", True)

    assert _gatherings(instance) == []
    again = _slice(instance, resources, 2)
    assert _copy(again).mode == "nothing to do: slice complete"


@pytest.mark.slow
def test_a_slice_resumes_from_its_own_checkpoint(
    weaviate_client: weaviate.WeaviateClient, instance: dg.DagsterInstance, resources: dict[str, Any]
) -> None:
    _seed(weaviate_client)
    assert _plan(instance, resources, slices=2).success
    cut = recorded.recorded_plan(instance, "Big")
    assert cut is not None and len(cut.slices) == 2

    first = _slice(instance, resources, 1, limit=700, batch_size=100, checkpoint_interval_seconds=0)
    assert first.success
    stopped = recorded.slice_checkpoint(instance, cut, 1)
    assert stopped is not None and stopped.objects == 700
    # a limited run completes its checkpoint; a resumable one is what a crash leaves
    instance.report_runless_asset_event(
        recorded.slice_observation(cut, 1, stopped.model_copy(update={"status": CheckpointStatus.RUNNING}))
    )
    resumed = _slice(instance, resources, 1, batch_size=100)
    assert _copy(resumed).mode == "resume"
    total = recorded.slice_checkpoint(instance, cut, 1)
    assert total is not None and total.status is CheckpointStatus.COMPLETE
    assert _slice(instance, resources, 0).success
    done = [recorded.slice_checkpoint(instance, cut, i) for i in range(2)]
    assert sum(c.objects for c in done if c is not None) == OBJECTS
    chain = migrate(instance, resources, "Big")
    assert chain.success and verdicts(chain) == dict.fromkeys(ALL_CHECKS, True)


@pytest.mark.slow
def test_a_half_copied_collection_keeps_its_cut_unless_restarted(
    weaviate_client: weaviate.WeaviateClient, instance: dg.DagsterInstance, resources: dict[str, Any]
) -> None:
    _seed(weaviate_client)
    assert _plan(instance, resources, slices=4).success
    assert _slice(instance, resources, 0).success

    changed = _plan(instance, resources, slices=2)
    assert not changed.success
    assert "'Big' is half copied in 4 slices; cutting it into 2 needs restart: true on slice_plan" in str(
        changed.get_step_failure_events()[0].event_specific_data
    )
    assert _plan(instance, resources, slices=2, restart=True).success
    cut = recorded.recorded_plan(instance, "Big")
    assert cut is not None and len(cut.slices) == 2
    assert recorded.unfinished(instance, cut) == [0, 1]


def test_a_collection_planned_as_one_slice_is_copied_by_migrated_batches_as_before(
    weaviate_client: weaviate.WeaviateClient, instance: dg.DagsterInstance, resources: dict[str, Any]
) -> None:
    _seed(weaviate_client, n=500)
    assert _plan(instance, resources, slices=4).success
    assert [_copy(_slice(instance, resources, i)).mode for i in (0, 1)] == ["nothing to do: one slice"] * 2
    chain = migrate(instance, resources, "Big")
    assert chain.success
    modes = [
        CopyMetadataSet.extract(e.materialization.metadata).mode
        for e in chain.get_asset_materialization_events()
        if e.asset_key == migrated_batches.key
    ]
    assert modes == ["full copy"]


def test_follow_mode_requests_no_sync_of_a_collection_until_its_slices_are_copied(
    weaviate_client: weaviate.WeaviateClient, instance: dg.DagsterInstance, resources: dict[str, Any]
) -> None:
    """A sync of a half-sliced collection could only fail ("slice(s) … are not complete"); once every
    slice is copied, the requested run is the one that gathers them."""
    follow = follow_sensor(60, "Big")
    _seed(weaviate_client, n=2_000)
    assert _plan(instance, resources, slices=2).success
    assert _slice(instance, resources, 0).success

    held = follow(dg.build_sensor_context(instance=instance))
    assert isinstance(held, dg.SkipReason)
    assert held.skip_message == "no followed collection can sync now: Big: slice(s) 1 not copied yet"

    assert _slice(instance, resources, 1).success
    ready = follow(dg.build_sensor_context(instance=instance))
    assert isinstance(ready, dg.SensorResult)
    assert [r.partition_key for r in ready.run_requests] == ["Big"]
