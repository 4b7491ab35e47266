"""One dynamic partition per Weaviate collection; every asset shares it, so partitions map one to one.

The one exception is `migrated_slices`, partitioned by (collection, slice): a collection's copy in up to
`MAX_SLICES` slices, each its own run; it maps onto the per-collection assets by its collection.
"""

import dagster as dg

from w2z_dagster.core.slices import MAX_SLICES

collections_partitions = dg.DynamicPartitionsDefinition(name="weaviate_collections")

slices_partitions = dg.MultiPartitionsDefinition(
    {
        "collection": collections_partitions,
        "slice": dg.StaticPartitionsDefinition([str(i) for i in range(MAX_SLICES)]),
    }
)
