"""The verification checks as Dagster asset checks: one result per check, per collection partition.

They are evaluated inside `verification_report` (one read of both databases serves all of them) and carry
the partitions definition, so the catalog keeps a verdict per collection instead of only the latest one.
Counts, identity and duplicates are blocking: a copy with missing, extra or doubled objects fails its run.
"""

from __future__ import annotations

import warnings

import dagster as dg

from w2z_dagster.core.verification.report import (
    CHECKS,
    CONTENT,
    COUNTS,
    DUPLICATES,
    FILTERED_PARITY,
    HYBRID_PARITY,
    IDENTITY,
    KEYWORD_PARITY,
    REJECTS,
    SCHEMA,
    SEARCH_PARITY,
)
from w2z_dagster.defs.partitions import collections_partitions

REPORT_ASSET = dg.AssetKey("verification_report")
"""The asset the checks belong to; `verification_report` takes its key from here, so the name is written once."""
BLOCKING = frozenset({COUNTS, IDENTITY, DUPLICATES})

DESCRIPTIONS = {
    COUNTS: "Weaviate's object count per tenant equals an exact Milvus count(*) (strong consistency), "
    "and Milvus holds no rows of tenants Weaviate no longer lists.",
    IDENTITY: "The UUID sets are equal: both sides streamed in UUID order and merged; missing/extra counted.",
    CONTENT: "A deterministic sample, plus every dead-lettered object, is equal field by field; vectors "
    "bit-exact at float32.",
    SCHEMA: "Every Weaviate property and vector has its planned Milvus field with the planned type and size.",
    SEARCH_PARITY: "Top-k neighbours of sampled vectors agree between Weaviate and Milvus at the minimum "
    "recall.",
    KEYWORD_PARITY: "BM25 queries drawn from the collection's own text find the same top-k objects in "
    "Weaviate and in Milvus's BM25 sparse fields, at the minimum mean overlap.",
    HYBRID_PARITY: "Weaviate hybrid search and Milvus hybrid_search (WeightedRanker for relativeScoreFusion, "
    "RRFRanker(60) for rankedFusion) find the same top-k objects, at the minimum mean overlap.",
    REJECTS: "No object was dead-lettered by the last migration.",
    DUPLICATES: "Milvus count(*) equals the number of distinct keys per tenant: no key is held twice "
    "(a real Milvus keeps both rows of a re-inserted key; every other read shows one).",
    FILTERED_PARITY: "Filters drawn from sampled objects' own values (equality, range, ids), translated "
    "by w2z translate-filter's translator, pass the same objects on both sides, and a near-vector search "
    "under each finds the same neighbours at the minimum filtered recall (ties at the k-th count as found).",
}

# Partitioned asset checks are a preview API in Dagster 1.13, chosen knowingly (a verdict per collection);
# its warning would reach every CLI user's stderr and every code-server log without telling them anything.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.PreviewWarning)
    CHECK_SPECS = [
        dg.AssetCheckSpec(
            name,
            asset=REPORT_ASSET,
            description=DESCRIPTIONS[name],
            blocking=name in BLOCKING,
            partitions_def=collections_partitions,
        )
        for name in CHECKS
    ]
