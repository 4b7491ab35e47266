"""Hybrid parity: Weaviate `hybrid` against Milvus `hybrid_search` with the documented ranker mapping.

Each keyword query (`keyword_parity.keyword_queries`) is paired with its object's own vector in the first
comparable vector field; relativeScoreFusion becomes WeightedRanker(alpha, 1 - alpha), rankedFusion
RRFRanker(60) (docs/verification.md).

Ties: when many objects share a BM25 score (short, similar texts), each engine orders them its own way,
so which of them reach the keyword set, and at which rank, is arbitrary on both sides. A Milvus hit
outside Weaviate's top k therefore counts as found when some order of Weaviate's own tied scores would
have fused it into that top k (`reachable`), as a vector tie with the k-th counts in search parity.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

from w2z_dagster.core.plan import FieldRole, MigrationPlan
from w2z_dagster.core.schema import CollectionSchema, HybridQuery
from w2z_dagster.core.sink import HYBRID_SET_LIMIT, RRF_K, MilvusSink
from w2z_dagster.core.source import WeaviateSource
from w2z_dagster.core.verification.content import Query
from w2z_dagster.core.verification.keyword_parity import (
    Answers,
    KeywordQuery,
    bare,
    keyword_queries,
    outside,
    parity_result,
    score_queries,
    searched_properties,
)
from w2z_dagster.core.verification.report import HYBRID_PARITY, CheckResult, VerifyOptions


class ResultSet(NamedTuple):
    """One of Weaviate's two searches in a hybrid: each listed object's own score (BM25, or 1 - distance),
    best first, cut at `limit`, and the weight fusion gives the set."""

    scores: Mapping[str, float]
    limit: int
    weight: float


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 + 1e-5 * max(abs(a), abs(b))


def _bounds(own: float | None, rs: ResultSet, ranked: bool) -> tuple[float, float, bool]:
    """The least and the most an object with score `own` adds to its fused score over every order of
    the set's ties, and whether it can be in the set at all."""
    values = list(rs.scores.values())
    if own is None or not values:
        return 0.0, 0.0, False
    last, full = values[-1], len(values) >= rs.limit
    if full and own < last and not _close(own, last):
        return 0.0, 0.0, False
    above = sum(1 for v in values if v > own and not _close(v, own))
    tied = sum(1 for v in values if _close(v, own))
    if ranked:
        best, worst = rs.weight / (above + RRF_K), rs.weight / (above + max(tied, 1) - 1 + RRF_K)
    else:
        low, high = min(values), max(values)
        best = worst = rs.weight if high == low else rs.weight * min(max((own - low) / (high - low), 0), 1)
    cut = full and _close(own, last)
    return (0.0 if cut else worst), best, True


def reachable(
    sets: Sequence[ResultSet], scores: Mapping[str, Sequence[float | None]], k: int, ranked: bool
) -> set[str]:
    """The objects some order of tied scores fuses into Weaviate's top k.

    `scores` holds each candidate's own score in each set (None: it does not match there). An object is
    reachable when the most it can score is at least the k-th largest of what the candidates surely
    score: below that, k others outscore it however the ties fall.
    """
    bounds = {}
    for uuid, owns in scores.items():
        parts = [_bounds(own, rs, ranked) for own, rs in zip(owns, sets, strict=True)]
        if any(present for _, _, present in parts):
            bounds[uuid] = (sum(lo for lo, _, _ in parts), sum(hi for _, hi, _ in parts))
    floor = sorted((lo for lo, _ in bounds.values()), reverse=True)
    kth = floor[k - 1] if len(floor) >= k else float("-inf")
    return {uuid for uuid, (_, hi) in bounds.items() if hi >= kth or _close(hi, kth)}


def hybrid_answers(
    weaviate: Sequence[tuple[str, float]],
    milvus: Sequence[str],
    k: int,
    sets: Callable[[], list[ResultSet]],
    rescore: Callable[[int, list[str]], dict[str, float]],
    ranked: bool,
) -> Answers:
    """Milvus's hits outside Weaviate's top k, judged by `reachable` over Weaviate's two searches (`sets`)
    and Weaviate's scores in each for the hits the sets do not list (`rescore(set index, uuids)`)."""
    expected = [uuid for uuid, _ in weaviate]
    others = outside(expected, milvus)
    if not others or len(expected) < k:
        return Answers(expected, list(milvus), [])
    searched = sets()
    owns: dict[str, list[float | None]] = {}
    for i, rs in enumerate(searched):
        missing = [u for u in others if u not in rs.scores]
        extra = rescore(i, missing) if missing else {}
        for uuid in {*rs.scores, *others}:
            owns.setdefault(uuid, [None] * len(searched))[i] = rs.scores.get(uuid, extra.get(uuid))
    fused = reachable(searched, owns, k, ranked)
    return Answers(expected, list(milvus), [u for u in others if u in fused])


def check_hybrid_parity(
    source: WeaviateSource,
    sink: MilvusSink,
    schema: CollectionSchema,
    plan: MigrationPlan,
    queries: Sequence[Query],
    options: VerifyOptions,
) -> CheckResult:
    """Top-k of both hybrids; passes at `min_hybrid_overlap` mean overlap."""
    fields = [f for f in plan.fields_with(FieldRole.VECTOR) if plan.search_parity_expected.get(f.name, True)]
    properties = tuple(searched_properties(plan))
    limit = max(options.k, HYBRID_SET_LIMIT)
    alpha = options.hybrid_alpha

    def run(query: KeywordQuery) -> Answers | None:
        vectors = query.query.vectors
        field = next((f for f in fields if len(vectors.get(f.source or "", ())) > 0), None)
        if field is None:
            return None
        target = field.source or ""
        hybrid = HybridQuery(
            text=query.text,
            vector=vectors[target],
            target=target,
            properties=properties,
            alpha=alpha,
            fusion=options.hybrid_fusion,
        )
        tenant = query.query.tenant

        def keyword(n: int, among: list[str] | None = None) -> dict[str, float]:
            return dict(source.bm25(schema.name, tenant, query.text, properties, n, among=among))

        def vector(n: int, among: list[str] | None = None) -> dict[str, float]:
            near = source.near_vector(schema.name, tenant, hybrid.vector, target, n, among=among)
            return {uuid: 1 - distance for uuid, distance in near}

        searches = [(search, w) for search, w in ((keyword, 1 - alpha), (vector, alpha)) if w > 0]

        def sets() -> list[ResultSet]:
            return [ResultSet(search(limit), limit, w) for search, w in searches]

        def rescore(i: int, uuids: list[str]) -> dict[str, float]:
            return searches[i][0](len(uuids), uuids)

        weaviate = source.hybrid(schema.name, tenant, hybrid, options.k)
        milvus = bare(sink.hybrid_search(plan, field.name, hybrid, options.k, tenant))
        return hybrid_answers(weaviate, milvus, options.k, sets, rescore, options.hybrid_fusion == "ranked")

    scored = score_queries(keyword_queries(schema, plan, queries), run)
    return parity_result(HYBRID_PARITY, scored, options.min_hybrid_overlap, options, "hybrid")
