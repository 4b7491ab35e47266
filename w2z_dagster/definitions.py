"""The code location: assets, their automation and the two resources, run in one process per run."""

import dagster as dg

from w2z_dagster.core.settings import Settings, load_settings
from w2z_dagster.defs.assets import ASSETS
from w2z_dagster.defs.cutover import cutover_report_asset
from w2z_dagster.defs.jobs import cutover_job, follow_sync_job, migrate_collection_job, plan_slices_job
from w2z_dagster.defs.resources import resources_from_settings
from w2z_dagster.defs.schedules import nightly_sync_schedule
from w2z_dagster.defs.sensors import discover_collections_sensor, follow_sensor
from w2z_dagster.defs.slices import SLICE_ASSETS, migrate_slices_job, sliced_copy_sensor


def build_definitions(settings: Settings) -> dg.Definitions:
    """Everything from one reading of the settings; the CLI builds its runs from the same function.

    With W2Z_FOLLOW_INTERVAL set, the follow sensor syncs the collections of W2Z_FOLLOW_COLLECTIONS and
    the nightly schedule keeps the others.
    """
    followed = settings.follow_collections if settings.follow_interval is not None else None
    report = cutover_report_asset(settings.cutover_dir)
    sensors = [discover_collections_sensor, sliced_copy_sensor]
    if settings.follow_interval is not None:
        sensors.append(follow_sensor(settings.follow_interval, settings.follow_collections))
    return dg.Definitions(
        assets=[*ASSETS, *SLICE_ASSETS, report],
        jobs=[migrate_collection_job, follow_sync_job, cutover_job, plan_slices_job, migrate_slices_job],
        schedules=[nightly_sync_schedule(settings.sync_cron, followed)],
        sensors=sensors,
        resources=resources_from_settings(settings),
        executor=dg.in_process_executor,
    )


@dg.definitions
def defs() -> dg.Definitions:
    """Loaded when Dagster loads the code location, so settings are read then, once, not at import."""
    return build_definitions(load_settings())
