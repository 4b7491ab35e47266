"""The code location: assets, their automation and the two resources, run in one process per run."""

import dagster as dg

from w2z_dagster.core.settings import Settings
from w2z_dagster.defs.assets import migrated_batches, source_schema, verification_report, zilliz_collection
from w2z_dagster.defs.jobs import migrate_collection_job
from w2z_dagster.defs.resources import resources_from_settings
from w2z_dagster.defs.schedules import nightly_sync_schedule
from w2z_dagster.defs.sensors import discover_collections_sensor

defs = dg.Definitions(
    assets=[source_schema, zilliz_collection, migrated_batches, verification_report],
    jobs=[migrate_collection_job],
    schedules=[nightly_sync_schedule],
    sensors=[discover_collections_sensor],
    resources=resources_from_settings(Settings()),
    executor=dg.in_process_executor,
)
