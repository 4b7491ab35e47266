"""Discovery (the partitions of `weaviate_collections` follow the collections Weaviate has) and
follow mode (a sync per followed collection every W2Z_FOLLOW_INTERVAL seconds)."""

import time

import dagster as dg

from w2z_dagster.core.selection import is_selected
from w2z_dagster.defs.jobs import follow_sync_job
from w2z_dagster.defs.partitions import collections_partitions
from w2z_dagster.defs.resources import WeaviateResource
from w2z_dagster.defs.slices import unfinished_slices


@dg.sensor(
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Adds a partition for each selected Weaviate collection and removes the ones that are gone.",
)
def discover_collections_sensor(
    context: dg.SensorEvaluationContext, weaviate: WeaviateResource
) -> dg.SensorResult | dg.SkipReason:
    """Running by default so a fresh instance lists every collection within a minute, with no clicks.

    Only partition requests are returned, never runs: what to migrate and when stays a decision of the
    operator or the nightly schedule. Removing a partition keeps its history in the catalog.
    """
    with weaviate.open() as source:
        wanted = set(weaviate.selected(source.list_collections()))
    known = set(collections_partitions.get_partition_keys(dynamic_partitions_store=context.instance))
    added, removed = sorted(wanted - known), sorted(known - wanted)
    if not added and not removed:
        return dg.SkipReason(f"no change: {len(known)} collections known")
    requests: list[dg.AddDynamicPartitionsRequest | dg.DeleteDynamicPartitionsRequest] = []
    if added:
        requests.append(collections_partitions.build_add_request(added))
    if removed:
        requests.append(collections_partitions.build_delete_request(removed))
    context.log.info(f"collections added: {added or 'none'}; removed: {removed or 'none'}")
    return dg.SensorResult(dynamic_partitions_requests=requests)


IN_PROGRESS = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def followed(instance: dg.DagsterInstance, patterns: str) -> list[str]:
    """The known collections the follow patterns (W2Z_FOLLOW_COLLECTIONS) select."""
    known = collections_partitions.get_partition_keys(dynamic_partitions_store=instance)
    return [key for key in known if is_selected(key, patterns)]


def _held(instance: dg.DagsterInstance, key: str) -> str:
    """Why a sync of `key` must wait (a run in progress, a sliced copy not yet whole); empty if it need not."""
    if busy(instance, key):
        return "a run is in progress"
    pending = unfinished_slices(instance, key)
    return f"slice(s) {', '.join(map(str, pending))} not copied yet" if pending else ""


def busy(instance: dg.DagsterInstance, partition: str) -> bool:
    """A run of any job is queued or running for `partition`: the sync must wait its turn."""
    runs = instance.get_run_records(
        dg.RunsFilter(statuses=IN_PROGRESS, tags={"dagster/partition": partition}), limit=1
    )
    return bool(runs)


def follow_sensor(interval: int, patterns: str) -> dg.SensorDefinition:
    """Built only when W2Z_FOLLOW_INTERVAL is set: one sync request per followed collection per interval.

    A collection with a run in progress (its last sync, the nightly run, a cut-over) gets no request,
    so syncs never overlap, nor does one whose sliced copy is not whole yet (the chain would only fail); the run key names the interval, so a tick evaluated twice (a daemon
    restart) launches nothing new. `dagster.yaml`'s one-run-per-partition limit and `run_guard` stay
    behind it.
    """

    @dg.sensor(
        name="follow_sensor",
        job=follow_sync_job,
        minimum_interval_seconds=interval,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Requests a sync of each followed collection every {interval} s, never two at once.",
    )
    def follow(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
        keys = followed(context.instance, patterns)
        if not keys:
            return dg.SkipReason(f"no known collection matches W2Z_FOLLOW_COLLECTIONS={patterns!r}")
        slot = int(time.time() // interval)
        held = {key: why for key in keys if (why := _held(context.instance, key))}
        requests = [
            dg.RunRequest(run_key=f"follow:{slot}:{key}", partition_key=key)
            for key in keys
            if key not in held
        ]
        reasons = "; ".join(f"{key}: {why}" for key, why in held.items())
        if not requests:
            return dg.SkipReason(f"no followed collection can sync now: {reasons}")
        if held:
            context.log.info(f"no sync requested for {reasons}")
        return dg.SensorResult(run_requests=requests)

    return follow
