"""Discovery against the in-process Weaviate test server: partitions follow the selected collections."""

from __future__ import annotations

import dagster as dg
import weaviate

from w2z_dagster.definitions import defs
from w2z_dagster.defs.partitions import collections_partitions
from w2z_dagster.defs.resources import WeaviateResource
from w2z_dagster.defs.sensors import discover_collections_sensor


def _create(client: weaviate.WeaviateClient, *names: str) -> None:
    for name in names:
        client.collections.create(name)


def _tick(instance: dg.DagsterInstance, resources: dict, **patterns: str) -> dg.SensorResult | dg.SkipReason:
    weaviate = resources["weaviate"]
    if patterns:
        weaviate = WeaviateResource(
            endpoint=weaviate.endpoint, grpc_endpoint=weaviate.grpc_endpoint, **patterns
        )
    context = dg.build_sensor_context(instance=instance, resources={"weaviate": weaviate})
    return discover_collections_sensor(context)


def _requested(result: dg.SensorResult | dg.SkipReason) -> list[tuple[str, list[str]]]:
    assert isinstance(result, dg.SensorResult)
    assert not result.run_requests
    return [(type(r).__name__, list(r.partition_keys)) for r in result.dynamic_partitions_requests]


def test_new_collections_become_partitions(
    weaviate_client: weaviate.WeaviateClient, instance: dg.DagsterInstance, resources: dict
) -> None:
    _create(weaviate_client, "Books", "Articles")

    result = _tick(instance, resources)

    assert _requested(result) == [("AddDynamicPartitionsRequest", ["Articles", "Books"])]
    assert all(
        r.partitions_def_name == collections_partitions.name for r in result.dynamic_partitions_requests
    )


def test_collections_gone_from_weaviate_are_removed_and_new_ones_added(
    weaviate_client: weaviate.WeaviateClient, instance: dg.DagsterInstance, resources: dict
) -> None:
    _create(weaviate_client, "Articles", "Authors")
    instance.add_dynamic_partitions(collections_partitions.name, ["Articles", "Dropped", "Gone"])

    result = _tick(instance, resources)

    assert _requested(result) == [
        ("AddDynamicPartitionsRequest", ["Authors"]),
        ("DeleteDynamicPartitionsRequest", ["Dropped", "Gone"]),
    ]


def test_nothing_changed_is_a_skip(
    weaviate_client: weaviate.WeaviateClient, instance: dg.DagsterInstance, resources: dict
) -> None:
    _create(weaviate_client, "Articles")
    instance.add_dynamic_partitions(collections_partitions.name, ["Articles"])

    result = _tick(instance, resources)

    assert isinstance(result, dg.SkipReason)
    assert result.skip_message == "no change: 1 collections known"


def test_include_and_exclude_patterns_decide_what_is_a_partition(
    weaviate_client: weaviate.WeaviateClient,
    instance: dg.DagsterInstance,
    resources: dict,
) -> None:
    _create(weaviate_client, "Articles", "ArticlesArchive", "Authors", "Logs")
    instance.add_dynamic_partitions(collections_partitions.name, ["Logs"])

    result = _tick(instance, resources, include_collections="Art*, Authors", exclude_collections="*Archive")

    assert _requested(result) == [
        ("AddDynamicPartitionsRequest", ["Articles", "Authors"]),
        ("DeleteDynamicPartitionsRequest", ["Logs"]),
    ]


def test_a_tick_applies_its_requests_to_the_instance(
    weaviate_client: weaviate.WeaviateClient, instance: dg.DagsterInstance, resources: dict
) -> None:
    """Through the daemon's path (`evaluate_tick`), not only the function: what the UI will show."""
    _create(weaviate_client, "Articles", "Authors")
    instance.add_dynamic_partitions(collections_partitions.name, ["Gone"])
    context = dg.build_sensor_context(instance=instance, resources={"weaviate": resources["weaviate"]})

    data = discover_collections_sensor.evaluate_tick(context)
    for request in data.dynamic_partitions_requests:
        if isinstance(request, dg.AddDynamicPartitionsRequest):
            instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        else:
            for key in request.partition_keys:
                instance.delete_dynamic_partition(request.partitions_def_name, key)

    assert collections_partitions.get_partition_keys(dynamic_partitions_store=instance) == [
        "Articles",
        "Authors",
    ]


def test_discovery_runs_by_default_every_30_seconds() -> None:
    """Read from definitions built in the test: a module-level `Definitions` resolved after other tests'
    instances were collected failed once with a dead instance weakref inside Dagster."""
    sensor = defs().resolve_sensor_def("discover_collections_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.minimum_interval_seconds == 30
    assert sensor.required_resource_keys == {"weaviate"}
