"""Hybrid parity: Weaviate `hybrid` against Milvus `hybrid_search` with the documented ranker mapping.

Each keyword query (`keyword_parity.keyword_queries`) is paired with its object's own vector in the first
comparable vector field; relativeScoreFusion becomes WeightedRanker(alpha, 1 - alpha), rankedFusion
RRFRanker(60) (docs/verification.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from w2z_dagster.core.plan import FieldRole, MigrationPlan
from w2z_dagster.core.schema import CollectionSchema, HybridQuery
from w2z_dagster.core.sink import HYBRID_SET_LIMIT, MilvusSink
from w2z_dagster.core.source import WeaviateSource
from w2z_dagster.core.verification.content import Query
from w2z_dagster.core.verification.keyword_parity import (
    KeywordQuery,
    keyword_queries,
    parity_result,
    score_queries,
    searched_properties,
)
from w2z_dagster.core.verification.report import HYBRID_PARITY, CheckResult, VerifyOptions


def check_hybrid_parity(
    source: WeaviateSource,
    sink: MilvusSink,
    schema: CollectionSchema,
    plan: MigrationPlan,
    queries: Sequence[Query],
    options: VerifyOptions,
) -> CheckResult:
    """Top-k of both hybrids; passes at `min_hybrid_overlap` mean overlap.

    Weaviate is asked for HYBRID_SET_LIMIT results, which leaves its fusion unchanged (each search
    contributes that many anyway) and shows the ties beyond its k-th.
    """
    fields = [f for f in plan.fields_with(FieldRole.VECTOR) if plan.search_parity_expected.get(f.name, True)]
    properties = tuple(searched_properties(plan))

    def run(query: KeywordQuery) -> tuple[Any, Any] | None:
        vectors = query.query.vectors
        field = next((f for f in fields if len(vectors.get(f.source or "", ())) > 0), None)
        if field is None:
            return None
        hybrid = HybridQuery(
            text=query.text,
            vector=vectors[field.source or ""],
            target=field.source or "",
            properties=properties,
            alpha=options.hybrid_alpha,
            fusion=options.hybrid_fusion,
        )
        tenant = query.query.tenant
        wider = source.hybrid(schema.name, tenant, hybrid, max(options.k, HYBRID_SET_LIMIT))
        return wider, sink.hybrid_search(plan, field.name, hybrid, options.k, tenant)

    scored = score_queries(keyword_queries(schema, plan, queries), run, options.k)
    return parity_result(HYBRID_PARITY, scored, options.min_hybrid_overlap, options, "hybrid")
