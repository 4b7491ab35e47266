"""The nightly sync asks for one run of the whole chain per known collection, keyed by day."""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg

from w2z_dagster.definitions import defs
from w2z_dagster.defs.partitions import collections_partitions
from w2z_dagster.defs.schedules import nightly_sync_schedule

DEFS = defs()
SCHEDULE = nightly_sync_schedule("0 2 * * *")

NIGHT = datetime(2026, 1, 2, 2, 0, tzinfo=UTC)
NEXT_NIGHT = datetime(2026, 1, 3, 2, 0, tzinfo=UTC)


def _requests(instance: dg.DagsterInstance, at: datetime) -> list[dg.RunRequest]:
    context = dg.build_schedule_context(
        instance=instance, scheduled_execution_time=at, repository_def=DEFS.get_repository_def()
    )
    return list(SCHEDULE.evaluate_tick(context).run_requests or [])


def test_one_run_per_collection_with_a_run_key_per_day(instance: dg.DagsterInstance) -> None:
    instance.add_dynamic_partitions(collections_partitions.name, ["Articles", "Authors", "Books"])

    requests = _requests(instance, NIGHT)

    assert [(r.run_key, r.partition_key) for r in requests] == [
        ("2026-01-02:Articles", "Articles"),
        ("2026-01-02:Authors", "Authors"),
        ("2026-01-02:Books", "Books"),
    ]
    assert [r.tags["dagster/partition"] for r in requests] == ["Articles", "Authors", "Books"]


def test_run_keys_are_stable_within_a_night_and_new_the_next(instance: dg.DagsterInstance) -> None:
    instance.add_dynamic_partitions(collections_partitions.name, ["Articles"])

    again = [r.run_key for r in _requests(instance, NIGHT) + _requests(instance, NIGHT)]
    tomorrow = [r.run_key for r in _requests(instance, NEXT_NIGHT)]

    assert again == ["2026-01-02:Articles", "2026-01-02:Articles"]
    assert tomorrow == ["2026-01-03:Articles"]


def test_no_collections_is_a_skip(instance: dg.DagsterInstance) -> None:
    context = dg.build_schedule_context(instance=instance, scheduled_execution_time=NIGHT)

    data = SCHEDULE.evaluate_tick(context)

    assert not data.run_requests
    assert data.skip_message == "no collections discovered yet"


def test_the_schedule_targets_the_whole_chain_at_two_utc() -> None:
    schedule = DEFS.resolve_schedule_def("nightly_sync_schedule")
    job = DEFS.resolve_job_def("migrate_collection_job")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 2 * * *", "UTC")
    assert schedule.job_name == "migrate_collection_job"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert {k.to_user_string() for k in job.asset_layer.selected_asset_keys} == {
        "source_schema",
        "zilliz_collection",
        "migrated_batches",
        "verification_report",
    }
    assert job.executor_def.name == "in_process"
