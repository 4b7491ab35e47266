"""BM25 keyword search with the scores Weaviate's BlockMax-WAND searcher computes.

Follows `adapters/repos/db/inverted/bm25_searcher.go` and `bm25_searcher_block.go`:

- the query is tokenized once per tokenization of the searched properties; stopwords (the class
  preset, plus additions, minus removals) are dropped from it only for `word`; a repeated query
  term counts once with its repetitions multiplying its idf;
- per term, `n` is the integer mean document frequency over the searched properties holding it,
  `N` the object count of the shard, idf = ln(1 + (N - n + 0.5) / (n + 0.5));
- per property and document, each matching term adds
  `tf / (tf + k1 * (1 - b + b * propLength / avgPropLength)) * idf * boost`, where `propLength` is
  the document's token count in that property and `avgPropLength` the mean over the searched
  properties of each property's mean length (40 when that is 0);
- `or` keeps a document in a property when it matches at least `minimum_or_tokens_match` of the
  query terms there, `and` when it matches all of them (both per property, never across them);
  property scores are float32 and summed;
- `and_cross` (`OPERATOR_AND_CROSS`, `DoBlockMaxAndCrossProp`) keeps a document when every query
  term occurs in at least one searched property; its score is the float64 sum over terms and the
  properties holding them, rounded to float32 once, and each term's explanation comes from the
  property where it scored highest (the first on a tie); the searched properties must share one
  tokenization;
- results come by score, ties by uuid.
"""

from __future__ import annotations

import math
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from weaviate.proto.v1 import base_search_pb2

from .class_info import ClassInfo, Prop
from .errors import ServerError
from .filters import Predicate
from .schema_json import lowercase_first
from .store import Shard, StoredObject
from .text_analysis import tokenize, tokens_of

OPERATOR_AND = base_search_pb2.SearchOperatorOptions.OPERATOR_AND
OPERATOR_AND_CROSS = base_search_pb2.SearchOperatorOptions.OPERATOR_AND_CROSS
DEFAULT_AVERAGE_LENGTH = 40.0

Groups = dict[str | None, list[tuple[Prop, float]]]
Indexes = dict[str, dict[bytes, Counter[str]]]
Matches = tuple[dict[bytes, np.float32], dict[bytes, dict[str, tuple[int, int]]]]


@dataclass(frozen=True, slots=True)
class Scored:
    key: bytes
    obj: StoredObject
    score: float
    explain: str


@dataclass(frozen=True, slots=True)
class KeywordQuery:
    text: str
    properties: tuple[str, ...]
    operator: int
    minimum_match: int

    @classmethod
    def from_grpc(
        cls, text: str, properties: Iterable[str], options: base_search_pb2.SearchOperatorOptions | None
    ) -> KeywordQuery:
        operator = options.operator if options is not None else 0
        minimum = options.minimum_or_tokens_match if options is not None else 0
        return cls(text, tuple(properties), operator, minimum)


def _searched(info: ClassInfo, names: tuple[str, ...]) -> list[tuple[Prop, float]]:
    """(property, boost) per searched property; none named means every searchable text property."""
    if not names:
        return [(p, 1.0) for p in info.props.values() if p.searchable and p.data_type in ("text", "text[]")]
    out: dict[str, tuple[Prop, float]] = {}
    for entry in names:
        name, _, boost_text = entry.partition("^")
        boost = float(np.float32(float(boost_text))) if boost_text else 1.0
        prop = info.props.get(lowercase_first(name))
        if prop is None:
            raise ServerError(
                f"no such prop with name '{lowercase_first(name)}' found in class '{info.name}' in the schema. "
                "Check your schema files for which properties in this class are available"
            )
        if prop.data_type not in ("text", "text[]"):
            raise ServerError(f"cannot handle datatype '{prop.data_type}' of property '{prop.name}'")
        if not prop.searchable:
            raise ServerError(f"could not find bucket for property {prop.name}")
        out[prop.name] = (prop, boost) if prop.name not in out else (out[prop.name][0], boost)
    return list(out.values())


def _property_index(shard: Shard, prop: Prop) -> dict[bytes, Counter[str]]:
    """Term frequencies per object for one property, cached until the shard changes."""
    cache_key = ("bm25", prop.name, prop.tokenization)
    cached = shard.cache.get(cache_key)
    if cached is not None and cached[0] == shard.version:
        return cached[1]
    index = {
        key: Counter(tokens_of(prop.tokenization, obj.props.get(prop.name)))
        for key, obj in shard.in_order()
        if obj.props.get(prop.name) is not None
    }
    shard.cache[cache_key] = (shard.version, index)
    return index


def _query_terms(info: ClassInfo, tokenization: str | None, text: str) -> tuple[list[str], Counter[str]]:
    """Unique query terms in first-seen order and how often each was given (`AnalyzeAndCountDuplicates`)."""
    tokens = tokenize(tokenization, text)
    if (tokenization or "word") == "word":
        tokens = [t for t in tokens if t not in info.stopwords]
    counts = Counter(tokens)
    return list(counts), counts


def search_bm25(
    info: ClassInfo, shard: Shard, query: KeywordQuery, predicate: Predicate | None
) -> list[Scored]:
    """Every matching object with its score and explanation, best first."""
    searched = _searched(info, query.properties)
    indexes = {prop.name: _property_index(shard, prop) for prop, _ in searched}
    means = [
        sum(sum(c.values()) for c in indexes[p.name].values()) / len(indexes[p.name])
        if indexes[p.name]
        else 0.0
        for p, _ in searched
    ]
    average = sum(means) / len(means) if means else 0.0
    if not average or math.isnan(average):
        average = DEFAULT_AVERAGE_LENGTH
    total = float(len(shard))
    groups: Groups = {}
    for prop, boost in searched:
        groups.setdefault(prop.tokenization, []).append((prop, boost))
    if query.operator == OPERATOR_AND_CROSS:
        per_doc, explain = _and_cross(info, query.text, groups, indexes, average, total)
    else:
        per_doc, explain = _per_property(info, query, groups, indexes, average, total)
    results = []
    for key, score in per_doc.items():
        obj = shard.get(key)
        if obj is None or (predicate is not None and not predicate(key, obj)):
            continue
        text = "".join(
            f", BM25F_{term}_frequency:{freq}, BM25F_{term}_propLength:{length}"
            for term, (freq, length) in sorted(explain[key].items())
        )
        results.append(Scored(key, obj, float(score), text))
    results.sort(key=lambda r: (-r.score, str(uuid.UUID(bytes=r.key))))
    return results


def _per_property(
    info: ClassInfo, query: KeywordQuery, groups: Groups, indexes: Indexes, average: float, total: float
) -> Matches:
    """`or`/`and`: each property matches on its own, the float32 property scores are summed."""
    per_doc: dict[bytes, np.float32] = {}
    explain: dict[bytes, dict[str, tuple[int, int]]] = {}
    for tokenization, members in groups.items():
        terms, repeats = _query_terms(info, tokenization, query.text)
        idf = _idfs(terms, repeats, [indexes[p.name] for p, _ in members], total)
        needed = len(terms) if query.operator == OPERATOR_AND else max(query.minimum_match, 1)
        for prop, boost in members:
            for key, freqs in indexes[prop.name].items():
                matched = [t for t in terms if t in freqs]
                if not matched or len(matched) < needed:
                    continue
                length = sum(freqs.values())
                norm = info.k1 * (1 - info.b + info.b * length / average)
                score = sum(freqs[t] / (freqs[t] + norm) * idf[t] * boost for t in matched)
                per_doc[key] = per_doc.get(key, np.float32(0)) + np.float32(score)
                for term in matched:
                    explain.setdefault(key, {})[term] = (freqs[term], length)
    return per_doc, explain


def _and_cross(
    info: ClassInfo, text: str, groups: Groups, indexes: Indexes, average: float, total: float
) -> Matches:
    """`and_cross`: documents holding every term in some searched property (`DoBlockMaxAndCrossProp`)."""
    if len(groups) > 1:
        raise ServerError(
            "OPERATOR_AND_CROSS requires all searched properties to share the same tokenization "
            "and analyzer settings"
        )
    if not groups:
        return {}, {}
    [(tokenization, members)] = groups.items()
    terms, repeats = _query_terms(info, tokenization, text)
    idf = _idfs(terms, repeats, [indexes[p.name] for p, _ in members], total)
    candidates = set().union(*(indexes[p.name] for p, _ in members)) if terms else set()
    scores: dict[bytes, np.float32] = {}
    explain: dict[bytes, dict[str, tuple[int, int]]] = {}
    for key in candidates:
        score = 0.0
        best: dict[str, tuple[float, int, int]] = {}
        for prop, boost in members:
            freqs = indexes[prop.name].get(key)
            if freqs is None:
                continue
            length = sum(freqs.values())
            norm = info.k1 * (1 - info.b + info.b * length / average)
            for term in terms:
                if term not in freqs:
                    continue
                term_score = freqs[term] / (freqs[term] + norm) * idf[term] * boost
                score += term_score
                if term not in best or term_score > best[term][0]:
                    best[term] = (term_score, freqs[term], length)
        if len(best) == len(terms):
            scores[key] = np.float32(score)
            explain[key] = {term: (freq, length) for term, (_, freq, length) in best.items()}
    return scores, explain


def _idfs(
    terms: list[str], repeats: Counter[str], indexes: list[dict[bytes, Counter[str]]], total: float
) -> dict[str, float]:
    out = {}
    for term in terms:
        frequencies = [sum(1 for c in index.values() if term in c) for index in indexes]
        holding = [f for f in frequencies if f]
        if not holding:
            out[term] = 0.0
            continue
        n = float(sum(holding) // len(holding))
        n_docs = max(total, n)
        out[term] = math.log(1 + (n_docs - n + 0.5) / (n + 0.5)) * repeats[term]
    return out
