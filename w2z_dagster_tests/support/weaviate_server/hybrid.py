"""Hybrid fusion exactly as `usecases/traverser/hybrid/hybrid_fusion.go` computes it.

The keyword set (weight 1 - alpha, skipped for alpha = 1 or an empty query) and the vector set
(weight alpha, skipped for alpha = 0; its score is 1 - distance) are fused by
`relativeScoreFusion` (each set min-max normalised, times its weight, summed) or `rankedFusion`
(weight / (rank + 60), summed), in float32 as there, with the same explain-score text and the same
ordering (score, then the set's own score, then uuid).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import numpy as np
from weaviate.proto.v1 import base_search_pb2

from .store import StoredObject

RANKED = base_search_pb2.Hybrid.FUSION_TYPE_RANKED
SUB_SEARCH_LIMIT = 100
"""QUERY_HYBRID_MAXIMUM_RESULTS: how many results each of the two searches contributes at least."""
_ZERO = np.float32(0)


@dataclass(slots=True)
class Candidate:
    key: bytes
    obj: StoredObject
    own_score: np.float32
    """SecondarySortValue: the BM25 score, or 1 - distance for the vector set."""
    score: np.float32 = _ZERO
    explain: str = ""

    @property
    def id(self) -> str:
        return str(uuid.UUID(bytes=self.key))


def go_float(value: np.float32) -> str:
    """`%v` of a Go float32: the shortest repr, without Python's trailing `.0`."""
    text = str(np.float32(value))
    return text[:-2] if text.endswith(".0") else text


def fuse(fusion: int, weights: list[float], names: list[str], sets: list[list[Candidate]]) -> list[Candidate]:
    fused = _ranked(weights, names, sets) if fusion == RANKED else _relative(weights, names, sets)
    return sorted(fused, key=_order_key)


def _order_key(c: Candidate) -> tuple[float, float, str]:
    return (-float(c.score), -float(c.own_score), c.id)


def _ranked(weights: list[float], names: list[str], sets: list[list[Candidate]]) -> list[Candidate]:
    combined: dict[bytes, Candidate] = {}
    for weight, name, results in zip(weights, names, sets, strict=True):
        for rank, res in enumerate(results):
            score = np.float32(weight / (rank + 60))
            previous = combined.get(res.key)
            base = previous.explain if previous is not None else ""
            res.explain = f"{base}\nHybrid (Result Set {name}) Document {res.id} contributed {go_float(score)} to the score"
            if previous is not None:
                score = np.float32(score + previous.score)
            res.score = score
            combined[res.key] = res
    return list(combined.values())


def _relative(weights: list[float], names: list[str], sets: list[list[Candidate]]) -> list[Candidate]:
    if not sets or not any(sets):
        return []
    combined: dict[bytes, Candidate] = {}
    for weight, name, results in zip(weights, names, sets, strict=True):
        if not results:
            continue
        values = [r.own_score for r in results]
        low, high = min(values), max(values)
        for res in results:
            score = np.float32(weight)
            if high != low:
                score = np.float32(score * np.float32((res.own_score - low) / np.float32(high - low)))
            previous = combined.get(res.key)
            explain = (
                f"Hybrid (Result Set {name}) Document {res.id}: original score {go_float(res.own_score)}, "
                f"normalized score: {go_float(score)}"
            )
            if previous is not None:
                score = np.float32(score + previous.score)
                explain += " - " + previous.explain
            res.score = score
            res.explain = res.explain + "\n" + explain
            combined[res.key] = res
    return list(combined.values())
