"""Vector search over several target vectors, combined as `CombineMultiTargetResults` does
(`adapters/repos/db/shard_combine_multi_target.go`, weights from `parse_search_request.go`).

Each target is searched on its own for the `limit` nearest; the union is then scored:
- `minimum` (the default without a combination): the smallest distance among the targets that found
  the object;
- `sum` (weights 1), `average` (weights 1/n), `manual_weights`: the float32 weighted sum of the
  object's distance on every target, the distances a target did not find computed afterwards; an
  object lacking one of the target vectors is dropped;
- `relative_score`: per target the distances of the union (min-max normalised, the weight when all
  are equal) times the weight, summed (`FusionRelativeScore`, ascending; ties by the last target's
  distance).
The combined value is what the result reports as its distance (hybrid scores it `1 - distance`);
remaining ties go by uuid (Weaviate's go by a hash of the internal doc id).
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass

import numpy as np
from weaviate.proto.v1 import base_search_pb2

from .class_info import VectorSpec
from .errors import ServerError
from .filters import Predicate
from .store import Shard, StoredObject
from .vectors import rank

Method = base_search_pb2.CombinationMethod
Ranked = list[tuple[bytes, StoredObject, float]]


@dataclass(frozen=True, slots=True)
class Combination:
    method: int
    weights: tuple[float, ...]

    @classmethod
    def from_grpc(cls, targets: base_search_pb2.Targets | None, names: list[str]) -> Combination:
        """The method and per-target weights Weaviate derives (`extractTargets`)."""
        method = targets.combination if targets is not None else Method.COMBINATION_METHOD_UNSPECIFIED
        n = len(names)
        if method in (Method.COMBINATION_METHOD_UNSPECIFIED, Method.COMBINATION_METHOD_TYPE_MIN):
            return cls(Method.COMBINATION_METHOD_TYPE_MIN, (0.0,) * n)
        if method == Method.COMBINATION_METHOD_TYPE_SUM:
            return cls(method, (1.0,) * n)
        if method == Method.COMBINATION_METHOD_TYPE_AVERAGE:
            return cls(method, (float(np.float32(1.0) / np.float32(n)),) * n)
        if method in (Method.COMBINATION_METHOD_TYPE_MANUAL, Method.COMBINATION_METHOD_TYPE_RELATIVE_SCORE):
            given = list(targets.weights_for_targets) if targets is not None else []
            if len(given) != n:
                raise ServerError(f"number of weights ({len(given)}) does not match number of targets ({n})")
            for entry, name in zip(given, names, strict=True):
                if entry.target != name:
                    raise ServerError(f"target vector {entry.target} not found in target vectors")
            return cls(method, tuple(float(np.float32(e.weight)) for e in given))
        raise ServerError(f"unknown combination method {method}")


def rank_targets(
    shard: Shard,
    targets: list[tuple[VectorSpec, np.ndarray]],
    combination: Combination,
    predicate: Predicate | None,
    limit: int,
) -> Ranked:
    """The combined ranking, nearest first, at most `limit` objects."""
    full = [
        {k: (o, np.float32(d)) for k, o, d in rank(shard, spec, query, predicate)} for spec, query in targets
    ]
    found = [dict(itertools.islice(f.items(), limit)) for f in full]
    union = {k for f in found for k in f}
    objects = {k: v[0] for f in full for k, v in f.items() if k in union}
    if combination.method == Method.COMBINATION_METHOD_TYPE_MIN:
        combined = {k: min(f[k][1] for f in found if k in f) for k in union}
    else:
        usable = [k for k in union if all(k in f for f in full)]
        if combination.method == Method.COMBINATION_METHOD_TYPE_RELATIVE_SCORE:
            combined = _relative(full, usable, combination.weights)
        else:
            combined = {}
            for key in usable:
                total = np.float32(0)
                for f, weight in zip(full, combination.weights, strict=True):
                    total = np.float32(total + np.float32(weight) * f[key][1])
                combined[key] = total
    last = full[-1]
    relative = combination.method == Method.COMBINATION_METHOD_TYPE_RELATIVE_SCORE
    ordered = sorted(
        combined.items(),
        key=lambda kv: (
            float(kv[1]),
            float(last[kv[0]][1]) if relative else 0.0,
            str(uuid.UUID(bytes=kv[0])),
        ),
    )
    return [(k, objects[k], float(d)) for k, d in ordered[:limit]]


def _relative(
    full: list[dict[bytes, tuple[StoredObject, np.float32]]], usable: list[bytes], weights: tuple[float, ...]
) -> dict[bytes, np.float32]:
    scores = dict.fromkeys(usable, np.float32(0))
    for f, weight in zip(full, weights, strict=True):
        dists = [f[k][1] for k in usable]
        low, high = min(dists, default=np.float32(0)), max(dists, default=np.float32(0))
        for key in usable:
            score = np.float32(weight)
            if high != low:
                score = np.float32(score * np.float32((f[key][1] - low) / (high - low)))
            scores[key] = np.float32(scores[key] + score)
    return scores
