"""Keyword parity: BM25 queries drawn from the collection's own text find the same objects on both sides.

The queries are a few terms of each sampled object's searchable text, so they are deterministic (the
sample is) and always match something. Weaviate runs `bm25` over the properties the plan carried,
Milvus searches the BM25 sparse fields; the top-k overlap is compared against a threshold, since the two
engines tokenize and normalise lengths slightly differently (docs/verification.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from w2z_dagster.core.keyword import stopwords
from w2z_dagster.core.plan import MigrationPlan
from w2z_dagster.core.schema import CollectionSchema
from w2z_dagster.core.sink import MilvusSink
from w2z_dagster.core.source import WeaviateSource
from w2z_dagster.core.verification.content import Query
from w2z_dagster.core.verification.report import KEYWORD_PARITY, CheckResult, Listed, VerifyOptions
from w2z_dagster.core.verification.search_parity import recall, tied_with_kth

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
    sources = searched_properties(plan)
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


class Answers(NamedTuple):
    """One query's answers: Weaviate's top k, Milvus's hits (bare UUIDs), and those of Milvus's hits
    outside Weaviate's k that Weaviate ranks as high as its k-th, ties its order cut arbitrarily."""

    weaviate: list[str]
    milvus: list[str]
    ties: list[str]


def bare(keys: Sequence[tuple[str, float]]) -> list[str]:
    """Milvus keys without their tenant prefix: the Weaviate UUIDs they stand for."""
    return [key.rpartition(":")[2] for key, _ in keys]


def outside(weaviate: Sequence[str], milvus: Sequence[str]) -> list[str]:
    seen = set(weaviate)
    return [uuid for uuid in milvus if uuid not in seen]


def keyword_answers(
    weaviate: Sequence[tuple[str, float]],
    milvus: Sequence[str],
    k: int,
    rescore: Callable[[list[str]], Sequence[tuple[str, float]]],
) -> Answers:
    """Weaviate's scores for Milvus's other hits (`rescore`) decide which tie its k-th.

    Only a full top k can be tied: with fewer matches, a hit outside them does not match in Weaviate.
    """
    expected = [uuid for uuid, _ in weaviate]
    others = outside(expected, milvus) if len(weaviate) == k else []
    scored = [*weaviate, *rescore(others)] if others else list(weaviate)
    return Answers(expected, list(milvus), [u for u in tied_with_kth(scored, k) if u in others])


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
    queries: Sequence[KeywordQuery], run: Callable[[KeywordQuery], Answers | None]
) -> list[Scored]:
    """Each query's overlap, a tie counting as found; `run` answers it, or gives None to skip it."""
    out = []
    for query in queries:
        answers = run(query)
        if answers is not None:
            shared = len(set(answers.weaviate) & set(answers.milvus))
            score = recall(answers.weaviate, answers.milvus, answers.ties)
            out.append(Scored(query, score, len(answers.weaviate), shared))
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

    def run(query: KeywordQuery) -> Answers:
        tenant = query.query.tenant

        def rescore(uuids: list[str]) -> list[tuple[str, float]]:
            return source.bm25(schema.name, tenant, query.text, properties, len(uuids), among=uuids)

        weaviate = source.bm25(schema.name, tenant, query.text, properties, options.k)
        milvus = bare(sink.keyword_search(plan, query.text, options.k, tenant))
        return keyword_answers(weaviate, milvus, options.k, rescore)

    scored = score_queries(keyword_queries(schema, plan, queries), run)
    return parity_result(KEYWORD_PARITY, scored, options.min_keyword_overlap, options, "keyword")
