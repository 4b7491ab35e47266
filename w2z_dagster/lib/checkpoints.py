"""Checkpoints in the catalog: recorded by `migrated_batches` as it goes, read back by the next run.

Checkpoints are observations of `migrated_batches`, so the partition's history in the catalog is also
where a new run resumes; they are recorded as the stream goes, at a bounded rate (`CheckpointRecorder`).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import dagster as dg

from w2z_dagster.core.checkpoint import Checkpoint
from w2z_dagster.lib.metadata import CheckpointMetadataSet

DEFAULT_CHECKPOINT_INTERVAL = 2.0
"""Seconds between recorded checkpoints of a running migration (see `CheckpointRecorder`)."""


def _filter(asset: dg.AssetKey, partition: str) -> dg.AssetRecordsFilter:
    return dg.AssetRecordsFilter(asset_key=asset, asset_partitions=[partition])


def latest_checkpoint(instance: dg.DagsterInstance, asset: dg.AssetKey, partition: str) -> Checkpoint | None:
    records = instance.fetch_observations(_filter(asset, partition), limit=1).records
    if not records:
        return None
    value = CheckpointMetadataSet.extract(records[0].asset_observation.metadata).checkpoint
    return Checkpoint.model_validate(value.value) if value else None


def checkpoint_observation(asset: dg.AssetKey, partition: str, checkpoint: Checkpoint) -> dg.AssetObservation:
    return dg.AssetObservation(
        asset_key=asset,
        partition=partition,
        metadata=dict(
            CheckpointMetadataSet(
                checkpoint=dg.MetadataValue.json(checkpoint.model_dump(mode="json")),
                tenant=checkpoint.tenant or "",
                after_uuid=checkpoint.after or "",
                objects=checkpoint.objects,
                batches=checkpoint.batches,
                status=checkpoint.status.value,
            )
        ),
    )


class CheckpointRecorder:
    """Records a partition's checkpoint as observations, at most once per `interval` seconds.

    Each observation costs Dagster's SQLite storage several transactions; one per write took over a quarter
    of the migrating process's CPU and cut throughput by about a tenth (benchmarks/README.md). The stream
    still hands over a checkpoint per write; the first is recorded at once, later ones once `interval`
    has passed, and one still unrecorded when the stream fails is recorded before the error propagates.
    Only a killed process loses the writes since the last record, and the next run replays them as
    upserts.
    """

    def __init__(
        self,
        asset: dg.AssetKey,
        partition: str,
        start: Checkpoint,
        interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.latest = start
        self._asset = asset
        self._partition = partition
        self._interval = interval
        self._clock = clock
        self._due = float("-inf")
        self._unrecorded = False

    def advance(self, checkpoint: Checkpoint) -> list[dg.AssetObservation]:
        """The observations to yield now: none, or this checkpoint."""
        self.latest = checkpoint
        self._unrecorded = True
        now = self._clock()
        if now < self._due:
            return []
        self._due = now + self._interval
        return self.unrecorded()

    def unrecorded(self) -> list[dg.AssetObservation]:
        """The latest checkpoint, if it has not been recorded yet."""
        if not self._unrecorded:
            return []
        self._unrecorded = False
        return [checkpoint_observation(self._asset, self._partition, self.latest)]
