"""Keyword parity: BM25 queries drawn from the collection's own text find the same objects on both sides.

The queries are a few terms of each sampled object's searchable text, so they are deterministic (the
sample is) and always match something. Weaviate runs `bm25` over the properties the plan carried,
Milvus searches the BM25 sparse fields; the top-k overlap is compared against a threshold, since the two
engines tokenize and normalise lengths slightly differently (docs/verification.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from w2z_dagster.core.keyword import stopwords
from w2z_dagster.core.plan import MigrationPlan
from w2z_dagster.core.schema import CollectionSchema
from w2z_dagster.core.sink import MilvusSink
from w2z_dagster.core.source import WeaviateSource
from w2z_dagster.core.verification.content import Query
from w2z_dagster.core.verification.report import KEYWORD_PARITY, CheckResult, Listed, VerifyOptions
from w2z_dagster.core.verification.search_parity import TIE_WINDOW, recall, tied_with_kth

QUERY_TERMS = 3
"""Terms per keyword query: enough to rank, few enough that most objects share one."""
WORST_SHOWN = 3
_WORD = re.compile(r"[^\W_]+")


class KeywordQuery(NamedTuple):
    query: Query
    text: str


class Scored(NamedTuple):
    query: KeywordQuery
    overlap: float
    weaviate: int
    shared: int


def keyword_queries(
    schema: CollectionSchema, plan: MigrationPlan, queries: Sequence[Query]
) -> list[KeywordQuery]:
    """The first QUERY_TERMS distinct non-stopword terms of each query object's carried searchable text."""
    sources = [name for f in plan.functions for name in f.sources]
    skip = set(stopwords(schema.inverted_index))
    out = []
    for query in queries:
        terms: list[str] = []
        for name in sources:
            value = query.properties.get(name)
            for text in value if isinstance(value, list) else [value]:
                for term in _WORD.findall(str(text or "").lower()):
                    if term not in skip and term not in terms and len(terms) < QUERY_TERMS:
                        terms.append(term)
        if terms:
            out.append(KeywordQuery(query, " ".join(terms)))
    return out


def searched_properties(plan: MigrationPlan) -> list[str]:
    """The Weaviate properties Milvus can search: Weaviate is asked about the same ones."""
    return [name for f in plan.functions for name in f.sources]


def overlap(
    wider: Sequence[tuple[str, float]], milvus: Sequence[tuple[str, float]], k: int
) -> tuple[float, int, int]:
    """Share of Weaviate's top k Milvus also returned, a tie with Weaviate's k-th counting as found."""
    expected = [uuid for uuid, _ in wider[:k]]
    got = [key.rpartition(":")[2] for key, _ in milvus]
    return recall(expected, got, tied_with_kth(wider, k)), len(expected), len(set(expected) & set(got))


def parity_result(
    name: str, scored: Sequence[Scored], threshold: float, options: VerifyOptions, what: str
) -> CheckResult:
    """Mean top-k overlap against `threshold`, the worst queries shown; no query: nothing to compare."""
    if not scored:
        return CheckResult(
            name=name,
            passed=True,
            summary=f"nothing to compare: no searchable text carried for {what}",
            numbers={"k": options.k, "threshold": threshold, "queries": 0},
        )
    mean = float(np.mean([s.overlap for s in scored]))
    worst = sorted(scored, key=lambda s: s.overlap)
    below = Listed(options.listed)
    for s in worst:
        if s.overlap < threshold:
            below.add(
                {
                    "tenant": s.query.query.tenant or "",
                    "uuid": s.query.query.uuid,
                    "weaviate": f"'{s.query.text}': {s.weaviate} hit(s)",
                    "milvus": f"{s.shared} of them",
                    "detail": f"overlap@{options.k} {s.overlap:.2f}",
                }
            )
    return CheckResult(
        name=name,
        passed=mean >= threshold,
        summary=f"mean overlap@{options.k} {mean:.2f} over {len(scored)} {what} quer(ies), "
        f"threshold {threshold:.2f}",
        numbers={
            "k": options.k,
            "threshold": threshold,
            "queries": len(scored),
            "mean_overlap": round(mean, 4),
            "worst_queries": [
                {"query": s.query.text, "uuid": s.query.query.uuid, "overlap": round(s.overlap, 4)}
                for s in worst[:WORST_SHOWN]
            ],
        },
        mismatches=below.rows,
    )


def score_queries(
    queries: Sequence[KeywordQuery],
    run: Callable[[KeywordQuery], tuple[Sequence[tuple[str, float]], Sequence[tuple[str, float]]] | None],
    k: int,
) -> list[Scored]:
    """Each query's overlap; `run` answers (Weaviate's wider list, Milvus's list), or None to skip it."""
    out = []
    for query in queries:
        answers = run(query)
        if answers is not None:
            out.append(Scored(query, *overlap(answers[0], answers[1], k)))
    return out


def check_keyword_parity(
    source: WeaviateSource,
    sink: MilvusSink,
    schema: CollectionSchema,
    plan: MigrationPlan,
    queries: Sequence[Query],
    options: VerifyOptions,
) -> CheckResult:
    """Weaviate `bm25` against Milvus BM25 search; passes at `min_keyword_overlap` mean top-k overlap."""
    properties = searched_properties(plan)

    def run(query: KeywordQuery) -> tuple[Any, Any]:
        tenant = query.query.tenant
        wider = source.bm25(schema.name, tenant, query.text, properties, options.k + TIE_WINDOW)
        return wider, sink.keyword_search(plan, query.text, options.k, tenant)

    scored = score_queries(keyword_queries(schema, plan, queries), run, options.k)
    return parity_result(KEYWORD_PARITY, scored, options.min_keyword_overlap, options, "keyword")
