"""The one job automation launches: the whole chain of a collection, so a scheduled run is a UI run."""

import dagster as dg

from w2z_dagster.defs.assets import migrated_batches, source_schema, verification_report, zilliz_collection

migrate_collection_job = dg.define_asset_job(
    "migrate_collection_job",
    selection=dg.AssetSelection.assets(
        source_schema, zilliz_collection, migrated_batches, verification_report
    ),
    description="Schema, target, batches and verification of one collection partition, in that order.",
)
