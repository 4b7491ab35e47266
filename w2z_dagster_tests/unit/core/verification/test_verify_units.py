"""The pure parts of each verification check, and the streaming logic against in-memory fakes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from upath import UPath

from w2z_dagster.core.dead_letters import DeadLetters
from w2z_dagster.core.mapping import build_plan
from w2z_dagster.core.plan import MappingOptions, MigrationPlan
from w2z_dagster.core.profiles import TargetProfile
from w2z_dagster.core.schema import (
    CollectionSchema,
    PropertySpec,
    SourceObject,
    TenantSpec,
    VectorSpec,
    WeaviateType,
)
from w2z_dagster.core.transform import Reject, from_row, primary_key, to_rows
from w2z_dagster.core.verification import verify
from w2z_dagster.core.verification.content import Query, check_content, compare_object, describe_difference
from w2z_dagster.core.verification.counts import check_counts
from w2z_dagster.core.verification.hybrid_parity import check_hybrid_parity
from w2z_dagster.core.verification.identity import SampleKey, Sampler, scan_identity
from w2z_dagster.core.verification.keyword_parity import check_keyword_parity, keyword_queries
from w2z_dagster.core.verification.rejects import check_rejects
from w2z_dagster.core.verification.report import VerifyOptions
from w2z_dagster.core.verification.schema_check import check_schema
from w2z_dagster.core.verification.search_parity import check_search_parity, recall, tied_with_kth

T = WeaviateType


def _schema(multi_tenant: bool = False, tenants: Sequence[str] = ()) -> CollectionSchema:
    return CollectionSchema(
        name="Docs",
        properties=(
            PropertySpec(name="title", data_type=T.TEXT),
            PropertySpec(name="views", data_type=T.INT),
            PropertySpec(name="when", data_type=T.DATE),
            PropertySpec(name="cites", data_type=T.REFERENCE, reference_targets=("Docs",)),
        ),
        vectors=(
            VectorSpec(name="body", distance="cosine", dimension=4),
            VectorSpec(name="code", distance="hamming", dimension=3),
        ),
        multi_tenant=multi_tenant,
        tenants=tuple(TenantSpec(name=t, status="ACTIVE") for t in tenants),
    )


def _plan(schema: CollectionSchema) -> MigrationPlan:
    return build_plan(schema, TargetProfile.LITE, MappingOptions())


def _uuid(i: int) -> str:
    return f"00000000-0000-0000-0000-{i:012d}"


def _object(i: int, tenant: str | None = None) -> SourceObject:
    return SourceObject(
        uuid=_uuid(i),
        tenant=tenant,
        properties={"title": f"doc {i}", "views": i, "when": datetime(2024, 1, 1 + i % 28, tzinfo=UTC)},
        references={"cites": [_uuid(i + 1)]},
        vectors={"body": [0.1 * i, 0.2, 0.3, 0.4], "code": [1.0, 0.0, float(i)]},
    )


class FakeSource:
    """In-memory stand-in for WeaviateSource: objects per tenant, ids in UUID order."""

    def __init__(self, objects: Sequence[SourceObject]) -> None:
        self.objects = sorted(objects, key=lambda o: (o.tenant or "", o.uuid))
        self.searches: list[tuple[str | None, str]] = []

    def _of(self, tenant: str | None) -> list[SourceObject]:
        return [o for o in self.objects if o.tenant == tenant]

    def count(self, name: str, tenant: str | None = None) -> int:
        return len(self._of(tenant))

    def ids(self, name: str, tenant: str | None) -> Iterator[tuple[str, int]]:
        for o in self._of(tenant):
            yield o.uuid, 0

    def fetch(self, schema: CollectionSchema, tenant: str | None, uuids: Sequence[str]) -> list[SourceObject]:
        return [o for o in self._of(tenant) if o.uuid in set(uuids)]

    def _among(self, tenant: str | None, among: Sequence[str] | None) -> list[SourceObject]:
        return [o for o in self._of(tenant) if among is None or o.uuid in among]

    def near_vector(
        self,
        name: str,
        tenant: str | None,
        vector: Sequence[float],
        target: str,
        k: int,
        among: Sequence[str] | None = None,
    ) -> list[tuple[str, float]]:
        self.searches.append((tenant, target))
        objects = self._among(tenant, among)
        return _nearest(objects, lambda o: o.vectors[target], o_id=lambda o: o.uuid, q=vector, k=k)

    def bm25(
        self,
        name: str,
        tenant: str | None,
        text: str,
        properties: Sequence[str],
        k: int,
        among: Sequence[str] | None = None,
    ) -> list[tuple[str, float]]:
        texts = {
            o.uuid: " ".join(str(o.properties.get(p) or "") for p in properties)
            for o in self._among(tenant, among)
        }
        return _matching(texts, text, k)

    def hybrid(self, name: str, tenant: str | None, query: Any, k: int) -> list[tuple[str, float]]:
        return self.bm25(name, tenant, query.text, query.properties, k)


def _matching(texts: dict[str, str], query: str, k: int) -> list[tuple[str, float]]:
    """A stand-in keyword score both fakes share: how many query terms a text holds, ties by key."""
    scored = [
        (key, float(sum(t in text.lower().split() for t in query.split()))) for key, text in texts.items()
    ]
    return sorted((s for s in scored if s[1] > 0), key=lambda s: (-s[1], s[0]))[:k]


def _nearest(
    items: Sequence[Any], vec: Any, o_id: Any, q: Sequence[float], k: int
) -> list[tuple[Any, float]]:
    qv = np.asarray(q, dtype=np.float32)
    distances = (
        (float(np.linalg.norm(np.asarray(vec(it), dtype=np.float32) - qv)), o_id(it)) for it in items
    )
    scored = sorted(distances, key=lambda pair: pair[0])
    return [(key, distance) for distance, key in scored[:k]]


class FakeSink:
    """In-memory stand-in for MilvusSink holding the rows `to_rows` made."""

    def __init__(self, plan: MigrationPlan, rows: Sequence[dict[str, Any]]) -> None:
        self.plan = plan
        self.rows = {r["id"]: dict(r) for r in rows}

    def exists(self, target: str) -> bool:
        return True

    def describe(self, target: str) -> list[Any]:
        return list(self.plan.fields)

    def describe_indexes(self, target: str) -> list[Any]:
        return list(self.plan.indexes)

    def describe_functions(self, target: str) -> list[Any]:
        return list(self.plan.functions)

    def _of(self, tenant: str | None) -> list[dict[str, Any]]:
        return [r for k, r in sorted(self.rows.items()) if tenant is None or r["tenant"] == tenant]

    def count(self, plan: MigrationPlan, tenant: str | None = None) -> int:
        return len(self._of(tenant))

    def count_outside(self, plan: MigrationPlan, tenants: Sequence[str]) -> int:
        return sum(r["tenant"] not in tenants for r in self.rows.values())

    def tenants_outside(self, plan: MigrationPlan, tenants: Sequence[str]) -> Iterator[str]:
        yield from sorted({r["tenant"] for r in self.rows.values()} - set(tenants))

    def ids(self, plan: MigrationPlan, tenant: str | None, fields: Sequence[str] = ()) -> Iterator[dict]:
        for r in self._of(tenant):
            yield {"id": r["id"], **{f: r[f] for f in fields}}

    def get(self, plan: MigrationPlan, keys: Sequence[str]) -> list[dict[str, Any]]:
        return [self.rows[k] for k in keys if k in self.rows]

    def search(
        self, plan: MigrationPlan, field: str, vector: Sequence[float], k: int, tenant: str | None
    ) -> list[dict[str, Any]]:
        found = _nearest(self._of(tenant), lambda r: r[field], o_id=lambda r: r["id"], q=vector, k=k)
        return [{"id": key} for key, _ in found]

    def keyword_search(
        self, plan: MigrationPlan, text: str, k: int, tenant: str | None
    ) -> list[tuple[str, float]]:
        return _matching({r["id"]: r["w2z_text"] or "" for r in self._of(tenant)}, text, k)

    def hybrid_search(
        self, plan: MigrationPlan, field: str, query: Any, k: int, tenant: str | None
    ) -> list[tuple[str, float]]:
        return self.keyword_search(plan, query.text, k, tenant)


def _pair(
    n: int, tenants: Sequence[str] = ()
) -> tuple[CollectionSchema, MigrationPlan, FakeSource, FakeSink]:
    schema = _schema(bool(tenants), tenants)
    plan = _plan(schema)
    objects = [_object(i, t) for t in (tenants or [None]) for i in range(n)]
    rows = to_rows(objects, plan).rows
    return schema, plan, FakeSource(objects), FakeSink(plan, rows)


# --- sampling ----------------------------------------------------------------------------------------


def _keys(n: int) -> list[SampleKey]:
    return [SampleKey(None, _uuid(i)) for i in range(n)]


def test_sample_is_bounded_and_independent_of_arrival_order() -> None:
    forward, backward = Sampler(10), Sampler(10)
    for key in _keys(500):
        forward.offer(key)
    for key in reversed(_keys(500)):
        backward.offer(key)

    assert len(forward.picked(False)) == 10
    assert forward.picked(False) == backward.picked(False)


def test_a_smaller_sample_is_a_prefix_of_a_larger_one() -> None:
    small, large = Sampler(5), Sampler(50)
    for key in _keys(300):
        small.offer(key)
        large.offer(key)

    assert large.picked(False)[:5] == small.picked(False)


@pytest.mark.parametrize(("size", "n", "expected"), [(0, 10, 0), (10, 3, 3), (3, 3, 3)])
def test_sample_size(size: int, n: int, expected: int) -> None:
    sampler = Sampler(size)
    for key in _keys(n):
        sampler.offer(key)
    assert len(sampler.picked(False)) == expected


# --- pure comparisons --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weaviate", "milvus", "expected"),
    [
        (["a", "b"], ["b", "a"], 1.0),
        (["a", "b", "c", "d"], ["a", "x", "c", "y"], 0.5),
        (["a"], [], 0.0),
        ([], [], 1.0),
        ([], ["a"], 0.0),
    ],
)
def test_recall(weaviate: list[str], milvus: list[str], expected: float) -> None:
    assert recall(weaviate, milvus) == expected


@pytest.mark.parametrize(
    ("neighbours", "k", "tied"),
    [
        ([("a", 0.0), ("b", 0.5), ("c", 0.5), ("d", 0.5), ("e", 0.9)], 2, ["b", "c", "d"]),
        ([("a", 0.1), ("b", 0.2), ("c", 0.2000001)], 2, ["b", "c"]),
        ([("a", 0.1), ("b", 0.2), ("c", 0.21)], 2, ["b"]),
        ([("a", 0.1)], 2, []),
    ],
)
def test_ties_with_the_kth_neighbour(neighbours: list[tuple[str, float]], k: int, tied: list[str]) -> None:
    assert tied_with_kth(neighbours, k) == tied


def test_a_neighbour_tying_with_the_kth_counts_as_found() -> None:
    assert recall(["a", "b"], ["a", "c"], ties=["b", "c", "d"]) == 1.0
    assert recall(["a", "b"], ["a", "x"], ties=["b", "c", "d"]) == 0.5
    assert recall(["a", "b"], ["c", "d"], ties=["a", "b", "c", "d"]) == 1.0


@pytest.mark.parametrize(
    ("kind", "a", "b", "expected"),
    [
        ("vector", [0.5, 0.25, 1.0], [0.5, 0.25, 2.0], ("[2]=1", "[2]=2")),
        ("vector", [0.5, 0.25], [0.5, 0.25, 0.0], ("shape (2,)", "shape (3,)")),
        ("multi-vector", [[1.0, 2.0], [3.0, 4.0]], [[1.0, 2.0], [3.0, 5.0]], ("[[1, 1]]=4", "[[1, 1]]=5")),
        ("text", "abc", "abd", ("'abc'", "'abd'")),
        ("vector", [1.0], None, ("[1.0]", "None")),
    ],
)
def test_describe_difference_points_at_the_difference(
    kind: str, a: Any, b: Any, expected: tuple[str, ...]
) -> None:
    assert describe_difference(kind, a, b)[: len(expected)] == expected


def _restored(obj: SourceObject, plan: MigrationPlan) -> dict[str, Any]:
    return from_row(to_rows([obj], plan).rows[0], plan)


def test_an_unchanged_object_has_no_differences() -> None:
    plan = _plan(_schema())
    obj = _object(3)
    assert compare_object(plan, obj, _restored(obj, plan)) == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda r: r["properties"].update(title="doc X"), "title"),
        (lambda r: r["properties"].update(views=None), "views"),
        (lambda r: r["properties"].update(when=datetime(2024, 1, 5, 0, 0, 1, tzinfo=UTC)), "when"),
        (lambda r: r["references"].update(cites=[]), "cites"),
        (lambda r: r["vectors"]["body"].__setitem__(1, float(np.nextafter(np.float32(0.2), 1))), "body"),
        (lambda r: r["vectors"].pop("code"), "code"),
    ],
)
def test_one_changed_field_is_exactly_one_difference(change: Any, field: str) -> None:
    plan = _plan(_schema())
    obj = _object(4)
    restored = _restored(obj, plan)
    change(restored)

    assert [d.field for d in compare_object(plan, obj, restored)] == [field]


def test_dates_compare_as_instants_across_time_zones() -> None:
    plan = _plan(_schema())
    obj = _object(2)
    restored = _restored(obj, plan)
    restored["properties"]["when"] = obj.properties["when"].astimezone(datetime.now().astimezone().tzinfo)
    assert compare_object(plan, obj, restored) == []


# --- schema ------------------------------------------------------------------------------------------


def _schema_faults() -> list[tuple[str, Any, dict[str, str]]]:
    def replace(name: str, **update: Any) -> Any:
        return lambda fields: [f.model_copy(update=update) if f.name == name else f for f in fields]

    return [
        ("missing", lambda fields: [f for f in fields if f.name != "views"], {"field": "views"}),
        ("dim", replace("body", dim=3), {"field": "body", "weaviate": "dim 4", "milvus": "dim 3"}),
        ("type", replace("views", data_type="VARCHAR"), {"weaviate": "data_type INT64"}),
        ("length", replace("title", max_length=10), {"milvus": "max_length 10"}),
        ("nullable", replace("title", nullable=False), {"detail": "cannot hold Weaviate's missing values"}),
        ("primary", replace("id", is_primary=False), {"field": "id"}),
    ]


@pytest.mark.parametrize(("label", "corrupt", "expected"), _schema_faults(), ids=lambda x: x)
def test_schema_reports_exactly_one_problem_per_fault(label: str, corrupt: Any, expected: dict) -> None:
    schema = _schema()
    plan = _plan(schema)

    result = check_schema(schema, plan, corrupt(list(plan.fields)), functions=plan.functions)

    assert not result.passed
    assert result.numbers["problems"] == 1
    assert expected.items() <= result.mismatches[0].items()


def test_schema_passes_an_exact_or_roomier_target() -> None:
    schema = _schema()
    plan = _plan(schema)
    roomier = [f.model_copy(update={"max_length": 65_535}) if f.name == "title" else f for f in plan.fields]

    result = check_schema(schema, plan, roomier, list(plan.indexes), plan.functions)

    assert result.passed, result.mismatches
    assert result.numbers == {
        "weaviate_properties": 4,
        "weaviate_vectors": 2,
        "fields_checked": len(plan.fields),
        "problems": 0,
        "metric_checked": True,
        "indexes_checked": len(plan.indexes),
        "functions_checked": 1,
    }


def test_schema_reports_a_wrong_metric_when_indexes_are_known() -> None:
    schema = _schema()
    plan = _plan(schema)
    indexes = [i.model_copy(update={"metric": "IP"}) if i.field == "body" else i for i in plan.indexes]

    result = check_schema(schema, plan, list(plan.fields), indexes, plan.functions)

    assert [(m["field"], m["weaviate"], m["milvus"]) for m in result.mismatches] == [
        ("body", "metric COSINE", "metric IP")
    ]


def test_schema_reports_a_keyword_search_the_target_cannot_run() -> None:
    schema = _schema()
    plan = _plan(schema)
    indexes = [
        i.model_copy(update={"index_type": "BITMAP"} if i.field == "title" else {"params": {"bm25_k1": 1.0}})
        if i.field in ("title", "w2z_bm25")
        else i
        for i in plan.indexes
    ]

    result = check_schema(schema, plan, list(plan.fields), indexes)

    assert [(m["field"], m["weaviate"], m["milvus"], m["detail"]) for m in result.mismatches] == [
        ("title", "index INVERTED", "index BITMAP", "index type differs"),
        ("w2z_bm25", "bm25_k1 1.2", "bm25_k1 1.0", "bm25_k1 differs"),
        ("w2z_bm25", "keyword search on title", "no BM25 function", "BM25 function from 'w2z_text' missing"),
    ]


def test_schema_fails_without_a_target_and_for_a_property_the_plan_lost() -> None:
    schema = _schema()
    plan = _plan(schema)
    grown = schema.model_copy(
        update={"properties": (*schema.properties, PropertySpec(name="new", data_type=T.INT))}
    )

    assert check_schema(schema, plan, None).mismatches[0]["detail"] == "target collection does not exist"
    assert check_schema(grown, plan, list(plan.fields), functions=plan.functions).mismatches == [
        {"field": "", "weaviate": "property new", "milvus": "", "detail": "not mapped"}
    ]


def test_metric_not_checked_is_said_not_assumed() -> None:
    schema = _schema()
    plan = _plan(schema)
    result = check_schema(schema, plan, list(plan.fields), functions=plan.functions)
    assert result.passed
    assert result.numbers["metric_checked"] is False
    assert "indexes not checked" in result.summary


# --- rejects -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "listed"), [(0, 0), (1, 1), (25, 20)])
def test_rejects_counts_all_and_lists_the_first(n: int, listed: int) -> None:
    rejects = (Reject(uuid=_uuid(i), tenant=None, reason=f"bad {i}", object={}) for i in range(n))

    result = check_rejects(rejects, listed=20)

    assert result.passed == (n == 0)
    assert result.numbers == {"dead_lettered": n}
    assert [m["uuid"] for m in result.mismatches] == [_uuid(i) for i in range(listed)]


# --- the streaming checks, against fakes ------------------------------------------------------------


def test_a_clean_copy_passes_every_check() -> None:
    schema, plan, source, sink = _pair(30)

    options = VerifyOptions(sample_size=10, search_queries=3, k=5, filtered_queries=0)
    report = verify(source, sink, schema, plan, options)

    assert report.failed == []
    assert report.check("identity").numbers == {
        "weaviate": 30,
        "milvus": 30,
        "matched": 30,
        "missing": 0,
        "extra": 0,
    }
    assert report.check("content").numbers["compared"] == 10
    for name in ("keyword_parity", "hybrid_parity"):
        assert report.check(name).numbers == {
            "k": 5,
            "threshold": 0.8,
            "queries": 3,
            "mean_overlap": 1.0,
            "worst_queries": report.check(name).numbers["worst_queries"],
        }
        assert [q["overlap"] for q in report.check(name).numbers["worst_queries"]] == [1.0, 1.0, 1.0]
    assert report.check("search_parity").numbers["fields"]["body"]["queries"] == 3
    assert report.check("search_parity").numbers["skipped_fields"] == ["code"]
    assert source.searches == [(None, "body")] * 3
    assert report.check("filtered_parity").summary == "no query objects: no filter to compare"


def test_identity_counts_every_difference_but_lists_only_the_first() -> None:
    schema, plan, source, sink = _pair(100)
    for i in range(0, 60, 2):
        del sink.rows[_uuid(i)]
    sink.rows["zzz"] = {"id": "zzz"}

    result, sample = scan_identity(source, sink, schema, plan, VerifyOptions(sample_size=7, listed=5))

    assert result.numbers == {"weaviate": 100, "milvus": 71, "matched": 70, "missing": 30, "extra": 1}
    assert [m["uuid"] for m in result.mismatches] == [_uuid(i) for i in range(0, 10, 2)] + ["zzz"]
    assert len(sample) == 7
    assert all(k.uuid not in {_uuid(i) for i in range(0, 60, 2)} for k in sample)


def test_identity_merges_per_tenant_on_the_tenant_prefixed_key() -> None:
    schema, plan, source, sink = _pair(5, tenants=["a", "b"])
    del sink.rows[primary_key(plan, _uuid(3), "b")]

    result, sample = scan_identity(source, sink, schema, plan, VerifyOptions(sample_size=100))

    assert result.numbers == {"weaviate": 10, "milvus": 9, "matched": 9, "missing": 1, "extra": 0}
    assert result.mismatches == [{"tenant": "b", "uuid": _uuid(3), "detail": "missing in Milvus"}]
    assert {k.tenant for k in sample} == {"a", "b"}


def test_an_unsorted_target_stream_fails_identity_instead_of_guessing() -> None:
    schema, plan, source, sink = _pair(3)
    sink.ids = lambda plan, tenant, fields=(): iter([{"id": _uuid(2)}, {"id": _uuid(1)}])

    result, _ = scan_identity(source, sink, schema, plan, VerifyOptions())

    assert not result.passed
    assert "not in strictly increasing key order" in result.summary


def test_counts_per_tenant() -> None:
    schema, plan, source, sink = _pair(4, tenants=["a", "b"])
    sink.rows["b:extra"] = {"id": "b:extra", "tenant": "b"}

    result = check_counts(source, sink, schema, plan)

    assert result.numbers["weaviate"] == 8 and result.numbers["milvus"] == 9
    assert result.mismatches == [{"tenant": "b", "weaviate": 4, "milvus": 5, "detail": "count differs"}]


def test_rows_of_a_tenant_weaviate_no_longer_has_fail_the_counts() -> None:
    schema, plan, source, sink = _pair(3, tenants=["a", "b"])
    sink.rows.update({f"gone:{i}": {"id": f"gone:{i}", "tenant": "gone"} for i in range(2)})

    result = check_counts(source, sink, schema, plan)

    assert not result.passed
    assert result.numbers["milvus_rows_of_deleted_tenants"] == 2
    assert result.numbers["tenants_differing"] == 0
    assert result.mismatches == [
        {
            "tenant": "gone",
            "weaviate": 0,
            "milvus": 2,
            "detail": "tenant no longer in Weaviate: the next sync deletes its rows",
        }
    ]
    assert result.summary == "weaviate 6 / milvus 6; 2 row(s) of tenant(s) Weaviate no longer has (gone)"


def test_inactive_tenants_are_reported_as_not_verified_not_as_equal() -> None:
    schema, plan, source, sink = _pair(2, tenants=["a"])
    schema = schema.model_copy(
        update={"tenants": (*schema.tenants, TenantSpec(name="cold", status="INACTIVE"))}
    )

    result = check_counts(source, sink, schema, plan)

    assert result.passed
    assert result.numbers["inactive_tenants_not_verified"] == 1
    assert result.summary == "weaviate 2 / milvus 2; 1 inactive tenant(s) not verified"


def test_content_flags_a_changed_row_and_every_dead_letter(tmp_path: Any) -> None:
    schema, plan, source, sink = _pair(10)
    sink.rows[_uuid(4)]["title"] = "tampered"
    dead = UPath(tmp_path / "dead")
    DeadLetters(dead, resume=False).extend(
        Reject(uuid=_uuid(90 + i), tenant=None, reason="too long", object={}) for i in range(2)
    )
    sample = [SampleKey(None, _uuid(i)) for i in range(10)]

    result, queries = check_content(source, sink, schema, plan, sample, dead, VerifyOptions(search_queries=4))

    assert not result.passed
    assert result.numbers == {
        "sampled": 10,
        "compared": 10,
        "objects_differing": 1,
        "fields_differing": 1,
        "vanished": 0,
        "dead_lettered": 2,
    }
    assert [(m["uuid"], m.get("field"), m["detail"]) for m in result.mismatches] == [
        (_uuid(4), "title", "value differs"),
        (_uuid(90), None, "dead-lettered: too long"),
        (_uuid(91), None, "dead-lettered: too long"),
    ]
    assert {q.uuid for q in queries} == {_uuid(i) for i in range(4)}


def test_search_parity_fails_below_the_threshold_and_lists_the_failing_queries() -> None:
    schema, plan, source, sink = _pair(20)
    queries = [Query(None, _uuid(i), _object(i).vectors, _object(i).properties) for i in (3, 8)]
    first_agrees = iter([True, False])
    search = sink.search
    sink.search = lambda *args: search(*args) if next(first_agrees) else []

    result = check_search_parity(source, sink, schema, plan, queries, plan.fields, VerifyOptions(k=3))

    assert not result.passed
    assert result.numbers["fields"] == {
        "body": {"queries": 2, "mean_recall": 0.5, "worst_query_recall": 0.0, "searchable": True}
    }
    assert (result.numbers["recall"], result.numbers["failing_fields"]) == (0.5, ["body"])
    assert [(m["uuid"], m["milvus"], m["detail"]) for m in result.mismatches] == [
        (_uuid(8), "0 of them", "recall@3 0.00")
    ]


def test_search_parity_does_not_search_a_field_of_the_wrong_dimension() -> None:
    schema, plan, source, sink = _pair(5)
    queries = check_content(source, sink, schema, plan, _keys(5), None, VerifyOptions(search_queries=2))[1]
    target = [f.model_copy(update={"dim": 3}) if f.name == "body" else f for f in plan.fields]

    result = check_search_parity(source, sink, schema, plan, queries, target, VerifyOptions())

    assert not result.passed
    assert source.searches == []
    assert result.mismatches == [
        {
            "field": "body",
            "detail": "not searchable: target field is FLOAT_VECTOR(3), the query vectors have dimension 4",
        }
    ]


def test_keyword_queries_are_the_first_terms_of_each_object_without_stopwords() -> None:
    schema, plan, _, _ = _pair(1)
    queries = [
        Query(None, _uuid(1), {}, {"title": "The Quick brown_fox, and the quick lazy dog"}),
        Query(None, _uuid(2), {}, {"title": None}),
    ]

    assert [(q.query.uuid, q.text) for q in keyword_queries(schema, plan, queries)] == [
        (_uuid(1), "quick brown fox")
    ]


def test_a_collection_without_searchable_text_has_nothing_to_compare() -> None:
    schema, _, source, sink = _pair(5)
    plan = build_plan(schema, TargetProfile.LITE, MappingOptions(search_indexes=False))
    queries = [Query(None, _uuid(1), _object(1).vectors, _object(1).properties)]

    for check in (check_keyword_parity, check_hybrid_parity):
        result = check(source, sink, schema, plan, queries, VerifyOptions())
        assert (result.passed, result.numbers["queries"]) == (True, 0)
        assert result.summary.startswith("nothing to compare: no searchable text carried")
