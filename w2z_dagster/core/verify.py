"""Checks that prove a copy: each has a name, a verdict and the numbers behind it.

Both ends are read through the same source and sink the migration used, never through a side channel,
and memory stays bounded on any collection size: id sets are merged as two UUID-ordered streams, and
only a fixed-size sample is ever fetched whole. Every check fails loudly on a difference; none of them
turns a mismatch into a warning.
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from w2z_dagster.core.dead_letters import read_dead_letters
from w2z_dagster.core.mapping import FieldRole, IndexPlan, MigrationPlan, MilvusField
from w2z_dagster.core.merge import Side, UnsortedInputError, merge_sorted
from w2z_dagster.core.schema import CollectionSchema, SourceObject, WeaviateType
from w2z_dagster.core.sink import MilvusSink
from w2z_dagster.core.source import WeaviateSource
from w2z_dagster.core.stream import tenants_to_read
from w2z_dagster.core.transform import MULTI_VECTOR, VECTOR, Reject, from_row, primary_key, values_equal

COUNTS = "counts"
IDENTITY = "identity"
CONTENT = "content"
SCHEMA = "schema"
SEARCH_PARITY = "search_parity"
REJECTS = "rejects"
CHECKS = (COUNTS, IDENTITY, CONTENT, SCHEMA, SEARCH_PARITY, REJECTS)

FETCH_CHUNK = 100
_COMPARED_ROLES = (FieldRole.PROPERTY, FieldRole.REFERENCE, FieldRole.VECTOR, FieldRole.MULTI_VECTOR)


class CheckResult(BaseModel):
    name: str
    passed: bool
    summary: str
    numbers: dict[str, Any] = Field(default_factory=dict)
    mismatches: list[dict[str, Any]] = Field(default_factory=list)


class VerificationReport(BaseModel):
    collection: str
    checks: list[CheckResult]

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failed(self) -> list[str]:
        return [c.name for c in self.checks if not c.passed]

    def check(self, name: str) -> CheckResult:
        return next(c for c in self.checks if c.name == name)


class VerifyOptions(BaseModel):
    """How hard to look; the defaults prove a copy in seconds whatever the collection size."""

    model_config = ConfigDict(frozen=True)

    sample_size: int = Field(100, ge=0)
    search_queries: int = Field(10, ge=0)
    k: int = Field(10, ge=1)
    min_recall: float = Field(0.9, ge=0.0, le=1.0)
    listed: int = Field(20, ge=0, description="How many mismatches each check lists; all are counted.")


DEFAULT_OPTIONS = VerifyOptions()


def verify_empty_source(source: WeaviateSource, schema: CollectionSchema) -> VerificationReport:
    """No target was created for an empty source; the copy is right only while the source stays empty."""
    now = sum(source.count(schema.name, tenant) for tenant in tenants_to_read(schema))
    counts = CheckResult(
        name=COUNTS,
        passed=now == 0,
        summary="weaviate 0 / milvus 0 (empty source, no target)"
        if now == 0
        else f"weaviate now has {now} objects but no target exists: materialize the whole chain again",
        numbers={"weaviate": now, "milvus": 0},
    )
    others = [
        CheckResult(name=name, passed=True, summary="empty source: nothing to compare")
        for name in CHECKS
        if name != COUNTS
    ]
    return VerificationReport(collection=schema.name, checks=[counts, *others])


def verify(
    source: WeaviateSource,
    sink: MilvusSink,
    schema: CollectionSchema,
    plan: MigrationPlan,
    options: VerifyOptions = DEFAULT_OPTIONS,
    dead_letter_file: Path | None = None,
) -> VerificationReport:
    """Run every check in CHECKS; `dead_letter_file` holds the objects the last migration rejected."""
    target = sink.describe(plan.target) if sink.exists(plan.target) else None
    identity, sample = scan_identity(source, sink, schema, plan, options)
    content, queries = check_content(source, sink, schema, plan, sample, dead_letter_file, options)
    checks = [
        check_counts(source, sink, schema, plan),
        identity,
        content,
        check_schema(
            schema, plan, target, sink.describe_indexes(plan.target) if target is not None else None
        ),
        check_search_parity(source, sink, schema, plan, queries, target, options),
        check_rejects(_dead_letters(dead_letter_file), options.listed),
    ]
    return VerificationReport(collection=schema.name, checks=checks)


def _dead_letters(path: Path | None) -> Iterator[Reject]:
    return read_dead_letters(path) if path is not None else iter(())


class _Listed:
    """Counts everything, keeps only the first `limit` rows: a million mismatches cost no memory."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0
        self.rows: list[dict[str, Any]] = []

    def add(self, row: dict[str, Any]) -> None:
        self.count += 1
        if len(self.rows) < self.limit:
            self.rows.append(row)


# --- counts ------------------------------------------------------------------------------------------


def check_counts(
    source: WeaviateSource, sink: MilvusSink, schema: CollectionSchema, plan: MigrationPlan
) -> CheckResult:
    """Weaviate's aggregate count against Milvus `count(*)`, per tenant; never collection stats."""
    mismatches = []
    source_total = target_total = 0
    for tenant in tenants_to_read(schema):
        expected = source.count(schema.name, tenant)
        actual = sink.count(plan, tenant)
        source_total += expected
        target_total += actual
        if expected != actual:
            mismatches.append(
                {"tenant": tenant or "", "weaviate": expected, "milvus": actual, "detail": "count differs"}
            )
    unread = [t.name for t in schema.tenants if not t.active]
    passed = not mismatches
    return CheckResult(
        name=COUNTS,
        passed=passed,
        summary=f"weaviate {source_total} / milvus {target_total}"
        + ("" if passed else f", {len(mismatches)} tenant(s) differ" if schema.multi_tenant else ", differ")
        + (f"; {len(unread)} inactive tenant(s) not verified" if unread else ""),
        numbers={
            "weaviate": source_total,
            "milvus": target_total,
            "difference": target_total - source_total,
            "tenants_differing": len(mismatches),
            "inactive_tenants_not_verified": len(unread),
        },
        mismatches=mismatches,
    )


# --- identity, and the sample it draws ---------------------------------------------------------------


class SampleKey(NamedTuple):
    tenant: str | None
    uuid: str


def sample_rank(key: SampleKey) -> int:
    """A stable pseudo-random rank: the same objects are sampled on every run, on every machine."""
    digest = hashlib.blake2b(f"{key.tenant or ''}/{key.uuid}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


class Sampler:
    """Keeps the `size` keys of lowest rank seen so far (bottom-k), so a single pass over any number
    of ids yields a uniform, reproducible sample in O(size) memory."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._heap: list[tuple[int, str, str]] = []

    def offer(self, key: SampleKey) -> None:
        if self.size == 0:
            return
        item = (-sample_rank(key), key.tenant or "", key.uuid)
        if len(self._heap) < self.size:
            heapq.heappush(self._heap, item)
        elif item > self._heap[0]:
            heapq.heapreplace(self._heap, item)

    def picked(self, multi_tenant: bool) -> list[SampleKey]:
        """Lowest rank first, so any prefix of the sample is itself a sample."""
        ordered = sorted(self._heap, reverse=True)
        return [SampleKey(t if multi_tenant else None, u) for _, t, u in ordered]


def scan_identity(
    source: WeaviateSource,
    sink: MilvusSink,
    schema: CollectionSchema,
    plan: MigrationPlan,
    options: VerifyOptions,
) -> tuple[CheckResult, list[SampleKey]]:
    """Merge both id streams in primary-key order: count matched, missing and extra; sample the matched."""
    pk = plan.field_by_role(FieldRole.ID).name
    uuid_field = plan.field_by_role(FieldRole.UUID).name if plan.multi_tenant else pk
    sampler = Sampler(options.sample_size)
    missing, extra = _Listed(options.listed), _Listed(options.listed)
    matched = weaviate_total = milvus_total = 0
    error = ""
    try:
        for tenant in tenants_to_read(schema):
            merged = merge_sorted(
                source.ids(schema.name, tenant),
                sink.ids(plan, tenant, [uuid_field] if uuid_field != pk else []),
                left_key=lambda item, t=tenant: primary_key(plan, item[0], t),
                right_key=lambda row: row[pk],
                labels=("Weaviate", "Milvus"),
            )
            for item in merged:
                side = item.side
                if side is Side.BOTH:
                    matched += 1
                    sampler.offer(SampleKey(tenant, item.left[0]))
                elif side is Side.LEFT:
                    missing.add({"tenant": tenant or "", "uuid": item.left[0], "detail": "missing in Milvus"})
                else:
                    uuid = item.right.get(uuid_field, item.key)
                    extra.add({"tenant": tenant or "", "uuid": uuid, "detail": "extra in Milvus"})
                weaviate_total += side is not Side.RIGHT
                milvus_total += side is not Side.LEFT
    except UnsortedInputError as exc:
        error = str(exc)
    passed = not (missing.count or extra.count or error)
    summary = f"{matched} matched, {missing.count} missing in Milvus, {extra.count} extra in Milvus"
    result = CheckResult(
        name=IDENTITY,
        passed=passed,
        summary=summary + (f"; merge stopped: {error}" if error else ""),
        numbers={
            "weaviate": weaviate_total,
            "milvus": milvus_total,
            "matched": matched,
            "missing": missing.count,
            "extra": extra.count,
        },
        mismatches=missing.rows + extra.rows + ([{"detail": error}] if error else []),
    )
    return result, sampler.picked(plan.multi_tenant)


# --- content -----------------------------------------------------------------------------------------


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


def check_content(
    source: WeaviateSource,
    sink: MilvusSink,
    schema: CollectionSchema,
    plan: MigrationPlan,
    sample: Sequence[SampleKey],
    dead_letter_file: Path | None,
    options: VerifyOptions,
) -> tuple[CheckResult, list[Query]]:
    """Sampled objects field by field, plus every dead-lettered object (absent from the target by definition).

    Also returns the vectors of the first sampled objects, to serve as search-parity queries.
    """
    differences = _Listed(options.listed)
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
                queries.append(Query(tenant, uuid, obj.vectors))
    dead = 0
    for reject in _dead_letters(dead_letter_file):
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


# --- schema ------------------------------------------------------------------------------------------


def _field_problems(planned: MilvusField, actual: MilvusField | None) -> Iterator[dict[str, Any]]:
    def problem(aspect: str, want: Any, have: Any) -> dict[str, Any]:
        return {"field": planned.name, "weaviate": f"{aspect} {want}", "milvus": f"{aspect} {have}"}

    if actual is None:
        yield {"field": planned.name, "weaviate": planned.type_text, "milvus": "absent", "detail": "missing"}
        return
    for aspect in ("data_type", "element_type", "dim", "is_primary", "is_partition_key"):
        want, have = getattr(planned, aspect), getattr(actual, aspect)
        if want != have:
            yield {**problem(aspect, want, have), "detail": f"{aspect} differs"}
    for aspect in ("max_length", "max_capacity"):
        want, have = getattr(planned, aspect), getattr(actual, aspect)
        if want is not None and have is not None and have < want:
            yield {**problem(aspect, want, have), "detail": f"{aspect} smaller than planned"}
    if planned.nullable and not actual.nullable:
        yield {**problem("nullable", True, False), "detail": "cannot hold Weaviate's missing values"}


def _unmapped(schema: CollectionSchema, plan: MigrationPlan) -> Iterator[dict[str, Any]]:
    """Weaviate properties and vectors the plan lost: a plan recorded before the schema changed."""
    skipped = {s.source for s in plan.skipped}
    for prop in schema.properties:
        role = FieldRole.REFERENCE if prop.data_type is WeaviateType.REFERENCE else FieldRole.PROPERTY
        if prop.name not in skipped and plan.field_for(role, prop.name) is None:
            yield {"field": "", "weaviate": f"property {prop.name}", "milvus": "", "detail": "not mapped"}
    for vector in schema.vectors:
        field = plan.field_for(FieldRole.VECTOR, vector.name) or plan.field_for(
            FieldRole.MULTI_VECTOR, vector.name
        )
        if field is None:
            yield {"field": "", "weaviate": f"vector {vector.name}", "milvus": "", "detail": "not mapped"}
        elif vector.dimension is not None and field.dim is not None and field.dim != vector.dimension:
            yield {
                "field": field.name,
                "weaviate": f"dim {vector.dimension}",
                "milvus": f"planned dim {field.dim}",
                "detail": "plan disagrees with Weaviate",
            }


def check_schema(
    schema: CollectionSchema,
    plan: MigrationPlan,
    target: Sequence[MilvusField] | None,
    indexes: Sequence[IndexPlan] | None = None,
) -> CheckResult:
    """Every Weaviate property and vector has its planned Milvus field, with the planned type and size.

    `indexes` are the target's vector indexes; when the sink cannot describe them the metric is reported
    as not checked rather than assumed right.
    """
    problems = list(_unmapped(schema, plan))
    if target is None:
        problems.append({"field": "", "milvus": plan.target, "detail": "target collection does not exist"})
    else:
        actual = {f.name: f for f in target}
        for planned in plan.fields:
            problems.extend(_field_problems(planned, actual.get(planned.name)))
        if indexes is not None:
            metrics = {i.field: i.metric for i in indexes}
            for planned_index in plan.indexes:
                have = metrics.get(planned_index.field)
                if have != planned_index.metric:
                    problems.append(
                        {
                            "field": planned_index.field,
                            "weaviate": f"metric {planned_index.metric}",
                            "milvus": f"metric {have or 'none'}",
                            "detail": "metric differs",
                        }
                    )
    passed = not problems
    metric = "checked" if indexes is not None else "not checked"
    return CheckResult(
        name=SCHEMA,
        passed=passed,
        summary=f"{len(plan.fields)} field(s) checked, {len(problems)} problem(s); index metric {metric}",
        numbers={
            "weaviate_properties": len(schema.properties),
            "weaviate_vectors": len(schema.vectors),
            "fields_checked": len(plan.fields),
            "problems": len(problems),
            "metric_checked": indexes is not None,
        },
        mismatches=problems,
    )


# --- search parity -----------------------------------------------------------------------------------


def recall(expected: Sequence[str], got: Sequence[str]) -> float:
    """Share of Weaviate's neighbours Milvus also returned; two empty answers agree."""
    if not expected:
        return 1.0 if not got else 0.0
    return len(set(expected) & set(got)) / len(expected)


def _unsearchable(field: MilvusField, target: Sequence[MilvusField] | None, dim: int) -> str:
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
    below = _Listed(options.listed)
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
            problem = _unsearchable(field, target, len(vector))
            if problem:
                below.add({"field": field.name, "detail": f"not searchable: {problem}"})
                break
            weaviate = source.near_vector(schema.name, query.tenant, vector, field.source, options.k)
            hits = sink.search(plan, field.name, vector, options.k, query.tenant)
            milvus = [str(h[pk]).rpartition(":")[2] for h in hits]
            score = recall(weaviate, milvus)
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


# --- rejects -----------------------------------------------------------------------------------------


def check_rejects(rejects: Iterable[Reject], listed: int = 20) -> CheckResult:
    """Any dead-lettered object means the copy is incomplete, whatever the other checks say."""
    found = _Listed(listed)
    for reject in rejects:
        found.add({"tenant": reject.tenant or "", "uuid": reject.uuid, "detail": reject.reason})
    return CheckResult(
        name=REJECTS,
        passed=found.count == 0,
        summary=f"{found.count} object(s) dead-lettered",
        numbers={"dead_lettered": found.count},
        mismatches=found.rows,
    )
