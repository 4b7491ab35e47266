"""The four assets of one collection, in the order the data flows."""

import time
from collections.abc import Iterator
from typing import Literal

import dagster as dg
from pydantic import Field

from w2z_dagster.core.checkpoint import Checkpoint, CheckpointStatus, now_ms
from w2z_dagster.core.dead_letters import DeadLetters
from w2z_dagster.core.plan import MigrationPlan
from w2z_dagster.core.schema import CollectionSchema
from w2z_dagster.core.settings import check_batch_size
from w2z_dagster.core.slices import SlicePlan
from w2z_dagster.core.stream import migrate
from w2z_dagster.core.sync import SyncCounts, Window, sync
from w2z_dagster.core.tenants import tenants_to_read
from w2z_dagster.core.verification import verify, verify_empty_source
from w2z_dagster.core.verification.report import VerifyOptions
from w2z_dagster.core.watermark import Lag, since
from w2z_dagster.defs import checks
from w2z_dagster.defs.io_managers import CATALOG
from w2z_dagster.defs.lag_check import LAG_CHECK, lag_result
from w2z_dagster.defs.partitions import collections_partitions
from w2z_dagster.defs.resources import WeaviateResource, ZillizResource
from w2z_dagster.lib import catalog, checkpoints, run_guard
from w2z_dagster.lib import slices as sliced
from w2z_dagster.lib.metadata import PlanMetadataSet
from w2z_dagster.lib.retries import retry_transient_failures

GROUP = "migration"
OWNERS = ["team:data-platform"]


class MigrationConfig(dg.Config):
    """Per-run knobs; unset values fall back to the environment (MIGRATION_BATCH_SIZE)."""

    batch_size: int | None = Field(
        None, description="Objects per cursor page and write; default MIGRATION_BATCH_SIZE (250)."
    )
    limit: int | None = Field(
        None, description="Stop after this many objects of the collection (for trials)."
    )
    restart: bool = Field(False, description="Ignore the checkpoint and start from the first object.")
    write_batch_size: int | None = Field(
        None,
        description="Rows per write to the target (whole pages are grouped); default one page per write.",
    )
    max_write_mb_per_s: float | None = Field(
        None, description="Cap on the average write rate, for targets that limit inserts in MB/s (Zilliz)."
    )
    insert_when_safe: bool = Field(
        False,
        description="Insert instead of upsert where the target provably holds none of the keys (faster).",
    )
    checkpoint_interval_seconds: float = Field(
        checkpoints.DEFAULT_CHECKPOINT_INTERVAL,
        ge=0,
        description="Record the checkpoint at most this often (0: after every write); a killed run "
        "replays the writes since the last one.",
    )


@dg.asset(
    partitions_def=collections_partitions,
    io_manager_key=CATALOG,
    group_name=GROUP,
    kinds={"weaviate"},
    owners=OWNERS,
)
@retry_transient_failures
def source_schema(
    context: dg.AssetExecutionContext, weaviate: WeaviateResource
) -> dg.Output[CollectionSchema]:
    """The Weaviate collection as w2z sees it: properties, vectors with observed dimensions, tenants, counts."""
    with weaviate.open() as source:
        schema = source.read_schema(context.partition_key)
    return dg.Output(schema, metadata=dict(catalog.schema_metadata(schema)))


@dg.asset(
    partitions_def=collections_partitions,
    ins={"schema": dg.AssetIn(source_schema.key)},
    io_manager_key=CATALOG,
    group_name=GROUP,
    kinds={"milvus"},
    owners=OWNERS,
)
@retry_transient_failures
def zilliz_collection(
    context: dg.AssetExecutionContext, schema: CollectionSchema, zilliz: ZillizResource
) -> dg.Output[MigrationPlan | None]:
    """The target collection, created from the mapped schema or accepted if an existing one matches it.

    Every target-side check (reachable, credentials, database, version, existing schema) and the run's
    batch settings are validated here, before the first write. An empty source whose vector dimensions
    cannot be known yet gets no target; the next materialization after objects arrive creates it.
    """
    _check_run_config(context)
    with zilliz.open() as sink:
        version = sink.check_version()
        if _dimensions_unknowable(schema):
            context.log.info(f"'{schema.name}' has no objects yet: no target created, nothing to migrate")
            return dg.Output(None, metadata=dict(PlanMetadataSet(created=False)))
        plan = zilliz.plan(schema, version)
        created = sink.ensure_collection(plan)
        level = sink.consistency(plan.target)
    context.log.info(
        f"{'Created' if created else 'Reusing matching'} target collection '{plan.target}' "
        f"(consistency {level}{'' if level == 'Strong' else ': w2z reads it Strong where it must'})"
    )
    return dg.Output(plan, metadata=dict(catalog.plan_metadata(plan, created, level)))


def _dimensions_unknowable(schema: CollectionSchema) -> bool:
    return schema.object_count == 0 and any(v.dimension is None and not v.multi for v in schema.vectors)


def _batch_size(config: MigrationConfig, weaviate: WeaviateResource) -> int:
    return weaviate.batch_size if config.batch_size is None else check_batch_size(config.batch_size)


def _check_run_config(context: dg.AssetExecutionContext) -> None:
    """`migrated_batches` reads its config only after the target exists; bad values must stop the run first.

    The run's config is read from the instance's record of the run, which a direct invocation (a unit
    test) does not have: then there is nothing to check.
    """
    run = context.instance.get_run_by_id(context.run_id)
    raw = (run.run_config if run else {}).get("ops", {}).get("migrated_batches", {}).get("config", {})
    config = MigrationConfig(**raw)
    if config.batch_size is not None:
        check_batch_size(config.batch_size)
    if config.limit is not None and config.limit < 0:
        raise ValueError(f"limit {config.limit} is negative: use a positive number of objects, or no limit")


@dg.asset(
    partitions_def=collections_partitions,
    ins={"plan": dg.AssetIn(zilliz_collection.key)},
    group_name=GROUP,
    kinds={"weaviate", "milvus"},
    owners=OWNERS,
    check_specs=[LAG_CHECK],
)
@retry_transient_failures
def migrated_batches(
    context: dg.AssetExecutionContext,
    config: MigrationConfig,
    plan: MigrationPlan | None,
    weaviate: WeaviateResource,
    zilliz: ZillizResource,
) -> Iterator[dg.AssetObservation | dg.MaterializeResult | dg.AssetCheckResult]:
    """Every object, streamed in cursor batches and upserted by UUID, with checkpoints as it goes.

    The stream hands over a checkpoint after each write the target accepted; the first is recorded at
    once, then at most one every `checkpoint_interval_seconds`, and the last one whenever the stream fails.

    The first materialization copies everything; a failed or killed one resumes after its checkpoint;
    once a copy is complete, later materializations (the nightly sync, the follow sensor) only send
    what changed, found by time where the collection has `indexTimestamps`. Every run records its
    watermark and the lag, checked by `lag`. It refuses to start while another run writes the same
    collection (`run_guard`).
    """
    key = context.partition_key
    run_guard.claim_partition(context.instance, context.run_id, key)
    batch_size = _batch_size(config, weaviate)
    previous = checkpoints.latest_checkpoint(context.instance, context.asset_key, key)
    started = time.perf_counter()
    if plan is None:
        checkpoint = Checkpoint(collection=key).completed()
        yield checkpoints.checkpoint_observation(context.asset_key, key, checkpoint)
        lag = Lag(watermark_ms=now_ms(), now_ms=now_ms())
        yield dg.MaterializeResult(metadata=dict(catalog.empty_source_metadata()))
        yield lag_result(lag, weaviate.max_lag_seconds)
        return
    schema = plan.source_schema
    cut = sliced.recorded_plan(context.instance, key)
    if (
        cut is not None
        and len(cut.slices) > 1
        and (previous is None or previous.status is not CheckpointStatus.COMPLETE)
    ):
        yield from _gathered(context, zilliz, cut, started, weaviate.max_lag_seconds)
        return
    if previous is not None and previous.status is CheckpointStatus.COMPLETE and not config.restart:
        yield from _sync(context, weaviate, zilliz, schema, plan, config, previous, started)
        return
    checkpoint = _starting_checkpoint(context, previous, config.restart)
    dead_letters = DeadLetters(zilliz.dead_letter_folder(context.instance, key), resume=checkpoint.resumable)
    recorder = checkpoints.CheckpointRecorder(
        context.asset_key, key, checkpoint, config.checkpoint_interval_seconds
    )
    with weaviate.open(plan.reads_blobs) as source, zilliz.open() as sink:
        try:
            for outcome in migrate(
                source,
                sink,
                schema,
                plan,
                checkpoint,
                batch_size,
                config.limit,
                write_batch_size=config.write_batch_size,
                max_write_mb_per_s=config.max_write_mb_per_s,
                insert_when_safe=config.insert_when_safe,
                use_fast_paths=weaviate.fast_paths and zilliz.fast_paths,
            ):
                dead_letters.extend(outcome.rejects)
                context.log.info(catalog.progress_line(outcome, schema.object_count))
                yield from recorder.advance(outcome.checkpoint)
        except Exception:
            yield from recorder.unrecorded()
            raise
    checkpoint = recorder.latest.completed()
    yield checkpoints.checkpoint_observation(context.asset_key, key, checkpoint)
    mode = "resume" if checkpoint.batches and previous and previous.resumable else "full copy"
    seconds = time.perf_counter() - started
    lag = Lag(watermark_ms=checkpoint.watermark_ms or now_ms(), now_ms=now_ms())
    yield dg.MaterializeResult(
        metadata=dict(
            catalog.migration_metadata(mode, checkpoint, seconds, dead_letters, _skipped(schema), lag)
        )
    )
    yield lag_result(lag, weaviate.max_lag_seconds)


class UnfinishedSlicesError(RuntimeError):
    """A sliced collection's copy is complete only once every slice is."""


def _gathered(
    context: dg.AssetExecutionContext,
    zilliz: ZillizResource,
    cut: SlicePlan,
    started: float,
    max_lag_seconds: float,
) -> Iterator[dg.AssetObservation | dg.MaterializeResult | dg.AssetCheckResult]:
    """A collection copied in slices (`defs/slices.py`) is complete once each slice is; this records it.

    Its watermark is the earliest slice's start: a change after that may have missed a slice that had
    already read past it, so the first sync looks again from there.

    While the sliced copy is under way `restart` here changes nothing: slices restart on `migrated_slices`.
    """
    key = context.partition_key
    missing = sliced.unfinished(context.instance, cut)
    if missing:
        raise UnfinishedSlicesError(
            f"'{key}' is copied in {len(cut.slices)} slices and slice(s) {', '.join(map(str, missing))} "
            "are not complete: materialize migrated_slices for them (w2z migrate does), then this again"
        )
    parts = [sliced.slice_checkpoint(context.instance, cut, s.index) for s in cut.slices]
    done = [p for p in parts if p is not None]
    checkpoint = Checkpoint(
        collection=key,
        objects=sum(p.objects for p in done),
        batches=sum(p.batches for p in done),
        rejected=sum(p.rejected for p in done),
    ).completed(_earliest_start(done))
    yield checkpoints.checkpoint_observation(context.asset_key, key, checkpoint)
    dead_letters = DeadLetters(zilliz.dead_letter_folder(context.instance, key), resume=True)
    lag = Lag(watermark_ms=checkpoint.watermark_ms or now_ms(), now_ms=now_ms())
    yield dg.MaterializeResult(
        metadata=dict(
            catalog.migration_metadata(
                "sliced copy", checkpoint, time.perf_counter() - started, dead_letters, [], lag
            )
        )
    )
    yield lag_result(lag, max_lag_seconds)


def _earliest_start(parts: list[Checkpoint]) -> int | None:
    """None when a slice's start is unknown: then the next sync merges both sides in full."""
    starts = [p.started_ms for p in parts if p.started_ms is not None]
    return min(starts) if starts and len(starts) == len(parts) else None


def _sync(
    context: dg.AssetExecutionContext,
    weaviate: WeaviateResource,
    zilliz: ZillizResource,
    schema: CollectionSchema,
    plan: MigrationPlan,
    config: MigrationConfig,
    previous: Checkpoint,
    started: float,
) -> Iterator[dg.AssetObservation | dg.MaterializeResult | dg.AssetCheckResult]:
    key = context.partition_key
    dead_letters = DeadLetters(zilliz.dead_letter_folder(context.instance, key), resume=False)
    totals = SyncCounts()
    until = now_ms()
    window, why = _window(schema, previous, until, weaviate.sync_margin_seconds)
    with weaviate.open(plan.reads_blobs) as source, zilliz.open() as sink:
        for tenant, counts in sync(
            source,
            sink,
            schema,
            plan,
            _batch_size(config, weaviate),
            window=window,
            max_write_mb_per_s=config.max_write_mb_per_s,
        ):
            dead_letters.extend(counts.rejects)
            totals.add(counts)
            context.log.info(catalog.sync_line(tenant, counts))
    checkpoint = previous.model_copy(update={"rejected": len(totals.rejects)}).completed(until)
    yield checkpoints.checkpoint_observation(context.asset_key, key, checkpoint)
    lag = Lag(watermark_ms=until, now_ms=now_ms(), previous_ms=previous.watermark_ms)
    if why:
        context.log.info(f"Changes found by the full merge: {why}")
    yield dg.MaterializeResult(
        metadata=dict(
            catalog.sync_metadata(
                totals, time.perf_counter() - started, dead_letters, _skipped(schema), lag, why
            )
        )
    )
    yield lag_result(lag, weaviate.max_lag_seconds)


def _window(
    schema: CollectionSchema, previous: Checkpoint, until: int, margin_seconds: float
) -> tuple[Window | None, str | None]:
    """The time range to read by time, or None and why the sync must merge both sides in full."""
    if not schema.index_timestamps:
        return None, catalog.WHY_FULL_MERGE_NO_TIMESTAMPS
    if previous.watermark_ms is None:
        return None, catalog.WHY_FULL_MERGE_NO_WATERMARK
    return Window(since_ms=since(previous.watermark_ms, round(margin_seconds * 1000)), until_ms=until), None


def _starting_checkpoint(
    context: dg.AssetExecutionContext, previous: Checkpoint | None, restart: bool
) -> Checkpoint:
    if previous is not None and previous.resumable and not restart:
        context.log.info(
            f"Resuming after checkpoint: tenant={previous.tenant or '-'} after={previous.after} "
            f"({previous.objects} objects in {previous.batches} batches already written)"
        )
        return previous
    return Checkpoint(collection=context.partition_key, started_ms=now_ms())


def _skipped(schema: CollectionSchema) -> list[str]:
    readable = set(tenants_to_read(schema))
    return [t.name for t in schema.tenants if t.name not in readable]


class VerificationConfig(dg.Config):
    """How hard verification looks; the defaults take seconds whatever the collection size."""

    sample_size: int = Field(
        100, ge=0, description="Objects compared field by field (plus every dead-lettered one)."
    )
    search_queries: int = Field(10, ge=0, description="Sampled vectors used as search-parity queries.")
    k: int = Field(10, ge=1, description="Neighbours compared per search-parity query.")
    min_recall: float = Field(
        0.9, ge=0.0, le=1.0, description="Mean recall@k each vector field must reach in Milvus."
    )
    min_keyword_overlap: float = Field(
        0.8,
        ge=0.0,
        le=1.0,
        description="Mean top-k overlap Milvus BM25 search must reach with Weaviate bm25.",
    )
    min_hybrid_overlap: float = Field(
        0.8,
        ge=0.0,
        le=1.0,
        description="Mean top-k overlap Milvus hybrid_search must reach with Weaviate hybrid.",
    )
    hybrid_alpha: float = Field(0.5, ge=0.0, le=1.0, description="Hybrid parity's weight on the vector side.")
    hybrid_fusion: Literal["relative", "ranked"] = Field(
        "ranked",
        description="Hybrid parity's fusion: rankedFusion (RRF, which Milvus reproduces) or "
        "relativeScoreFusion (Milvus's WeightedRanker normalises differently: docs/verification.md).",
    )
    filtered_queries: int = Field(
        10, ge=0, description="Query objects (of search_queries) whose values become filtered-parity filters."
    )
    min_filtered_recall: float = Field(
        1.0,
        ge=0.0,
        le=1.0,
        description="Mean recall@k under a translated filter each vector field must reach.",
    )


@dg.asset(
    key=checks.REPORT_ASSET,
    partitions_def=collections_partitions,
    ins={"schema": dg.AssetIn(source_schema.key), "plan": dg.AssetIn(zilliz_collection.key)},
    deps=[migrated_batches],
    group_name=GROUP,
    kinds={"weaviate", "milvus"},
    owners=OWNERS,
    check_specs=checks.CHECK_SPECS,
)
@retry_transient_failures
def verification_report(
    context: dg.AssetExecutionContext,
    config: VerificationConfig,
    schema: CollectionSchema,
    plan: MigrationPlan | None,
    weaviate: WeaviateResource,
    zilliz: ZillizResource,
) -> dg.MaterializeResult:
    """Proof that the copy is right before search traffic moves: counts, identity, content, schema,
    search parity and rejects, each an asset check; counts and identity block the run when they fail.

    Loads the schema and plan the upstream assets recorded, so it can be rematerialized on its own (after
    a fresh `source_schema`, it compares the copy with the source as it is now).
    """
    key = context.partition_key
    dead_letters = zilliz.dead_letter_folder(context.instance, key)
    options = VerifyOptions(
        sample_size=config.sample_size,
        search_queries=config.search_queries,
        k=config.k,
        min_recall=config.min_recall,
        min_keyword_overlap=config.min_keyword_overlap,
        min_hybrid_overlap=config.min_hybrid_overlap,
        hybrid_alpha=config.hybrid_alpha,
        hybrid_fusion=config.hybrid_fusion,
        filtered_queries=config.filtered_queries,
        min_filtered_recall=config.min_filtered_recall,
    )
    with weaviate.open(plan is not None and plan.reads_blobs) as source, zilliz.open() as sink:
        if plan is None:
            report = verify_empty_source(source, schema)
        else:
            report = verify(source, sink, schema, plan, options, dead_letters)
    for check in report.checks:
        context.log.info(f"{check.name}: {'PASS' if check.passed else 'FAIL'} - {check.summary}")
    return dg.MaterializeResult(
        metadata=dict(catalog.report_metadata(report)), check_results=catalog.check_results(report)
    )


ASSETS = [source_schema, zilliz_collection, migrated_batches, verification_report]
