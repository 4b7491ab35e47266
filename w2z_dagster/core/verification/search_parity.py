"""Search parity: the same query vectors find (nearly) the same neighbours on both sides."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from w2z_dagster.core.plan import FieldRole, MigrationPlan, MilvusField
from w2z_dagster.core.schema import CollectionSchema
from w2z_dagster.core.sink import MilvusSink
from w2z_dagster.core.source import WeaviateSource
from w2z_dagster.core.verification.content import Query
from w2z_dagster.core.verification.report import SEARCH_PARITY, CheckResult, Listed, VerifyOptions

TIE_WINDOW = 100
"""Neighbours Weaviate is asked for beyond k, to see which of them tie with its k-th."""


def recall(expected: Sequence[str], got: Sequence[str], ties: Sequence[str] = ()) -> float:
    """Share of Weaviate's neighbours Milvus also returned; two empty answers agree.

    A Milvus neighbour that is not among Weaviate's k but ties with Weaviate's k-th (`ties`) is as near
    as the one it displaced, so it counts as found: exact-duplicate vectors make the cut among them
    arbitrary on both sides.
    """
    if not expected:
        return 1.0 if not got else 0.0
    found = set(got) & (set(expected) | set(ties))
    return min(len(found), len(expected)) / len(expected)


def tied_with_kth(neighbours: Sequence[tuple[str, float]], k: int) -> list[str]:
    """The objects whose distance equals the k-th's, within float32 rounding across engines."""
    if len(neighbours) < k or k == 0:
        return []
    boundary = neighbours[k - 1][1]
    tolerance = 1e-6 + 1e-5 * abs(boundary)
    return [uuid for uuid, distance in neighbours if abs(distance - boundary) <= tolerance]


def unsearchable(field: MilvusField, target: Sequence[MilvusField] | None, dim: int) -> str:
    """Why the target cannot answer a search on `field` with `dim`-dimensional vectors; empty if it can."""
    actual = next((f for f in target or () if f.name == field.name), None)
    if actual is None:
        return "field absent from the target"
    if actual.data_type != "FLOAT_VECTOR" or actual.dim != dim:
        return f"target field is {actual.type_text}, the query vectors have dimension {dim}"
    return ""


def check_search_parity(
    source: WeaviateSource,
    sink: MilvusSink,
    schema: CollectionSchema,
    plan: MigrationPlan,
    queries: Sequence[Query],
    target: Sequence[MilvusField] | None,
    options: VerifyOptions,
) -> CheckResult:
    """Top-k neighbours of sampled vectors in both databases; passes at `min_recall` mean recall per field.

    Approximate indexes legitimately differ, so the result is a number against a threshold. Fields whose
    metric had no Milvus equivalent are skipped, their results are not expected to agree, and so are
    multi-vectors, which Milvus holds as JSON.
    """
    pk = plan.field_by_role(FieldRole.ID).name
    per_field: dict[str, dict[str, Any]] = {}
    below = Listed(options.listed)
    skipped: dict[str, str] = {}
    for field in plan.fields_with(FieldRole.VECTOR, FieldRole.MULTI_VECTOR):
        if field.role is FieldRole.MULTI_VECTOR:
            skipped[field.name] = "multi-vector stored as JSON, not searchable"
            continue
        if not plan.search_parity_expected.get(field.name, True):
            skipped[field.name] = "metric has no Milvus equivalent, results not comparable"
            continue
        recalls: list[float] = []
        problem = ""
        for query in queries:
            vector = query.vectors.get(field.source)
            if vector is None or len(vector) == 0:
                continue
            problem = unsearchable(field, target, len(vector))
            if problem:
                below.add({"field": field.name, "detail": f"not searchable: {problem}"})
                break
            wider = source.near_vector(
                schema.name, query.tenant, vector, field.source, options.k + TIE_WINDOW
            )
            weaviate = [uuid for uuid, _ in wider[: options.k]]
            hits = sink.search(plan, field.name, vector, options.k, query.tenant)
            milvus = [str(h[pk]).rpartition(":")[2] for h in hits]
            score = recall(weaviate, milvus, tied_with_kth(wider, options.k))
            recalls.append(score)
            if score < options.min_recall:
                below.add(
                    {
                        "tenant": query.tenant or "",
                        "uuid": query.uuid,
                        "field": field.name,
                        "weaviate": f"{len(weaviate)} hit(s)",
                        "milvus": f"{len(set(weaviate) & set(milvus))} of them",
                        "detail": f"recall@{options.k} {score:.2f}",
                    }
                )
        mean = float(np.mean(recalls)) if recalls else (0.0 if problem else 1.0)
        per_field[field.name] = {
            "queries": len(recalls),
            "mean_recall": round(mean, 4),
            "worst_query_recall": round(min(recalls), 4) if recalls else None,
            "searchable": not problem,
        }
    failing = [
        name for name, f in per_field.items() if not f["searchable"] or f["mean_recall"] < options.min_recall
    ]
    worst = min((f["mean_recall"] for f in per_field.values()), default=1.0)
    parts = [
        f"mean recall@{options.k} {worst:.2f} (worst field) over {len(queries)} query object(s), "
        f"threshold {options.min_recall:.2f}"
    ]
    parts += [f"skipped {name}: {why}" for name, why in skipped.items()]
    return CheckResult(
        name=SEARCH_PARITY,
        passed=not failing,
        summary="; ".join(parts),
        numbers={
            "k": options.k,
            "min_recall": options.min_recall,
            "recall": worst,
            "queries": len(queries),
            "fields": per_field,
            "skipped_fields": list(skipped),
            "failing_fields": failing,
        },
        mismatches=below.rows,
    )
