"""A large collection copied as slices: the plan after `zilliz_collection`, then one run per slice.

`slice_plan` cuts the collection (`core/slices.py`) and records the cut in the catalog; `migrated_slices`
is partitioned by (collection, slice) and copies one slice per run, resumable from its own checkpoint,
red or green on its own in the partitions view. `migrated_batches` of a sliced collection then only
gathers: it completes once every slice is complete, and later runs sync the collection as a whole.
A collection planned as one slice is copied by `migrated_batches` exactly as without slicing; all its
slice partitions are no-ops.

Dagster runs each asset job over one partitions definition only (`_infer_and_validate_common_partitions_def`
in dagster/_core/definitions/assets/job/asset_job.py), so the slices have their own job,
`migrate_slices_job`, launched once per slice; `BackfillPolicy.single_run()` is unreliable with
multi-partitions (dagster#18852, #23996), so a backfill of the slices is one run per slice as well.
"""

import time
from collections.abc import Iterator

import dagster as dg
from pydantic import Field

from w2z_dagster.core.checkpoint import Checkpoint, CheckpointStatus, now_ms
from w2z_dagster.core.dead_letters import DeadLetters
from w2z_dagster.core.plan import MigrationPlan
from w2z_dagster.core.slices import (
    DEFAULT_MIN_SLICE_OBJECTS,
    MAX_SLICES,
    Slice,
    SliceMethod,
    SlicePlan,
    SliceSettings,
    plan_slices,
)
from w2z_dagster.core.stream import migrate
from w2z_dagster.defs.assets import (
    OWNERS,
    MigrationConfig,
    _batch_size,
    migrated_batches,
    zilliz_collection,
)
from w2z_dagster.defs.io_managers import CATALOG
from w2z_dagster.defs.partitions import collections_partitions, slices_partitions
from w2z_dagster.defs.resources import WeaviateResource, ZillizResource
from w2z_dagster.lib import catalog, checkpoints, run_guard
from w2z_dagster.lib import slices as recorded
from w2z_dagster.lib.metadata import CopyMetadataSet, SliceMetadataSet
from w2z_dagster.lib.retries import retry_transient_failures

TARGET_POOL = "w2z_target"
"""The pool every slice run of any collection takes a slot of: writes to the one target are bounded."""
DEFAULT_PARALLEL_SLICES = 4
"""Slice runs of one collection at a time: dagster.yaml's limit on `dagster/partition/collection`."""

BY_COLLECTION = dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name="collection")

SLICES_GROUP = "slices"
"""Apart from the four per-collection assets: a group of one partitions definition launches in one click."""


class ChangedCutError(RuntimeError):
    """A half-copied collection would be cut differently; its slice checkpoints would mean nothing."""


class SlicePlanConfig(dg.Config):
    """How far a collection may be spread; one slice (the default) is the copy as without slicing."""

    slices: int = Field(1, ge=1, le=MAX_SLICES, description=f"Slices at most (1-{MAX_SLICES}).")
    min_slice_objects: int = Field(
        DEFAULT_MIN_SLICE_OBJECTS,
        ge=1,
        description="No slice smaller than this: smaller collections get fewer.",
    )
    restart: bool = Field(
        False,
        description="Accept a new cut of a half-copied collection; its slices then copy from the start.",
    )


class SliceConfig(MigrationConfig):
    """A slice run's knobs: those of `migrated_batches`, with the write cap shared by the parallel slices."""

    max_write_mb_per_s: float | None = Field(
        None,
        description="Cap on the target's total write rate; each slice run takes its share "
        "(cap / min(slices, parallel_slices)).",
    )
    parallel_slices: int = Field(
        DEFAULT_PARALLEL_SLICES,
        ge=1,
        description="Slice runs of one collection at once (dagster.yaml's limit on dagster/partition/collection).",
    )


def _slices_table(plan: SlicePlan) -> dg.TableMetadataValue:
    rows = [
        {
            "slice": s.index,
            "tenant": w.tenant or "",
            "after": w.range.after or "",
            "before": w.range.before or "",
            "objects": w.objects,
        }
        for s in plan.slices
        for w in s.work
    ]
    return catalog.table(rows, ["slice", "tenant", "after", "before", "objects"])


def _copy_complete(instance: dg.DagsterInstance, collection: str) -> bool:
    done = checkpoints.latest_checkpoint(instance, migrated_batches.key, collection)
    return done is not None and done.status is CheckpointStatus.COMPLETE


def unfinished_slices(instance: dg.DagsterInstance, collection: str) -> list[int]:
    """The slices a sliced copy of `collection` still lacks: until they are copied, the chain can only
    fail saying so. None for a collection never sliced, or once its copy is complete."""
    cut = recorded.recorded_plan(instance, collection)
    if cut is None or len(cut.slices) == 1 or _copy_complete(instance, collection):
        return []
    return recorded.unfinished(instance, cut)


@dg.asset(
    partitions_def=collections_partitions,
    ins={"plan": dg.AssetIn(zilliz_collection.key)},
    io_manager_key=CATALOG,
    group_name=SLICES_GROUP,
    kinds={"weaviate"},
    owners=OWNERS,
)
@retry_transient_failures
def slice_plan(
    context: dg.AssetExecutionContext,
    config: SlicePlanConfig,
    plan: MigrationPlan | None,
    weaviate: WeaviateResource,
) -> dg.Output[SlicePlan]:
    """How the collection's copy is cut into slices: UUID ranges, or tenants packed by count.

    Read by every slice run, so all of them copy under the same cut. A collection whose copy is under
    way keeps its cut unless `restart` says otherwise.
    """
    key = context.partition_key
    settings = SliceSettings(slices=config.slices, min_slice_objects=config.min_slice_objects)
    if plan is None:
        cut = SlicePlan(collection=key, method=SliceMethod.SINGLE, slices=(Slice(index=0, work=()),))
    else:
        with weaviate.open() as source:
            cut = plan_slices(
                plan.source_schema,
                settings,
                lambda tenant, after: source.first_after(key, tenant, after),
                lambda tenant: (uuid for uuid, _ in source.ids(key, tenant)),
            )
    previous = recorded.recorded_plan(context.instance, key)
    if (
        previous is not None
        and not previous.same_cut(cut)
        and recorded.started(context.instance, previous)
        and not _copy_complete(context.instance, key)
        and not config.restart
    ):
        raise ChangedCutError(
            f"'{key}' is half copied in {len(previous.slices)} slices; cutting it into {len(cut.slices)} "
            "needs restart: true on slice_plan (its slices then copy from the start)"
        )
    context.log.info(f"'{key}': {len(cut.slices)} slice(s), {cut.method.value}")
    return dg.Output(
        cut,
        metadata=dict(
            SliceMetadataSet(cut=recorded.cut_id(cut), method=cut.method.value, slices=_slices_table(cut))
        ),
    )


def _nothing(reason: str) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata=dict(CopyMetadataSet(mode=reason, objects=0, batches=0, rejected=0)))


@dg.asset(
    partitions_def=slices_partitions,
    ins={
        "plan": dg.AssetIn(zilliz_collection.key, partition_mapping=BY_COLLECTION),
        "cut": dg.AssetIn(slice_plan.key, partition_mapping=BY_COLLECTION),
    },
    group_name=SLICES_GROUP,
    kinds={"weaviate", "milvus"},
    owners=OWNERS,
    pool=TARGET_POOL,
)
@retry_transient_failures
def migrated_slices(
    context: dg.AssetExecutionContext,
    config: SliceConfig,
    plan: MigrationPlan | None,
    cut: SlicePlan,
    weaviate: WeaviateResource,
    zilliz: ZillizResource,
) -> Iterator[dg.AssetObservation | dg.MaterializeResult]:
    """One slice of a collection's copy, streamed like `migrated_batches` and resumable from its checkpoint.

    A slice beyond the collection's plan, every slice of a collection planned as one (copied by
    `migrated_batches`), and a slice already complete have nothing to do and succeed at once.
    """
    keys = context.partition_key.keys_by_dimension
    collection, index = keys["collection"], int(keys["slice"])
    piece = cut.slice(index)
    if plan is None or piece is None or len(cut.slices) == 1:
        yield _nothing(
            "nothing to do: one slice" if len(cut.slices) == 1 else "nothing to do: beyond the plan"
        )
        return
    run_guard.claim_partition(context.instance, context.run_id, context.partition_key)
    previous = recorded.slice_checkpoint(context.instance, cut, index)
    if previous is not None and previous.status is CheckpointStatus.COMPLETE and not config.restart:
        yield _nothing("nothing to do: slice complete")
        return
    resume = previous is not None and previous.resumable and not config.restart
    start = (
        previous
        if resume and previous is not None
        else Checkpoint(collection=collection, started_ms=now_ms())
    )
    share = None
    if config.max_write_mb_per_s is not None:
        share = config.max_write_mb_per_s / min(len(cut.slices), config.parallel_slices)
    started = time.perf_counter()
    dead_letters = DeadLetters(zilliz.dead_letter_folder(context.instance, collection), resume=True)
    recorder = checkpoints.CheckpointRecorder(
        context.asset_key, context.partition_key, start, config.checkpoint_interval_seconds
    )

    def tagged(observations: list[dg.AssetObservation]) -> Iterator[dg.AssetObservation]:
        yield from (recorded.slice_observation(cut, index, recorder.latest) for _ in observations)

    with weaviate.open(plan.reads_blobs) as source, zilliz.open() as sink:
        try:
            for outcome in migrate(
                source,
                sink,
                plan.source_schema,
                plan,
                start,
                _batch_size(config, weaviate),
                config.limit,
                write_batch_size=config.write_batch_size,
                max_write_mb_per_s=share,
                insert_when_safe=config.insert_when_safe,
                use_fast_paths=weaviate.fast_paths and zilliz.fast_paths,
                work=piece.work,
            ):
                dead_letters.extend(outcome.rejects)
                context.log.info(catalog.progress_line(outcome, piece.objects))
                yield from tagged(recorder.advance(outcome.checkpoint))
        except Exception:
            yield from tagged(recorder.unrecorded())
            raise
    checkpoint = recorder.latest.completed()
    yield recorded.slice_observation(cut, index, checkpoint)
    seconds = time.perf_counter() - started
    mode = "resume" if resume else "full copy"
    metadata = catalog.migration_metadata(mode, checkpoint, seconds, dead_letters, [])
    yield dg.MaterializeResult(
        metadata={**dict(metadata), **dict(SliceMetadataSet(slice=index, max_write_mb_per_s=share))}
    )


migrate_slices_job = dg.define_asset_job(
    "migrate_slices_job",
    selection=dg.AssetSelection.assets(migrated_slices),
    description="One slice of one collection's copy; one run per (collection, slice) partition.",
)


@dg.sensor(
    job_name="migrate_collection_job",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Once every slice of a collection is copied, one chain run gathers them and verifies.",
)
def sliced_copy_sensor(context: dg.SensorEvaluationContext) -> list[dg.RunRequest] | dg.SkipReason:
    """So `verification_report` runs once every slice is done, whoever launched the slices.

    The run key is the cut's: one gathering run per cut, never a loop when that run fails. A collection
    with a run of its own in progress (`w2z migrate` gathers itself right after its slices) waits.
    """
    requests = []
    for collection in collections_partitions.get_partition_keys(dynamic_partitions_store=context.instance):
        cut = recorded.recorded_plan(context.instance, collection)
        if cut is None or len(cut.slices) == 1 or _copy_complete(context.instance, collection):
            continue
        busy = context.instance.get_run_records(
            filters=dg.RunsFilter(statuses=run_guard.IN_PROGRESS, tags={run_guard.PARTITION_TAG: collection}),
            limit=1,
        )
        if busy or recorded.unfinished(context.instance, cut):
            continue
        requests.append(
            dg.RunRequest(run_key=f"{collection}:{recorded.cut_id(cut)}", partition_key=collection)
        )
    return requests or dg.SkipReason("no sliced collection is waiting to be gathered")


SLICE_ASSETS = [slice_plan, migrated_slices]
