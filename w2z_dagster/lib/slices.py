"""Slices in the catalog: the recorded plan of a collection and each slice's own checkpoint.

A slice's checkpoints are observations of `migrated_slices` under its two-dimensional partition
(`<collection>|<slice>`), tagged with the cut of the plan they were made under: a checkpoint of an
older cut names a position in ranges that no longer exist, so it is never resumed from.
"""

from __future__ import annotations

import hashlib
import json

import dagster as dg

from w2z_dagster.core.checkpoint import Checkpoint, CheckpointStatus
from w2z_dagster.core.slices import SlicePlan
from w2z_dagster.defs.io_managers import MissingRecordError, recorded
from w2z_dagster.lib import checkpoints
from w2z_dagster.lib.metadata import CheckpointMetadataSet, SliceMetadataSet

SLICE_PLAN = dg.AssetKey("slice_plan")
MIGRATED_SLICES = dg.AssetKey("migrated_slices")


def slice_partition(collection: str, index: int) -> str:
    return str(dg.MultiPartitionKey({"collection": collection, "slice": str(index)}))


def cut_id(plan: SlicePlan) -> str:
    """A short name of how the plan cuts the collection (estimates aside), carried by every checkpoint."""
    cut = [[(w.tenant, w.range.after, w.range.before) for w in s.work] for s in plan.slices]
    return hashlib.sha256(json.dumps(cut).encode()).hexdigest()[:16]


def recorded_plan(instance: dg.DagsterInstance, collection: str) -> SlicePlan | None:
    """The collection's slice plan, or None when `slice_plan` was never materialized for it."""
    try:
        return recorded(instance, SLICE_PLAN, collection, SlicePlan)
    except MissingRecordError:
        return None


def slice_checkpoint(instance: dg.DagsterInstance, plan: SlicePlan, index: int) -> Checkpoint | None:
    """The slice's latest checkpoint made under this plan's cut; None for a fresh start."""
    partition = slice_partition(plan.collection, index)
    records = instance.fetch_observations(
        dg.AssetRecordsFilter(asset_key=MIGRATED_SLICES, asset_partitions=[partition]), limit=1
    ).records
    if not records:
        return None
    metadata = records[0].asset_observation.metadata
    if SliceMetadataSet.extract(metadata).cut != cut_id(plan):
        return None
    value = CheckpointMetadataSet.extract(metadata).checkpoint
    return Checkpoint.model_validate(value.value) if value else None


def slice_observation(plan: SlicePlan, index: int, checkpoint: Checkpoint) -> dg.AssetObservation:
    partition = slice_partition(plan.collection, index)
    observation = checkpoints.checkpoint_observation(MIGRATED_SLICES, partition, checkpoint)
    return dg.AssetObservation(
        asset_key=MIGRATED_SLICES,
        partition=partition,
        metadata={**observation.metadata, **dict(SliceMetadataSet(cut=cut_id(plan), slice=index))},
    )


def unfinished(instance: dg.DagsterInstance, plan: SlicePlan) -> list[int]:
    """The slices whose copy under this cut is not complete."""
    return [
        s.index
        for s in plan.slices
        if (cp := slice_checkpoint(instance, plan, s.index)) is None
        or cp.status is not CheckpointStatus.COMPLETE
    ]


def started(instance: dg.DagsterInstance, plan: SlicePlan) -> bool:
    """Whether any slice of this cut has written anything."""
    return any(slice_checkpoint(instance, plan, s.index) is not None for s in plan.slices)
