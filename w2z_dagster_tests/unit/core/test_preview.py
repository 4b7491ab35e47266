"""The dry run's plan: target state and size estimate, computed without touching anything."""

from __future__ import annotations

from w2z_dagster.core.mapping import build_plan
from w2z_dagster.core.plan import MilvusField
from w2z_dagster.core.preview import (
    ARRAY_ELEMENTS_ESTIMATE,
    JSON_ESTIMATE,
    MULTI_VECTOR_TOKENS_ESTIMATE,
    VARCHAR_ESTIMATE,
    TargetState,
    format_bytes,
    mapping_rows,
    preview,
    row_bytes,
)
from w2z_dagster.core.profiles import TargetProfile
from w2z_dagster.core.schema import CollectionSchema, PropertySpec, TenantSpec, VectorSpec, WeaviateType

T = WeaviateType


def articles(**changes: object) -> CollectionSchema:
    schema = CollectionSchema(
        name="Articles",
        properties=(
            PropertySpec(name="title", data_type=T.TEXT),
            PropertySpec(name="views", data_type=T.INT),
            PropertySpec(name="score", data_type=T.NUMBER),
            PropertySpec(name="published", data_type=T.BOOLEAN),
            PropertySpec(name="when", data_type=T.DATE),
            PropertySpec(name="tags", data_type=T.TEXT_ARRAY),
            PropertySpec(name="counts", data_type=T.INT_ARRAY),
            PropertySpec(name="where", data_type=T.GEO),
        ),
        vectors=(
            VectorSpec(name="default", legacy=True, dimension=8),
            VectorSpec(name="colbert", multi=True, dimension=4),
        ),
        object_count=1000,
    )
    return schema.model_copy(update=changes)


def test_row_bytes_are_exact_for_vectors_and_fixed_width_fields_and_typical_for_the_rest() -> None:
    plan = build_plan(articles(), TargetProfile.LITE)
    expected = (
        36  # id: the UUID
        + 8 * 4  # legacy vector, float32
        + 4 * 4 * MULTI_VECTOR_TOKENS_ESTIMATE  # multi-vector as JSON
        + VARCHAR_ESTIMATE  # title: declared 65,535 bytes, estimated
        + 8  # views
        + 8  # score
        + 1  # published
        + 27  # when: fixed-width date text
        + VARCHAR_ESTIMATE * ARRAY_ELEMENTS_ESTIMATE  # tags
        + 8 * ARRAY_ELEMENTS_ESTIMATE  # counts
        + JSON_ESTIMATE  # where
        + VARCHAR_ESTIMATE  # w2z_text: the keyword text
        + JSON_ESTIMATE  # w2z_bm25: its sparse vector, estimated like a JSON value
        + 8  # w2z_updated_ms
    )
    assert row_bytes(plan) == expected


def test_a_missing_target_would_be_created_and_the_estimate_is_rows_times_count() -> None:
    schema = articles()
    plan = build_plan(schema, TargetProfile.LITE)
    result = preview(schema, plan, None)
    assert result.target_state is TargetState.CREATE and result.ok
    assert (result.collection, result.target, result.profile) == ("Articles", "Articles", "lite")
    assert result.objects == result.source_objects == 1000
    assert result.estimated_bytes == 1000 * row_bytes(plan)
    assert result.mapping == mapping_rows(plan)
    assert result.indexes == [
        "vector: HNSW M=32 efConstruction=128 COSINE",
        "title: INVERTED",
        "views: INVERTED",
        "score: INVERTED",
        "published: INVERTED",
        "when: INVERTED",
        "w2z_bm25: SPARSE_INVERTED_INDEX bm25_k1=1.2 bm25_b=0.75 BM25",
    ]
    assert [(t.name, t.objects) for t in result.tenants] == [("", 1000)]


def test_limit_caps_the_objects_that_would_be_copied() -> None:
    schema = articles()
    plan = build_plan(schema, TargetProfile.LITE)
    assert preview(schema, plan, None, limit=10).objects == 10
    assert preview(schema, plan, None, limit=10).estimated_bytes == 10 * row_bytes(plan)
    assert preview(schema, plan, None, limit=5000).objects == 1000


def test_an_existing_target_is_reused_when_it_matches_and_a_conflict_when_it_does_not() -> None:
    schema = articles()
    plan = build_plan(schema, TargetProfile.LITE)
    assert preview(schema, plan, list(plan.fields), target_functions=plan.functions).target_state is (
        TargetState.REUSE
    )
    assert preview(schema, plan, list(plan.fields)).differences == [
        "the target has no BM25 function from 'w2z_text' into 'w2z_bm25'"
    ]

    narrowed = [f.model_copy(update={"dim": 16}) if f.name == "vector" else f for f in plan.fields] + [
        MilvusField(name="extra", data_type="INT64")
    ]
    result = preview(schema, plan, narrowed, target_functions=plan.functions)
    assert result.target_state is TargetState.CONFLICT and not result.ok
    assert result.differences == [
        "field 'vector': dim is 16 in the target, planned 8",
        "the target has field 'extra' that the plan does not",
    ]


def test_tenants_show_their_counts_and_unreadable_ones_have_none() -> None:
    schema = articles(
        multi_tenant=True,
        tenants=(TenantSpec(name="a", status="ACTIVE"), TenantSpec(name="b", status="INACTIVE")),
        counts_by_tenant={"a": 7},
        object_count=7,
    )
    result = preview(schema, build_plan(schema, TargetProfile.LITE), None)
    assert [(t.name, t.status, t.objects) for t in result.tenants] == [
        ("a", "ACTIVE", 7),
        ("b", "INACTIVE", None),
    ]


def test_format_bytes() -> None:
    assert [format_bytes(n) for n in (0, 1023, 1024, 1536, 5 * 1024**3, 3 * 1024**5)] == [
        "0 B",
        "1023 B",
        "1.0 KB",
        "1.5 KB",
        "5.0 GB",
        "3072.0 TB",
    ]
