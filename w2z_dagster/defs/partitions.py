"""One dynamic partition per Weaviate collection; every asset shares it, so partitions map one to one."""

import dagster as dg

collections_partitions = dg.DynamicPartitionsDefinition(name="weaviate_collections")
