"""Content: a fixed sample (plus every dead-lettered object) compared field by field."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np
from upath import UPath

from w2z_dagster.core.plan import FieldRole, MigrationPlan, MilvusField
from w2z_dagster.core.schema import CollectionSchema, SourceObject, WeaviateType
from w2z_dagster.core.sink import MilvusSink
from w2z_dagster.core.source import WeaviateSource
from w2z_dagster.core.transform import from_row, primary_key
from w2z_dagster.core.verification.equality import MULTI_VECTOR, VECTOR, values_equal
from w2z_dagster.core.verification.identity import SampleKey, sample_rank
from w2z_dagster.core.verification.rejects import dead_letters_in
from w2z_dagster.core.verification.report import (
    CONTENT,
    CheckResult,
    Listed,
    VerifyOptions,
)

FETCH_CHUNK = 100
_COMPARED_ROLES = (FieldRole.PROPERTY, FieldRole.REFERENCE, FieldRole.VECTOR, FieldRole.MULTI_VECTOR)


class FieldDifference(NamedTuple):
    field: str
    weaviate: str
    milvus: str


def _kind(field: MilvusField) -> str:
    if field.role is FieldRole.VECTOR:
        return VECTOR
    if field.role is FieldRole.MULTI_VECTOR:
        return MULTI_VECTOR
    if field.role is FieldRole.REFERENCE:
        return WeaviateType.REFERENCE
    return str(field.weaviate_type)


def _side_values(field: MilvusField, obj: SourceObject, restored: dict[str, Any]) -> tuple[Any, Any]:
    if field.role is FieldRole.PROPERTY:
        return obj.properties.get(field.source), restored["properties"].get(field.source)
    if field.role is FieldRole.REFERENCE:
        return obj.references.get(field.source), restored["references"].get(field.source)
    return obj.vectors.get(field.source), restored["vectors"].get(field.source)


def _brief(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_difference(kind: str, a: Any, b: Any) -> tuple[str, str]:
    """Show where two values differ in a few characters: a vector's first differing component, not 768 floats."""
    if kind in (VECTOR, MULTI_VECTOR) and a is not None and b is not None:
        try:
            left, right = np.asarray(a, dtype=np.float32), np.asarray(b, dtype=np.float32)
        except ValueError:
            return _brief(a), _brief(b)
        if left.shape != right.shape:
            return f"shape {left.shape}", f"shape {right.shape}"
        index = tuple(int(i) for i in np.argwhere(left.view(np.uint32) != right.view(np.uint32))[0])
        position = index[0] if len(index) == 1 else list(index)
        # Nine significant digits tell any two float32 values apart.
        return f"[{position}]={left[index]:.9g}", f"[{position}]={right[index]:.9g}"
    return _brief(a), _brief(b)


def compare_object(plan: MigrationPlan, obj: SourceObject, restored: dict[str, Any]) -> list[FieldDifference]:
    """Every planned field of one object, Weaviate against Milvus (`from_row` form), type-aware."""
    differences = []
    for field in plan.fields_with(*_COMPARED_ROLES):
        kind = _kind(field)
        a, b = _side_values(field, obj, restored)
        if not values_equal(kind, a, b):
            differences.append(FieldDifference(field.name, *describe_difference(kind, a, b)))
    return differences


def _chunks(keys: Sequence[SampleKey]) -> Iterator[tuple[str | None, list[str]]]:
    by_tenant: dict[str | None, list[str]] = {}
    for key in keys:
        by_tenant.setdefault(key.tenant, []).append(key.uuid)
    for tenant, uuids in sorted(by_tenant.items(), key=lambda kv: kv[0] or ""):
        for start in range(0, len(uuids), FETCH_CHUNK):
            yield tenant, sorted(uuids[start : start + FETCH_CHUNK])


class Query(NamedTuple):
    tenant: str | None
    uuid: str
    vectors: dict[str, Any]
    properties: dict[str, Any]
    """The object's own values: where keyword queries take their terms from."""


def check_content(
    source: WeaviateSource,
    sink: MilvusSink,
    schema: CollectionSchema,
    plan: MigrationPlan,
    sample: Sequence[SampleKey],
    dead_letters: UPath | None,
    options: VerifyOptions,
) -> tuple[CheckResult, list[Query]]:
    """Sampled objects field by field, plus every dead-lettered object (absent from the target by definition).

    Also returns the vectors of the first sampled objects, to serve as search-parity queries.
    """
    differences = Listed(options.listed)
    query_keys = set(sample[: options.search_queries])
    queries: list[Query] = []
    compared = objects_differing = not_found = 0
    for tenant, uuids in _chunks(sample):
        objects = {o.uuid: o for o in source.fetch(schema, tenant, uuids)}
        rows = sink.get(plan, [primary_key(plan, u, tenant) for u in uuids])
        restored = {r["uuid"]: r for r in (from_row(row, plan) for row in rows)}
        for uuid in uuids:
            obj, got = objects.get(uuid), restored.get(uuid)
            if obj is None or got is None:
                not_found += 1
                where = "Weaviate" if obj is None else "Milvus"
                differences.add({"tenant": tenant or "", "uuid": uuid, "detail": f"gone from {where}"})
                continue
            compared += 1
            found = compare_object(plan, obj, got)
            objects_differing += bool(found)
            for d in found:
                differences.add(
                    {"tenant": tenant or "", "uuid": uuid, **d._asdict(), "detail": "value differs"}
                )
            if SampleKey(tenant, uuid) in query_keys:
                queries.append(Query(tenant, uuid, obj.vectors, obj.properties))
    dead = 0
    for reject in dead_letters_in(dead_letters):
        dead += 1
        differences.add(
            {"tenant": reject.tenant or "", "uuid": reject.uuid, "detail": f"dead-lettered: {reject.reason}"}
        )
    fields_differing = differences.count - not_found - dead
    passed = differences.count == 0
    parts = [
        f"{compared} sampled object(s) compared, {objects_differing} differ ({fields_differing} field(s))"
    ]
    if not_found:
        parts.append(f"{not_found} vanished while verifying")
    if dead:
        parts.append(f"{dead} dead-lettered")
    queries.sort(key=lambda q: sample_rank(SampleKey(q.tenant, q.uuid)))
    return (
        CheckResult(
            name=CONTENT,
            passed=passed,
            summary=", ".join(parts),
            numbers={
                "sampled": len(sample),
                "compared": compared,
                "objects_differing": objects_differing,
                "fields_differing": fields_differing,
                "vanished": not_found,
                "dead_lettered": dead,
            },
            mismatches=differences.rows,
        ),
        queries,
    )
