"""Follow mode: a sync request per followed collection each interval, none while a run of it is in progress."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import dagster as dg
import pytest
from dagster._core.remote_origin import RegisteredCodeLocationOrigin, RemoteJobOrigin, RemoteRepositoryOrigin

from w2z_dagster.core.settings import Settings
from w2z_dagster.definitions import build_definitions
from w2z_dagster.defs.partitions import collections_partitions
from w2z_dagster.defs.sensors import follow_sensor

SENSOR = follow_sensor(60, "Art*,Books")
ORIGIN = RemoteJobOrigin(
    RemoteRepositoryOrigin(RegisteredCodeLocationOrigin("w2z_dagster"), "__repository__"), "follow_sync_job"
)
"""A queued run must name where its job comes from, as the daemon's runs do."""


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as inst:
        inst.add_dynamic_partitions(collections_partitions.name, ["Articles", "Authors", "Books"])
        yield inst


def _tick(instance: dg.DagsterInstance) -> dg.SensorResult | dg.SkipReason:
    return SENSOR(dg.build_sensor_context(instance=instance))


def _running(instance: dg.DagsterInstance, partition: str, status: dg.DagsterRunStatus) -> None:
    instance.add_run(
        dg.DagsterRun(
            job_name="follow_sync_job",
            status=status,
            tags={"dagster/partition": partition},
            remote_job_origin=ORIGIN,
        )
    )


def test_each_followed_collection_gets_a_sync_keyed_by_its_interval(instance: dg.DagsterInstance) -> None:
    result = _tick(instance)

    assert isinstance(result, dg.SensorResult)
    assert [r.partition_key for r in result.run_requests] == ["Articles", "Books"]
    slots = {r.run_key.split(":")[1] for r in result.run_requests}
    assert len(slots) == 1 and all(r.run_key.startswith("follow:") for r in result.run_requests)
    assert (SENSOR.minimum_interval_seconds, SENSOR.job_name) == (60, "follow_sync_job")
    assert SENSOR.default_status is dg.DefaultSensorStatus.RUNNING


def test_a_collection_with_a_run_in_progress_gets_no_second_one(instance: dg.DagsterInstance) -> None:
    _running(instance, "Articles", dg.DagsterRunStatus.STARTED)
    _running(instance, "Books", dg.DagsterRunStatus.SUCCESS)

    result = _tick(instance)

    assert isinstance(result, dg.SensorResult)
    assert [r.partition_key for r in result.run_requests] == ["Books"]


def test_nothing_is_requested_while_every_followed_collection_is_busy(instance: dg.DagsterInstance) -> None:
    _running(instance, "Articles", dg.DagsterRunStatus.QUEUED)
    _running(instance, "Books", dg.DagsterRunStatus.STARTING)

    result = _tick(instance)

    assert isinstance(result, dg.SkipReason)
    assert result.skip_message == (
        "no followed collection can sync now: Articles: a run is in progress; Books: a run is in progress"
    )


def test_follow_mode_is_off_by_default_and_the_night_keeps_the_collections_not_followed(
    instance: dg.DagsterInstance,
) -> None:
    off = build_definitions(Settings())
    on = build_definitions(Settings(W2Z_FOLLOW_INTERVAL=30, W2Z_FOLLOW_COLLECTIONS="Art*"))
    context = dg.build_schedule_context(
        instance=instance,
        scheduled_execution_time=datetime(2026, 1, 2, 2, 0, tzinfo=UTC),
        repository_def=on.get_repository_def(),
    )
    night = on.resolve_schedule_def("nightly_sync_schedule").evaluate_tick(context).run_requests

    assert [s.name for s in off.sensors] == ["discover_collections_sensor", "sliced_copy_sensor"]
    assert [s.name for s in on.sensors] == [
        "discover_collections_sensor",
        "sliced_copy_sensor",
        "follow_sensor",
    ]
    assert on.resolve_sensor_def("follow_sensor").minimum_interval_seconds == 30
    assert [r.partition_key for r in night] == ["Authors", "Books"]
