"""Discovery: the partitions of `weaviate_collections` follow the collections Weaviate actually has."""

import dagster as dg

from w2z_dagster.defs.partitions import collections_partitions
from w2z_dagster.defs.resources import WeaviateResource


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
