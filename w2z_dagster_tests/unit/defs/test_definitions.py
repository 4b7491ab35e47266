"""The code location loads and validates as the UI would load it."""

import dagster as dg
from syrupy.assertion import SnapshotAssertion

from w2z_dagster.definitions import defs

DEFS = defs()
VALUED = {dg.AssetKey("source_schema"), dg.AssetKey("zilliz_collection"), dg.AssetKey("slice_plan")}
"""The assets whose outputs are values other assets load; the rest record metadata only."""


GROUPS = {"migrated_slices": "slices", "slice_plan": "slices", "cutover_report": "cutover"}
"""The UI's `migration` group holds the four per-collection assets alone, so "Materialize all" launches them."""


def test_definitions_load_and_validate() -> None:
    dg.Definitions.validate_loadable(DEFS)


def test_every_asset_is_partitioned_grouped_and_described() -> None:
    specs = list(DEFS.resolve_all_asset_specs())
    assert sorted(s.key.to_user_string() for s in specs) == [
        "cutover_report",
        "migrated_batches",
        "migrated_slices",
        "slice_plan",
        "source_schema",
        "verification_report",
        "zilliz_collection",
    ]
    for spec in specs:
        assert _partitions(spec.partitions_def) == (
            "weaviate_collections × slice 0-7"
            if spec.key.path == ["migrated_slices"]
            else "weaviate_collections"
        )
        assert spec.group_name == GROUPS.get(spec.key.path[0], "migration")
        assert spec.description and spec.kinds and spec.owners


def test_runs_execute_in_one_process() -> None:
    job = DEFS.resolve_implicit_global_asset_job_def()
    assert job.executor_def.name == "in_process"


def _partitions(partitions: dg.PartitionsDefinition | None) -> str | None:
    """A one-line name: the dynamic collections, or collections × the static slice dimension."""
    if isinstance(partitions, dg.MultiPartitionsDefinition):
        collection, slices = (d.partitions_def for d in partitions.partitions_defs)
        keys = slices.get_partition_keys()
        return f"{collection.name} × slice {keys[0]}-{keys[-1]}"
    return partitions.name if isinstance(partitions, dg.DynamicPartitionsDefinition) else None


def _shape(defs: dg.Definitions) -> dict[str, object]:
    """What a reviewer should see change when the code location changes: names, wiring and policies."""
    graph = defs.resolve_asset_graph()
    assets = {}
    for spec in sorted(defs.resolve_all_asset_specs(), key=lambda s: s.key.to_user_string()):
        assets[spec.key.to_user_string()] = {
            "deps": sorted(d.asset_key.to_user_string() for d in spec.deps),
            "group": spec.group_name,
            "kinds": sorted(spec.kinds),
            "partitions": _partitions(spec.partitions_def),
            "values_in": graph.get(spec.key).io_manager_key if spec.key in VALUED else None,
        }
    checks = {
        f"{key.asset_key.to_user_string()}:{key.name}": {"blocking": graph.get_check_spec(key).blocking}
        for key in sorted(graph.asset_check_keys, key=lambda k: k.name)
    }
    job = defs.resolve_job_def("migrate_collection_job")
    schedule = defs.resolve_schedule_def("nightly_sync_schedule")
    sensor = defs.resolve_sensor_def("discover_collections_sensor")
    return {
        "assets": assets,
        "checks": checks,
        "job": sorted(k.to_user_string() for k in job.asset_layer.selected_asset_keys),
        "slice_jobs": {
            name: sorted(
                k.to_user_string() for k in defs.resolve_job_def(name).asset_layer.selected_asset_keys
            )
            for name in ("plan_slices_job", "migrate_slices_job")
        },
        "executor": job.executor_def.name,
        "schedule": [
            schedule.cron_schedule,
            schedule.execution_timezone,
            schedule.job_name,
            schedule.default_status.value,
        ],
        "sensor": [
            sensor.minimum_interval_seconds,
            sensor.default_status.value,
            sorted(sensor.required_resource_keys),
        ],
        "resources": {key: type(value).__name__ for key, value in sorted(defs.resources.items())},
    }


def test_the_definitions_match_their_snapshot(snapshot: SnapshotAssertion) -> None:
    """`pytest --snapshot-update` rewrites the snapshot after an intended change; review its diff."""
    assert _shape(DEFS) == snapshot
