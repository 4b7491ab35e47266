"""The one job automation launches: the whole chain of a collection, so a scheduled run is a UI run."""

import dagster as dg

from w2z_dagster.defs.assets import ASSETS
from w2z_dagster.lib.slices import SLICE_PLAN

migrate_collection_job = dg.define_asset_job(
    "migrate_collection_job",
    selection=dg.AssetSelection.assets(*ASSETS),
    description="Schema, target, batches and verification of one collection partition, in that order.",
)

plan_slices_job = dg.define_asset_job(
    "plan_slices_job",
    selection=dg.AssetSelection.assets(*ASSETS[:2], SLICE_PLAN),
    description="Schema, target and slice plan of one collection: what its slice runs copy by.",
)
