"""Filtered-search parity: a Weaviate filter and its Milvus translation pass the same objects, and a
near-vector search under each finds the same neighbours.

The filters are drawn from the collection's own data, so they match something whatever the collection
holds: for each query object (the search-parity sample, in its order) an equality on one of its property
values or a range from its value to the next larger value among the other query objects, rotating through
the filterable properties; plus, per tenant, the query objects' ids. Every filter goes through
`filter_translation` exactly as an app team's would, so this check also proves the translator on real data.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

import numpy as np

from w2z_dagster.core.filter_translation import FilterError, tokenization_of, translate_filter
from w2z_dagster.core.plan import FieldRole, MigrationPlan, MilvusField
from w2z_dagster.core.schema import CollectionSchema, SourceObject, WeaviateType
from w2z_dagster.core.sink import ExpressionRefused, MilvusSink
from w2z_dagster.core.source import WeaviateSource
from w2z_dagster.core.verification.content import Query
from w2z_dagster.core.verification.report import FILTERED_PARITY, CheckResult, Listed, VerifyOptions
from w2z_dagster.core.verification.search_parity import TIE_WINDOW, recall, tied_with_kth, unsearchable

MAX_MATCHES = 1000
"""Filter result sets up to this size are compared UUID by UUID; a broader one (a boolean equality on a
large collection) is compared by exact count, so memory stays bounded whatever the collection size."""
SHOWN_UUIDS = 5
WORST_SHOWN = 5

T = WeaviateType
_EQUALITY = {T.INT, T.BOOLEAN, T.UUID, T.DATE, T.TEXT}
_EQUALITY_ARRAYS = {T.INT_ARRAY, T.BOOLEAN_ARRAY, T.UUID_ARRAY, T.DATE_ARRAY, T.TEXT_ARRAY}
_RANGE = {T.INT, T.NUMBER, T.DATE}
_EXACT_TEXT = "field"


class DrawnFilter(NamedTuple):
    """A filter in Weaviate's REST `where` form, and the query object whose vector searches under it."""

    tenant: str | None
    uuid: str
    field: str
    where: dict[str, Any]


def _flags(class_json: Mapping[str, Any]) -> dict[str, tuple[bool, bool]]:
    """(indexFilterable, indexRangeFilters) per property; Weaviate refuses filters without an index."""
    return {
        p["name"]: (p.get("indexFilterable", True) is not False, bool(p.get("indexRangeFilters", False)))
        for p in class_json.get("properties", [])
    }


class Candidates(NamedTuple):
    """The properties filters are drawn on, all indexed in Weaviate (it refuses filters without an index).

    `equality` and `ranges` translate exactly; `word_text` is text Weaviate matches word by word, which
    the translator refuses: one filter each is drawn anyway, so the report names what does not carry over.
    Numbers are drawn only in ranges (an equality on a read-back float is a range of width zero anyway).
    """

    equality: list[MilvusField]
    ranges: list[MilvusField]
    word_text: list[MilvusField]


def candidates(
    plan: MigrationPlan, class_json: Mapping[str, Any], present: Collection[str] | None = None
) -> Candidates:
    """`present`: the target's field names; a planned field the target lacks is the schema check's to report."""
    flags, tokenization = _flags(class_json), tokenization_of(class_json)
    found = Candidates([], [], [])
    for field in plan.fields_with(FieldRole.PROPERTY):
        if present is not None and field.name not in present:
            continue
        source, wtype = field.source or "", field.weaviate_type
        filterable, range_index = flags.get(source, (True, False))
        if filterable and wtype in (T.TEXT, T.TEXT_ARRAY) and tokenization.get(source) != _EXACT_TEXT:
            found.word_text.append(field)
        elif filterable and wtype in _EQUALITY | _EQUALITY_ARRAYS:
            found.equality.append(field)
        if (filterable or range_index) and wtype in _RANGE:
            found.ranges.append(field)
    return found


def _value_json(field: MilvusField, value: Any) -> dict[str, Any]:
    wtype = field.weaviate_type
    if wtype in (T.DATE, T.DATE_ARRAY):
        return {"valueDate": value.isoformat() if isinstance(value, datetime) else str(value)}
    if wtype in (T.NUMBER, T.NUMBER_ARRAY):
        return {"valueNumber": float(value)}
    if wtype in (T.INT, T.INT_ARRAY):
        return {"valueInt": int(value)}
    if wtype in (T.BOOLEAN, T.BOOLEAN_ARRAY):
        return {"valueBoolean": bool(value)}
    return {"valueText": str(value)}


def _present(obj: SourceObject, field: MilvusField) -> Any:
    value = obj.properties.get(field.source or "")
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _equality(obj: SourceObject, field: MilvusField, value: Any) -> DrawnFilter:
    where = {"operator": "Equal", "path": [field.source], **_value_json(field, value)}
    return DrawnFilter(obj.tenant, obj.uuid, field.name, where)


def _range(obj: SourceObject, field: MilvusField, value: Any, peers: Sequence[SourceObject]) -> DrawnFilter:
    above = [v for p in peers if (v := _present(p, field)) is not None and v > value]
    upper = min(above) if above else value
    where = {
        "operator": "And",
        "operands": [
            {"operator": "GreaterThanEqual", "path": [field.source], **_value_json(field, value)},
            {"operator": "LessThanEqual", "path": [field.source], **_value_json(field, upper)},
        ],
    }
    return DrawnFilter(obj.tenant, obj.uuid, field.name, where)


def _pick(obj: SourceObject, fields: Sequence[MilvusField], start: int) -> tuple[MilvusField, Any] | None:
    for offset in range(len(fields)):
        field = fields[(start + offset) % len(fields)]
        value = _present(obj, field)
        if value is not None:
            return field, value
    return None


def draw_filters(
    plan: MigrationPlan,
    class_json: Mapping[str, Any],
    objects: Sequence[SourceObject],
    present: Collection[str] | None = None,
) -> list[DrawnFilter]:
    """Deterministic filters from the query objects' own values: the same objects, the same filters.

    Even-numbered objects get an equality, odd ones a range (each falls back to the other kind when the
    object has no value for it), the property rotating with the object's position; each tenant's query
    objects also form one id filter, and each word-matched text property one equality.
    """
    found = candidates(plan, class_json, present)
    drawn: list[DrawnFilter] = []
    for i, obj in enumerate(objects):
        peers = [p for p in objects if p.tenant == obj.tenant and p.uuid != obj.uuid]
        kinds = [("equality", found.equality), ("range", found.ranges)]
        for kind, fields in kinds if i % 2 == 0 else kinds[::-1]:
            picked = _pick(obj, fields, i // 2)
            if picked is not None:
                field, value = picked
                drawn.append(
                    _equality(obj, field, value) if kind == "equality" else _range(obj, field, value, peers)
                )
                break
    for tenant in dict.fromkeys(o.tenant for o in objects):
        members = [o for o in objects if o.tenant == tenant]
        where = {"operator": "ContainsAny", "path": ["id"], "valueTextArray": [o.uuid for o in members]}
        drawn.append(DrawnFilter(tenant, members[0].uuid, "id", where))
    for field in found.word_text:
        obj = next((o for o in objects if _present(o, field) is not None), None)
        if obj is not None:
            drawn.append(_equality(obj, field, _present(obj, field)))
    return drawn


def _shown(uuids: Sequence[str]) -> str:
    more = f" (+{len(uuids) - SHOWN_UUIDS} more)" if len(uuids) > SHOWN_UUIDS else ""
    return ", ".join(uuids[:SHOWN_UUIDS]) + more


class _Outcome(NamedTuple):
    drawn: DrawnFilter
    expression: str
    weaviate: int
    milvus: int
    missing: list[str]
    extra: list[str]
    counted: bool
    recalls: dict[str, float]

    @property
    def sets_equal(self) -> bool:
        return self.weaviate == self.milvus and not self.missing and not self.extra

    def row(self) -> dict[str, Any]:
        return {
            "tenant": self.drawn.tenant or "",
            "filter": json.dumps(self.drawn.where, separators=(",", ":"), ensure_ascii=False),
            "expression": self.expression,
            "weaviate": self.weaviate,
            "milvus": self.milvus,
            "compared": "count" if self.counted else "uuids",
            "missing": self.missing[:SHOWN_UUIDS],
            "extra": self.extra[:SHOWN_UUIDS],
            "recall": {name: round(r, 4) for name, r in self.recalls.items()},
        }


def _query_objects(
    source: WeaviateSource, schema: CollectionSchema, queries: Sequence[Query]
) -> list[SourceObject]:
    by_tenant: dict[str | None, list[str]] = {}
    for query in queries:
        by_tenant.setdefault(query.tenant, []).append(query.uuid)
    fetched = {
        (o.tenant, o.uuid): o
        for tenant, uuids in by_tenant.items()
        for o in source.fetch(schema, tenant, uuids)
    }
    return [fetched[(q.tenant, q.uuid)] for q in queries if (q.tenant, q.uuid) in fetched]


def check_filtered_parity(
    source: WeaviateSource,
    sink: MilvusSink,
    schema: CollectionSchema,
    plan: MigrationPlan,
    queries: Sequence[Query],
    target: Sequence[MilvusField] | None,
    options: VerifyOptions,
) -> CheckResult:
    """Each drawn filter: equal result sets on both sides, and recall@k of a near-vector search under it.

    Sets must be equal exactly; recall passes at `min_filtered_recall` mean per vector field, with a
    neighbour that ties Weaviate's k-th counting as found (`search_parity.recall`). A filter the translator
    refuses is reported, not failed: it says what an app team could not carry over.
    """
    chosen = list(queries[: options.filtered_queries])
    objects = _query_objects(source, schema, chosen)
    if not objects:
        return CheckResult(
            name=FILTERED_PARITY, passed=True, summary="no query objects: no filter to compare", numbers={}
        )
    class_json = source.class_json(schema.name)
    tokenization = tokenization_of(class_json)
    present = None if target is None else {f.name for f in target}
    found = candidates(plan, class_json, present)
    vectors = {(q.tenant, q.uuid): q.vectors for q in chosen}
    fields = [
        f
        for f in plan.fields_with(FieldRole.VECTOR)
        if plan.search_parity_expected.get(f.name, True)
        and f.dim is not None
        and not unsearchable(f, target, f.dim)
    ]
    listed = Listed(options.listed)
    refused: list[str] = []
    milvus_refused: list[str] = []
    outcomes: list[_Outcome] = []
    for drawn in draw_filters(plan, class_json, objects, present):
        try:
            expression = translate_filter(drawn.where, plan, drawn.tenant, tokenization).filter
        except FilterError as exc:
            refused.append(f"{drawn.field}: {exc}")
            continue
        try:
            outcome = _compare(source, sink, schema, plan, drawn, expression, fields, vectors, options)
        except ExpressionRefused as exc:
            milvus_refused.append(str(exc))
            listed.add(
                {"tenant": drawn.tenant or "", "uuid": drawn.uuid, "field": drawn.field, "detail": str(exc)}
            )
            continue
        outcomes.append(outcome)
        _list(listed, outcome, options)
    any_property = bool(found.equality or found.ranges)
    return _result(outcomes, refused, milvus_refused, listed, fields, any_property, len(objects), options)


def _compare(
    source: WeaviateSource,
    sink: MilvusSink,
    schema: CollectionSchema,
    plan: MigrationPlan,
    drawn: DrawnFilter,
    expression: str,
    fields: Sequence[MilvusField],
    vectors: Mapping[tuple[str | None, str], Mapping[str, Any]],
    options: VerifyOptions,
) -> _Outcome:
    weaviate = source.matching(schema.name, drawn.tenant, drawn.where, MAX_MATCHES + 1)
    counted = len(weaviate) > MAX_MATCHES
    if counted:
        w_count = source.count_matching(schema.name, drawn.tenant, drawn.where)
        m_count = sink.count_matching(plan, expression)
        missing: list[str] = []
        extra: list[str] = []
    else:
        milvus = sink.matching(plan, expression, MAX_MATCHES + 1)
        w_count, m_count = len(weaviate), len(milvus)
        missing, extra = sorted(set(weaviate) - set(milvus)), sorted(set(milvus) - set(weaviate))
    pk = plan.field_by_role(FieldRole.ID).name
    recalls: dict[str, float] = {}
    for field in fields:
        vector = vectors.get((drawn.tenant, drawn.uuid), {}).get(field.source)
        if vector is None or len(vector) == 0:
            continue
        wider = source.near_vector(
            schema.name, drawn.tenant, vector, field.source or "", options.k + TIE_WINDOW, drawn.where
        )
        hits = sink.search(plan, field.name, vector, options.k, drawn.tenant, expression)
        got = [str(h[pk]).rpartition(":")[2] for h in hits]
        expected = [uuid for uuid, _ in wider[: options.k]]
        recalls[field.name] = recall(expected, got, tied_with_kth(wider, options.k))
    return _Outcome(drawn, expression, w_count, m_count, missing, extra, counted, recalls)


def _list(listed: Listed, outcome: _Outcome, options: VerifyOptions) -> None:
    drawn = outcome.drawn
    shown = {
        "tenant": drawn.tenant or "",
        "uuid": drawn.uuid,
        "weaviate": json.dumps(drawn.where, separators=(",", ":"), ensure_ascii=False),
        "milvus": outcome.expression,
    }
    if not outcome.sets_equal:
        parts = [f"weaviate {outcome.weaviate} / milvus {outcome.milvus} object(s)"]
        if outcome.missing:
            parts.append(f"missing in Milvus: {_shown(outcome.missing)}")
        if outcome.extra:
            parts.append(f"extra in Milvus: {_shown(outcome.extra)}")
        listed.add({**shown, "field": drawn.field, "detail": "; ".join(parts)})
    for name, score in outcome.recalls.items():
        if score < options.min_filtered_recall:
            listed.add({**shown, "field": name, "detail": f"filtered recall@{options.k} {score:.2f}"})


def _result(
    outcomes: Sequence[_Outcome],
    refused: Sequence[str],
    milvus_refused: Sequence[str],
    listed: Listed,
    fields: Sequence[MilvusField],
    any_property: bool,
    objects: int,
    options: VerifyOptions,
) -> CheckResult:
    per_field: dict[str, dict[str, Any]] = {}
    for field in fields:
        scores = [o.recalls[field.name] for o in outcomes if field.name in o.recalls]
        per_field[field.name] = {
            "queries": len(scores),
            "mean_recall": round(float(np.mean(scores)), 4) if scores else 1.0,
            "worst_query_recall": round(min(scores), 4) if scores else None,
        }
    differing = [o for o in outcomes if not o.sets_equal]
    worst_recall = min((f["mean_recall"] for f in per_field.values()), default=1.0)
    failing = [name for name, f in per_field.items() if f["mean_recall"] < options.min_filtered_recall]
    counted = sum(o.counted for o in outcomes)
    worst = sorted(
        outcomes, key=lambda o: (o.sets_equal, min(o.recalls.values(), default=1.0), o.drawn.field)
    )[:WORST_SHOWN]
    parts = [
        f"{len(outcomes) - len(differing)} of {len(outcomes)} translated filter(s) drawn from {objects} "
        f"object(s) pass the same objects on both sides ({counted} compared by count)",
        f"filtered recall@{options.k} {worst_recall:.2f} (worst field), threshold "
        f"{options.min_filtered_recall:.2f}",
    ]
    if not any_property:
        parts.append("no filterable property: only the id filter drawn")
    if milvus_refused:
        parts.append(f"Milvus refused {len(milvus_refused)} expression(s); first: {milvus_refused[0]}")
    if refused:
        on = ", ".join(dict.fromkeys(r.split(":", 1)[0] for r in refused))
        parts.append(f"translator refused {len(refused)} filter(s) on {on}; first: {refused[0]}")
    return CheckResult(
        name=FILTERED_PARITY,
        passed=not differing and not failing and not milvus_refused,
        summary="; ".join(parts),
        numbers={
            "k": options.k,
            "min_filtered_recall": options.min_filtered_recall,
            "filters": len(outcomes),
            "fields_filtered": sorted({o.drawn.field for o in outcomes}),
            "sets_differing": len(differing),
            "compared_by_count": counted,
            "recall": worst_recall,
            "fields": per_field,
            "failing_fields": failing,
            "refused": list(refused),
            "milvus_refused": list(milvus_refused),
            "worst_queries": [o.row() for o in worst],
        },
        mismatches=listed.rows,
    )
