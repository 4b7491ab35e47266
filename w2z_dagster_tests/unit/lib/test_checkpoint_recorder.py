"""When checkpoints reach the catalog: the first at once, then at most once per interval, and the last
unrecorded one on demand (the asset asks for it when the stream fails)."""

from __future__ import annotations

import dagster as dg
import pytest

from w2z_dagster.core.checkpoint import Checkpoint
from w2z_dagster.lib.checkpoints import CheckpointRecorder
from w2z_dagster.lib.metadata import CheckpointMetadataSet

ASSET = dg.AssetKey("migrated_batches")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _batches(observations: list[dg.AssetObservation]) -> list[int]:
    return [CheckpointMetadataSet.extract(o.metadata).checkpoint.value["batches"] for o in observations]


@pytest.mark.parametrize(
    ("interval", "times", "recorded"),
    [
        (0.0, [0.0, 0.1, 0.1, 0.2], [1, 2, 3, 4]),
        (2.0, [0.0, 0.5, 1.99, 2.0, 2.1, 4.5], [1, 4, 6]),
        (2.0, [0.0, 5.0, 5.1], [1, 2]),
    ],
)
def test_checkpoints_are_recorded_at_most_once_per_interval(
    interval: float, times: list[float], recorded: list[int]
) -> None:
    clock = Clock()
    checkpoint = Checkpoint(collection="Articles")
    recorder = CheckpointRecorder(ASSET, "Articles", checkpoint, interval, clock)
    observations = []

    for offset in times:
        clock.now = 100.0 + offset
        checkpoint = checkpoint.advanced(None, f"uuid-{checkpoint.batches}", 10, 0)
        observations += recorder.advance(checkpoint)

    assert _batches(observations) == recorded
    assert recorder.latest == checkpoint


def test_the_latest_unrecorded_checkpoint_is_recorded_once_on_demand() -> None:
    clock = Clock()
    checkpoint = Checkpoint(collection="Articles")
    recorder = CheckpointRecorder(ASSET, "Articles", checkpoint, 60.0, clock)
    first = list(recorder.advance(checkpoint.advanced(None, "a", 10, 0)))
    second = list(recorder.advance(recorder.latest.advanced(None, "b", 10, 1)))

    pending = list(recorder.unrecorded())

    assert (_batches(first), second, _batches(pending)) == ([1], [], [2])
    assert (
        pending[0].partition == "Articles"
        and CheckpointMetadataSet.extract(pending[0].metadata).after_uuid == "b"
    )
    assert list(recorder.unrecorded()) == []
