"""Launching the asset chain for a collection outside the UI (CLI, demo), as ordinary Dagster runs.

Going through the implicit asset job of the same Definitions means a CLI run is the very run the UI
would launch, recorded in the instance's history, never a second code path. The CLI watches a run
through the instance's event listener, which sees exactly the events the UI's run log shows.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import dagster as dg
from pydantic import BaseModel

from w2z_dagster.core.plan import MigrationPlan
from w2z_dagster.core.slices import SliceSettings
from w2z_dagster.defs.assets import (
    ASSETS,
    migrated_batches,
    source_schema,
    verification_report,
    zilliz_collection,
)
from w2z_dagster.defs.io_managers import MissingRecordError, recorded
from w2z_dagster.defs.partitions import collections_partitions
from w2z_dagster.lib import slices as recorded_slices
from w2z_dagster.lib.metadata import (
    CheckpointMetadataSet,
    CopyMetadataSet,
    ReportMetadataSet,
    SchemaMetadataSet,
)

RUN_LOGGER = "w2z.run"
# A run the CLI reported as failed must not be relaunched behind the user's back by the retry daemon.
CLI_TAGS = {"w2z/launched_by": "cli", "dagster/max_retries": "0"}

EventListener = Callable[[dg.EventLogEntry], None]


def register_partitions(instance: dg.DagsterInstance, collections: Sequence[str]) -> list[str]:
    """Add the collections Dagster does not know yet; returns the ones added."""
    known = set(collections_partitions.get_partition_keys(dynamic_partitions_store=instance))
    new = [c for c in collections if c not in known]
    if new:
        instance.add_dynamic_partitions(collections_partitions.name, new)
    return new


def materialize_collection(
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    collection: str,
    migration_config: Mapping[str, Any] | None = None,
    assets: Sequence[dg.AssetsDefinition] = ASSETS,
    resources: Mapping[str, Any] | None = None,
    on_event: EventListener | None = None,
    tags: Mapping[str, str] | None = None,
) -> dg.ExecuteInProcessResult:
    """One run of the chosen assets for one collection partition; failures are returned, not raised.

    With `on_event`, the caller shows the run's events itself, so Dagster's own console logger is
    turned down to CRITICAL instead of printing every event a second time.
    """
    job = definitions.resolve_implicit_global_asset_job_def()
    run_config: dict[str, Any] = {}
    if migration_config and migrated_batches in assets:
        run_config["ops"] = {migrated_batches.op.name: {"config": dict(migration_config)}}
    run_id = str(uuid.uuid4())
    if on_event is not None:
        run_config["loggers"] = {"console": {"config": {"log_level": "CRITICAL"}}}
        instance.add_event_listener(run_id, on_event)
    return job.execute_in_process(
        partition_key=collection,
        instance=instance,
        run_config=run_config or None,
        resources=resources,
        asset_selection=[a.key for a in assets],
        raise_on_error=False,
        run_id=run_id,
        tags=tags,
    )


def copy_slices(
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    collection: str,
    settings: SliceSettings,
    migration_config: Mapping[str, Any],
    on_event: EventListener | None = None,
    tags: Mapping[str, str] | None = None,
) -> dg.ExecuteInProcessResult | None:
    """Plan the collection's slices (`plan_slices_job`), then one `migrate_slices_job` run per slice.

    In process they run one after another; a run launcher (Kubernetes: a pod per run) runs them side
    by side. The chain's run after them gathers the slices and verifies. Returns the first failed
    run, or None when every run succeeded.
    """
    restart = bool(migration_config.get("restart"))
    planned = definitions.resolve_job_def("plan_slices_job").execute_in_process(
        partition_key=collection,
        instance=instance,
        run_config={"ops": {"slice_plan": {"config": {**settings.model_dump(), "restart": restart}}}},
        raise_on_error=False,
        tags=tags,
    )
    cut = recorded_slices.recorded_plan(instance, collection) if planned.success else None
    if cut is None:
        return planned
    if len(cut.slices) == 1:
        return None
    config = {k: v for k, v in migration_config.items() if k in ("batch_size", "restart") and v is not None}
    job = definitions.resolve_job_def("migrate_slices_job")
    for piece in cut.slices:
        run_id = str(uuid.uuid4())
        if on_event is not None:
            instance.add_event_listener(run_id, on_event)
        result = job.execute_in_process(
            partition_key=recorded_slices.slice_partition(collection, piece.index),
            instance=instance,
            run_config={"ops": {"migrated_slices": {"config": config}}} if config else None,
            raise_on_error=False,
            run_id=run_id,
            tags=tags,
        )
        if not result.success:
            return result
    return None


class RunWatcher:
    """Relays a run's log messages and events to the `w2z.run` logger and reports progress as it comes.

    Dagster's own events are DEBUG lines, except a step failure, which says what went wrong: the CLI's
    closing line per collection says the rest, and three error lines for one failure would bury it.
    The total is the source count `source_schema` records; progress is the object count of each
    checkpoint `migrated_batches` observes, so a resumed run starts its bar where the last one stopped.
    """

    def __init__(
        self,
        on_total: Callable[[int], None] = lambda _: None,
        on_objects: Callable[[int], None] = lambda _: None,
    ) -> None:
        self._log = logging.getLogger(RUN_LOGGER)
        self._on_total = on_total
        self._on_objects = on_objects

    def __call__(self, entry: dg.EventLogEntry) -> None:
        event = entry.dagster_event
        if event is None:
            self._log.log(entry.level, entry.user_message)
            return
        error = _event_error(event)
        message = f"{event.event_type_value}: {entry.user_message}" + (f" {error}" if error else "")
        failed_step = event.event_type == dg.DagsterEventType.STEP_FAILURE
        self._log.log(entry.level if failed_step else logging.DEBUG, message)
        metadata = _event_metadata(event)
        total = (
            SchemaMetadataSet.extract(metadata).object_count if event.asset_key == source_schema.key else None
        )
        if total is not None:
            self._on_total(total)
        elif event.event_type == dg.DagsterEventType.ASSET_OBSERVATION:
            objects = CheckpointMetadataSet.extract(metadata).objects
            if objects is not None:
                self._on_objects(objects)


def _event_metadata(event: dg.DagsterEvent) -> Mapping[str, dg.MetadataValue]:
    if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
        return event.step_materialization_data.materialization.metadata
    if event.event_type == dg.DagsterEventType.ASSET_OBSERVATION:
        return event.asset_observation_data.asset_observation.metadata
    return {}


def _event_error(event: dg.DagsterEvent) -> str | None:
    error = getattr(event.event_specific_data, "error", None)
    return _cause(error) if error is not None else None


def _cause(error: Any) -> str:
    """The user's exception, not Dagster's wrapper around it: `SourceError: collection 'X' ...`."""
    while error.cause is not None:
        error = error.cause
    text = " ".join(error.message.split())
    head, _, rest = text.partition(": ")
    return f"{error.cls_name}: {rest}" if rest and head.endswith(error.cls_name or "") else text


class RunSummary(BaseModel):
    """One collection's run as the CLI reports it."""

    collection: str
    run_id: str
    success: bool
    objects: int | None = None
    rejected: int | None = None
    verification: bool | None = None
    failed_checks: list[str] = []
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.success and self.verification is not False

    @property
    def outcome(self) -> str:
        """A failed verification fails its run too (blocking checks): say which checks, not the wrapper."""
        if self.verification is False:
            return f"verification FAIL ({', '.join(self.failed_checks)})"
        if not self.success:
            return f"failed: {self.error}"
        return "ok"


def summarize(collection: str, result: dg.ExecuteInProcessResult) -> RunSummary:
    materialized = {
        e.asset_key: e.step_materialization_data.materialization.metadata
        for e in result.get_asset_materialization_events()
        if e.asset_key is not None
    }
    migrated = CopyMetadataSet.extract(materialized.get(migrated_batches.key, {}))
    report = ReportMetadataSet.extract(materialized.get(verification_report.key, {}))
    return RunSummary(
        collection=collection,
        run_id=result.run_id,
        success=result.success,
        objects=migrated.objects,
        rejected=migrated.rejected,
        verification=report.passed,
        failed_checks=[e.check_name for e in result.get_asset_check_evaluations() if not e.passed],
        error=None if result.success else _run_error(result),
    )


def _run_error(result: dg.ExecuteInProcessResult) -> str:
    for event in result.all_events:
        error = _event_error(event)
        if error:
            return error
    return "the run failed; see its log in the Dagster UI"


def missing_record_message(instance: dg.DagsterInstance, collection: str) -> str | None:
    """Why verification alone cannot run for `collection` yet, or None when the plan is recorded."""
    try:
        recorded(instance, zilliz_collection.key, collection, MigrationPlan)
    except MissingRecordError:
        return f"collection '{collection}' has not been migrated with this DAGSTER_HOME: run `w2z migrate -c {collection}` first"
    return None
