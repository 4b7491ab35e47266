"""The jobs automation and the UI launch: the whole chain of a collection, and the sync alone.

A scheduled run is a UI run. Following a collection (`follow_sensor`) runs only the sync: its three
assets read what changed, while verification reads every id of both sides; a followed collection is
verified on demand (`w2z verify`, or `verification_report` in the UI) and by the cut-over.
"""

import dagster as dg

from w2z_dagster.defs.assets import ASSETS, migrated_batches, source_schema, zilliz_collection
from w2z_dagster.lib.slices import SLICE_PLAN

migrate_collection_job = dg.define_asset_job(
    "migrate_collection_job",
    selection=dg.AssetSelection.assets(*ASSETS),
    description="Schema, target, batches and verification of one collection partition, in that order.",
)

follow_sync_job = dg.define_asset_job(
    "follow_sync_job",
    selection=dg.AssetSelection.assets(source_schema, zilliz_collection, migrated_batches),
    description="One sync of one collection partition (schema, target, changes): what the follow sensor runs.",
)

CUTOVER_REPORT = dg.AssetKey("cutover_report")
"""Built with the definitions (`defs/cutover.py`, its folder is a setting); the job names it by key."""

cutover_job = dg.define_asset_job(
    "cutover_job",
    selection=dg.AssetSelection.assets(*ASSETS) | dg.AssetSelection.assets(CUTOVER_REPORT),
    description="Cut-over of one collection: a final sync, full verification and the cut-over report.",
)

plan_slices_job = dg.define_asset_job(
    "plan_slices_job",
    selection=dg.AssetSelection.assets(*ASSETS[:2], SLICE_PLAN),
    description="Schema, target and slice plan of one collection: what its slice runs copy by.",
)
