"""The code location: assets, their automation and the two resources, run in one process per run."""

import dagster as dg

from w2z_dagster.core.settings import Settings, load_settings
from w2z_dagster.defs.assets import ASSETS
from w2z_dagster.defs.jobs import migrate_collection_job, plan_slices_job
from w2z_dagster.defs.resources import resources_from_settings
from w2z_dagster.defs.schedules import nightly_sync_schedule
from w2z_dagster.defs.sensors import discover_collections_sensor
from w2z_dagster.defs.slices import SLICE_ASSETS, migrate_slices_job, sliced_copy_sensor


def build_definitions(settings: Settings) -> dg.Definitions:
    """Everything from one reading of the settings; the CLI builds its runs from the same function."""
    return dg.Definitions(
        assets=[*ASSETS, *SLICE_ASSETS],
        jobs=[migrate_collection_job, plan_slices_job, migrate_slices_job],
        schedules=[nightly_sync_schedule(settings.sync_cron)],
        sensors=[discover_collections_sensor, sliced_copy_sensor],
        resources=resources_from_settings(settings),
        executor=dg.in_process_executor,
    )


@dg.definitions
def defs() -> dg.Definitions:
    """Loaded when Dagster loads the code location, so settings are read then, once, not at import."""
    return build_definitions(load_settings())
