from __future__ import annotations

import pytest

from w2z_dagster.core.compatibility import plan_matches
from w2z_dagster.core.mapping import METRIC_TABLE, TYPE_TABLE, build_plan
from w2z_dagster.core.plan import (
    PHYSICAL_ATTRIBUTES,
    FieldRole,
    IndexPlan,
    MappingOptions,
    MigrationPlan,
    MilvusField,
    PlanError,
    parse_dimensions,
)
from w2z_dagster.core.preview import mapping_rows
from w2z_dagster.core.profiles import TargetProfile
from w2z_dagster.core.schema import CollectionSchema, PropertySpec, VectorSpec, WeaviateType

T = WeaviateType
NESTED = (
    PropertySpec(name="when", data_type=T.DATE),
    PropertySpec(name="score", data_type=T.NUMBER),
    PropertySpec(
        name="inner",
        data_type=T.OBJECT_ARRAY,
        nested=(
            PropertySpec(name="days", data_type=T.DATE_ARRAY),
            PropertySpec(name="tag", data_type=T.TEXT),
        ),
    ),
)


def prop(t: WeaviateType) -> PropertySpec:
    """One property per Weaviate type, named after it (`p_text_array` …)."""
    return PropertySpec(
        name=f"p_{t.name.lower()}",
        data_type=t,
        reference_targets=("Author",) if t == T.REFERENCE else (),
        nested=NESTED if t in (T.OBJECT, T.OBJECT_ARRAY) else (),
    )


def every_type_schema(multi_tenant: bool = False, **changes: object) -> CollectionSchema:
    schema = CollectionSchema(
        name="Every",
        properties=tuple(prop(t) for t in T),
        vectors=(
            VectorSpec(name="default", legacy=True, dimension=3),
            VectorSpec(name="body", distance="dot", dimension=4, index_params={"maxConnections": 16}),
            VectorSpec(name="colbert", multi=True, dimension=2),
        ),
        multi_tenant=multi_tenant,
    )
    return schema.model_copy(update=changes)


def vectors_only(*vectors: VectorSpec, properties: tuple[PropertySpec, ...] = ()) -> CollectionSchema:
    return CollectionSchema(name="V", vectors=vectors, properties=properties)


def plan_of(schema: CollectionSchema, profile: str = "milvus", **options: object) -> MigrationPlan:
    return build_plan(schema, TargetProfile(profile), MappingOptions(**options))


EXPECTED_TYPES = {
    T.TEXT: ("VARCHAR", None, 65535, None),
    T.TEXT_ARRAY: ("ARRAY", "VARCHAR", 65535, 4096),
    T.INT: ("INT64", None, None, None),
    T.INT_ARRAY: ("ARRAY", "INT64", None, 4096),
    T.NUMBER: ("DOUBLE", None, None, None),
    T.NUMBER_ARRAY: ("ARRAY", "DOUBLE", None, 4096),
    T.BOOLEAN: ("BOOL", None, None, None),
    T.BOOLEAN_ARRAY: ("ARRAY", "BOOL", None, 4096),
    T.DATE: ("VARCHAR", None, 27, None),
    T.DATE_ARRAY: ("ARRAY", "VARCHAR", 27, 4096),
    T.UUID: ("VARCHAR", None, 36, None),
    T.UUID_ARRAY: ("ARRAY", "VARCHAR", 36, 4096),
    T.GEO: ("JSON", None, None, None),
    T.PHONE: ("JSON", None, None, None),
    T.BLOB: ("VARCHAR", None, 65535, None),
    T.OBJECT: ("JSON", None, None, None),
    T.OBJECT_ARRAY: ("JSON", None, None, None),
    T.REFERENCE: ("ARRAY", "VARCHAR", 36, 4096),
}


def test_type_table_covers_every_weaviate_type() -> None:
    assert set(TYPE_TABLE) == set(T) == set(EXPECTED_TYPES)


@pytest.mark.parametrize("profile", list(TargetProfile))
@pytest.mark.parametrize("wtype", list(T))
def test_every_type_row(wtype: WeaviateType, profile: TargetProfile) -> None:
    plan = plan_of(every_type_schema(), profile, blobs="store")
    field = plan.field(f"p_{wtype.name.lower()}")
    assert (field.data_type, field.element_type, field.max_length, field.max_capacity) == EXPECTED_TYPES[
        wtype
    ]
    assert field.nullable is True
    assert field.source == f"p_{wtype.name.lower()}"
    assert field.weaviate_type == wtype
    assert field.role == (FieldRole.REFERENCE if wtype == T.REFERENCE else FieldRole.PROPERTY)


def test_blobs_are_skipped_by_default_and_shown_in_the_table() -> None:
    plan = plan_of(every_type_schema())
    assert "p_blob" not in plan.field_names
    assert [p.name for p in plan.source_properties if p.data_type == T.BLOB] == []
    assert mapping_rows(plan)[-1] == {
        "weaviate_property": "p_blob",
        "weaviate_type": "blob",
        "milvus_field": "",
        "milvus_type": "",
        "notes": "blob skipped (blobs='skip')",
    }


def test_single_tenant_system_fields() -> None:
    plan = plan_of(every_type_schema())
    pk = plan.field_by_role(FieldRole.ID)
    assert (pk.name, pk.data_type, pk.max_length, pk.is_primary, pk.nullable) == (
        "id",
        "VARCHAR",
        36,
        True,
        False,
    )
    assert plan.field_for(FieldRole.UUID) is None and plan.field_for(FieldRole.TENANT) is None
    assert not plan.multi_tenant


def test_multi_tenant_system_fields() -> None:
    plan = plan_of(every_type_schema(multi_tenant=True))
    assert plan.multi_tenant
    assert [
        (f.name, f.max_length, f.is_primary, f.is_partition_key, f.nullable) for f in plan.fields[:3]
    ] == [
        ("id", 292, True, False, False),
        ("uuid", 36, False, False, False),
        ("tenant", 255, False, True, False),
    ]
    assert [f.role for f in plan.fields[:3]] == [FieldRole.ID, FieldRole.UUID, FieldRole.TENANT]


@pytest.mark.parametrize(
    ("multi_tenant", "expected"),
    [
        (False, {"uuid": "uuid", "tenant": "tenant", "vector": "vector_1", "id": "id_1", "body": "body_1"}),
        (
            True,
            {"uuid": "uuid_1", "tenant": "tenant_1", "vector": "vector_1", "id": "id_1", "body": "body_1"},
        ),
    ],
)
def test_properties_never_take_w2z_field_names(multi_tenant: bool, expected: dict[str, str]) -> None:
    schema = every_type_schema(
        multi_tenant=multi_tenant,
        properties=tuple(PropertySpec(name=n, data_type=T.TEXT) for n in expected),
    )
    plan = plan_of(schema)
    assert {f.source: f.name for f in plan.fields_with(FieldRole.PROPERTY)} == expected
    renamed = [n for n, target in expected.items() if n != target]
    assert [n for n in plan.notes if n.startswith("property")] == [
        f"property '{n}' is stored as field '{expected[n]}' ('{n}' is already taken by another field)"
        for n in renamed
    ]


def test_keyword_and_invalid_names_are_renamed_and_shown() -> None:
    schema = vectors_only(
        VectorSpec(name="default", legacy=True, dimension=2),
        VectorSpec(name="vector", dimension=2),
        VectorSpec(name="like", dimension=2),
        properties=(
            PropertySpec(name="and", data_type=T.TEXT),
            PropertySpec(name="and_1", data_type=T.INT),
            PropertySpec(name="title", data_type=T.TEXT),
        ),
    )
    plan = plan_of(schema, max_vector_fields=3)
    assert [(f.source, f.name) for f in plan.fields] == [
        (None, "id"),
        ("default", "vector"),
        ("vector", "vector_1"),
        ("like", "like_1"),
        ("and", "and_2"),
        ("and_1", "and_1"),
        ("title", "title"),
        (None, "w2z_updated_ms"),
    ]
    assert plan.notes == (
        "vector 'vector' is stored as field 'vector_1' ('vector' is already taken by another field)",
        "vector 'like' is stored as field 'like_1' ('like' is a Milvus filter-expression keyword)",
        "keyword search on and, title is not carried: its sparse field would exceed the target's vector fields",
        "property 'and' is stored as field 'and_2' ('and' is a Milvus filter-expression keyword)",
    )
    row = next(r for r in mapping_rows(plan) if r["weaviate_property"] == "and")
    assert row == {
        "weaviate_property": "and",
        "weaviate_type": "text",
        "milvus_field": "and_2",
        "milvus_type": "VARCHAR(65535)",
        "notes": "nullable; index INVERTED; length counted in UTF-8 bytes; renamed: 'and' is a Milvus "
        "filter-expression keyword",
    }


def test_collection_name_is_kept_when_valid() -> None:
    assert plan_of(every_type_schema()).target == "Every"
    plan = plan_of(every_type_schema(name="My-Things"))
    assert plan.target == "My_Things"
    assert "collection 'My-Things' is created as 'My_Things' (Milvus name rules)" in plan.notes


@pytest.mark.parametrize(
    ("distance", "metric", "parity"), [(d, r.metric, r.parity) for d, r in METRIC_TABLE.items()]
)
def test_metrics(distance: str, metric: str, parity: bool) -> None:
    plan = plan_of(vectors_only(VectorSpec(name="v", distance=distance, dimension=8)))
    assert plan.index_for("v").metric == metric
    assert plan.search_parity_expected == {"v": parity}


def test_metric_table_values() -> None:
    assert {d: (r.metric, r.parity) for d, r in METRIC_TABLE.items()} == {
        "cosine": ("COSINE", True),
        "dot": ("IP", True),
        "l2-squared": ("L2", True),
        "hamming": ("L2", False),
        "manhattan": ("L2", False),
    }


def test_manhattan_is_noted() -> None:
    plan = plan_of(vectors_only(VectorSpec(name="v", distance="manhattan", dimension=8)))
    assert plan.notes == (
        "vector 'v': Milvus has no manhattan metric for float vectors: indexed with L2, so search results differ",
    )


@pytest.mark.parametrize(
    ("index_type", "params", "expected"),
    [
        (
            "hnsw",
            {"maxConnections": 64, "efConstruction": 256, "ef": -1},
            ("HNSW", {"M": 64, "efConstruction": 256}),
        ),
        ("hnsw", {}, ("HNSW", {"M": 32, "efConstruction": 128})),
        ("dynamic", {"maxConnections": 8}, ("HNSW", {"M": 8, "efConstruction": 128})),
        ("flat", {}, ("FLAT", {})),
        ("none", {}, ("FLAT", {})),
        ("hfresh", {}, ("AUTOINDEX", {})),
    ],
)
def test_index_carried_over_on_milvus(index_type: str, params: dict[str, int], expected: tuple) -> None:
    spec = VectorSpec(name="v", index_type=index_type, index_params=params, dimension=8)
    for profile in ("milvus", "lite"):
        index = plan_of(vectors_only(spec), profile).index_for("v")
        assert (index.index_type, index.params) == expected
        assert index.metric == "COSINE"


@pytest.mark.parametrize("profile", ["zilliz-serverless", "zilliz-dedicated"])
@pytest.mark.parametrize("index_type", ["hnsw", "flat", "dynamic"])
def test_zilliz_uses_autoindex(profile: str, index_type: str) -> None:
    plan = plan_of(vectors_only(VectorSpec(name="v", index_type=index_type, dimension=8)), profile)
    assert plan.indexes == (IndexPlan(field="v", index_type="AUTOINDEX", metric="COSINE"),)
    assert plan.notes == (
        f"vector 'v': Weaviate {index_type} index becomes AUTOINDEX (Zilliz Cloud chooses the index)",
    )


def test_vectors_of_the_every_type_schema() -> None:
    plan = plan_of(every_type_schema())
    vector, body, colbert = plan.fields_with(FieldRole.VECTOR, FieldRole.MULTI_VECTOR)
    assert (vector.name, vector.data_type, vector.dim, vector.source, vector.nullable) == (
        "vector",
        "FLOAT_VECTOR",
        3,
        "default",
        False,
    )
    assert (body.name, body.dim, body.source_type) == ("body", 4, "vector 'body' (dot, hnsw)")
    assert (colbert.name, colbert.data_type, colbert.role, colbert.nullable) == (
        "colbert",
        "JSON",
        FieldRole.MULTI_VECTOR,
        True,
    )
    assert plan.indexes[:2] == (
        IndexPlan(
            field="vector", index_type="HNSW", metric="COSINE", params={"M": 32, "efConstruction": 128}
        ),
        IndexPlan(field="body", index_type="HNSW", metric="IP", params={"M": 16, "efConstruction": 128}),
    )
    assert plan.search_parity_expected == {"vector": True, "body": True, "colbert": False}
    assert plan.dimensions == {"default": 3, "body": 4, "colbert": 2}
    assert "vector 'colbert' is a multi-vector: stored in JSON field 'colbert', not searchable" in plan.notes


def test_dimension_from_option() -> None:
    plan = plan_of(vectors_only(VectorSpec(name="v")), vector_dimensions={"v": 768})
    assert plan.field("v").dim == 768


def test_missing_vector_null_makes_vectors_nullable() -> None:
    plan = plan_of(every_type_schema(), "milvus", missing_vector="null")
    assert all(f.nullable for f in plan.fields_with(FieldRole.VECTOR, FieldRole.MULTI_VECTOR))


def _too_many_fields() -> CollectionSchema:
    return vectors_only(
        VectorSpec(name="v", dimension=2),
        properties=tuple(PropertySpec(name=f"p{i}", data_type=T.INT) for i in range(62)),
    )


@pytest.mark.parametrize(
    ("schema", "profile", "options", "message"),
    [
        (
            vectors_only(VectorSpec(name="v")),
            "milvus",
            {},
            "vector 'v' has no known dimension (no object carries it yet); set W2Z_VECTOR_DIMENSIONS='v=N'",
        ),
        (
            vectors_only(VectorSpec(name="v", dimension=32_769)),
            "lite",
            {},
            "vector 'v' has dimension 32769; Milvus FLOAT_VECTOR allows 2 to 32768",
        ),
        (
            vectors_only(VectorSpec(name="v", dimension=1)),
            "milvus",
            {},
            "vector 'v' has dimension 1; Milvus FLOAT_VECTOR allows 2 to 32768",
        ),
        (
            vectors_only(VectorSpec(name="v", dimension=8)),
            "milvus",
            {"vector_dimensions": {"v": 16}},
            "vector 'v' was observed with dimension 8 but W2Z_VECTOR_DIMENSIONS says 16; correct or drop the entry",
        ),
        (
            vectors_only(*(VectorSpec(name=f"v{i}", dimension=2) for i in range(5))),
            "zilliz-serverless",
            {},
            "collection 'V' has 5 vectors; the target allows at most 4 vector fields per collection; "
            "use a target configured for more and set W2Z_MAX_VECTOR_FIELDS=N",
        ),
        (
            vectors_only(*(VectorSpec(name=f"v{i}", dimension=2) for i in range(11))),
            "zilliz-dedicated",
            {},
            "collection 'V' has 11 vectors; the target allows at most 10 vector fields per collection; "
            "use a target configured for more and set W2Z_MAX_VECTOR_FIELDS=N",
        ),
        (
            vectors_only(VectorSpec(name="c", multi=True, dimension=2)),
            "milvus",
            {},
            "collection 'V' has no single-vector space; Milvus needs at least one FLOAT_VECTOR field "
            "(multi-vectors are stored as JSON)",
        ),
        (
            vectors_only(VectorSpec(name="v", distance="jaccard", dimension=2)),
            "milvus",
            {},
            "vector 'v' uses distance 'jaccard', which w2z cannot map; "
            "known distances: cosine, dot, l2-squared, hamming, manhattan",
        ),
        (
            vectors_only(VectorSpec(name="v", dimension=2)),
            "lite",
            {"missing_vector": "null"},
            "missing_vector='null' is not supported on the lite profile (it stores null vectors as zeros); "
            "use missing_vector='reject'",
        ),
        (
            _too_many_fields(),
            "milvus",
            {},
            "collection 'V' needs 65 Milvus fields; milvus allows at most 64; skip blobs or split the collection",
        ),
    ],
)
def test_plan_errors(schema: CollectionSchema, profile: str, options: dict, message: str) -> None:
    with pytest.raises(PlanError) as raised:
        plan_of(schema, profile, **options)
    assert str(raised.value) == message
    assert isinstance(raised.value, ValueError)


def test_vector_limit_overrides() -> None:
    five = vectors_only(*(VectorSpec(name=f"v{i}", dimension=2) for i in range(5)))
    assert len(plan_of(five, "milvus", max_vector_fields=5).indexes) == 5
    ten = vectors_only(*(VectorSpec(name=f"v{i}", dimension=2) for i in range(10)))
    assert len(plan_of(ten, "zilliz-dedicated").indexes) == 10


def test_64_fields_fit() -> None:
    schema = vectors_only(
        VectorSpec(name="v", dimension=2),
        properties=tuple(PropertySpec(name=f"p{i}", data_type=T.INT) for i in range(61)),
    )
    assert len(plan_of(schema).fields) == 64


def test_multi_vector_dimension_may_be_unknown() -> None:
    plan = plan_of(vectors_only(VectorSpec(name="v", dimension=2), VectorSpec(name="c", multi=True)))
    assert plan.dimensions == {"v": 2}


def test_mapping_table_rows() -> None:
    table = mapping_rows(plan_of(every_type_schema(multi_tenant=True)))
    assert all(
        set(r) == {"weaviate_property", "weaviate_type", "milvus_field", "milvus_type", "notes"}
        for r in table
    )
    assert table[:4] == [
        {
            "weaviate_property": "",
            "weaviate_type": "tenant + object id",
            "milvus_field": "id",
            "milvus_type": "VARCHAR(292)",
            "notes": "primary key; '<tenant>:<uuid>', so one UUID in two tenants never collides",
        },
        {
            "weaviate_property": "",
            "weaviate_type": "object id",
            "milvus_field": "uuid",
            "milvus_type": "VARCHAR(36)",
            "notes": "the bare Weaviate UUID",
        },
        {
            "weaviate_property": "",
            "weaviate_type": "tenant",
            "milvus_field": "tenant",
            "milvus_type": "VARCHAR(255)",
            "notes": "partition key; not nullable: Milvus forbids a nullable partition key",
        },
        {
            "weaviate_property": "default",
            "weaviate_type": "legacy vector (cosine, hnsw)",
            "milvus_field": "vector",
            "milvus_type": "FLOAT_VECTOR(3)",
            "notes": "index HNSW M=32 efConstruction=128 COSINE",
        },
    ]
    reference = next(r for r in table if r["milvus_field"] == "p_reference")
    assert reference == {
        "weaviate_property": "p_reference",
        "weaviate_type": "cross-reference → Author",
        "milvus_field": "p_reference",
        "milvus_type": "ARRAY<VARCHAR(36)>[4096]",
        "notes": "nullable; index INVERTED; target object UUIDs",
    }


def _described(plan: MigrationPlan) -> list[MilvusField]:
    """What the sink reports for a target created from `plan`: no roles, sources or notes."""
    return [MilvusField(**f.model_dump(include=PHYSICAL_ATTRIBUTES)) for f in plan.fields]


def _replace(fields: list[MilvusField], name: str, **changes: object) -> list[MilvusField]:
    return [f.model_copy(update=changes) if f.name == name else f for f in fields]


def test_plan_matches_its_own_target() -> None:
    plan = plan_of(every_type_schema(multi_tenant=True))
    assert plan_matches(plan, _described(plan), plan.functions) == []


def test_a_target_without_the_bm25_function_cannot_fill_keyword_search() -> None:
    plan = plan_of(every_type_schema(multi_tenant=True))
    assert plan_matches(plan, _described(plan)) == [
        "the target has no BM25 function from 'w2z_text' into 'w2z_bm25'"
    ]


@pytest.mark.parametrize(
    ("change", "problems"),
    [
        (
            lambda fs: [f for f in fs if f.name != "p_reference"],
            ["field 'p_reference' (ARRAY<VARCHAR(36)>[4096]) is missing from the target"],
        ),
        (
            lambda fs: _replace(fs, "w2z_text", analyzer_params={"tokenizer": "standard"}),
            [
                "field 'w2z_text': analyzer_params is {'tokenizer': 'standard'} in the target, planned "
                f"{plan_of(every_type_schema()).field('w2z_text').analyzer_params!r}"
            ],
        ),
        (
            lambda fs: [*fs, MilvusField(name="extra", data_type="INT64")],
            ["the target has field 'extra' that the plan does not"],
        ),
        (
            lambda fs: _replace(fs, "p_int", data_type="INT32"),
            ["field 'p_int': data_type is 'INT32' in the target, planned 'INT64'"],
        ),
        (lambda fs: _replace(fs, "vector", dim=4), ["field 'vector': dim is 4 in the target, planned 3"]),
        (
            lambda fs: _replace(fs, "p_text", max_length=1000),
            ["field 'p_text': max_length is 1000 in the target, planned 65535"],
        ),
        (
            lambda fs: _replace(fs, "p_int_array", max_capacity=10),
            ["field 'p_int_array': max_capacity is 10 in the target, planned 4096"],
        ),
        (
            lambda fs: _replace(fs, "p_text", nullable=False),
            ["field 'p_text' is not nullable in the target, planned nullable"],
        ),
        (
            lambda fs: _replace(fs, "tenant", is_partition_key=False),
            ["field 'tenant': is_partition_key is False in the target, planned True"],
        ),
        (lambda fs: _replace(fs, "p_uuid", max_length=64), []),
        (lambda fs: _replace(fs, "p_text_array", max_length=None), []),
        (lambda fs: _replace(fs, "vector", nullable=True), []),
    ],
)
def test_plan_matches_differences(change, problems: list[str]) -> None:
    plan = plan_of(every_type_schema(multi_tenant=True))
    assert plan_matches(plan, change(_described(plan)), plan.functions) == problems


@pytest.mark.parametrize(
    ("text", "dimensions"), [("", {}), ("body=768", {"body": 768}), (" a=3 , b=4 ,", {"a": 3, "b": 4})]
)
def test_vector_dimensions_setting(text: str, dimensions: dict[str, int]) -> None:
    assert parse_dimensions(text) == dimensions


def test_a_malformed_vector_dimension_says_the_expected_form() -> None:
    with pytest.raises(PlanError) as raised:
        parse_dimensions("body:768")
    assert (
        str(raised.value) == "W2Z_VECTOR_DIMENSIONS entry 'body:768' is not name=dimension, e.g. 'body=768'"
    )


def test_options_from_settings() -> None:
    options = MappingOptions.from_settings(True, "reject", 10, "c=4")
    assert options == MappingOptions(blobs="store", max_vector_fields=10, vector_dimensions={"c": 4})


def test_descriptions_say_what_each_field_was_in_weaviate_and_who_embeds_each_vector() -> None:
    schema = CollectionSchema(
        name="Docs",
        description="Support articles",
        properties=(
            PropertySpec(name="body", data_type=WeaviateType.TEXT, description="the article text"),
            PropertySpec(name="id", data_type=WeaviateType.INT),
        ),
        vectors=(
            VectorSpec(
                name="body_vec", dimension=4, vectorizer="text2vec-openai", model="text-embedding-3-small"
            ),
            VectorSpec(name="own", dimension=4),
        ),
    )

    plan = plan_of(schema)
    described = {f.name: f.description for f in plan.fields}

    assert plan.description == "Support articles; Weaviate collection 'Docs'"
    assert described["body"] == "the article text; Weaviate property 'body' (text)"
    assert described["id_1"] == "Weaviate property 'id' (int)"
    assert described["body_vec"] == (
        "Weaviate vector 'body_vec' (cosine, hnsw), embedded by text2vec-openai (model text-embedding-3-small)"
    )
    assert described["own"] == "Weaviate vector 'own' (cosine, hnsw), vectors from the application"
    assert (
        "vector 'body_vec' is embedded by text2vec-openai (model text-embedding-3-small): after cut-over the "
        "application must embed its queries with the same model"
    ) in plan.notes


def test_a_long_weaviate_description_is_cut_to_255_utf8_bytes_at_a_character() -> None:
    schema = every_type_schema(description="é" * 300)

    plan = plan_of(schema)

    assert len(plan.description.encode()) <= 255 and plan.description.endswith("…")
    assert set(plan.description[:-1]) == {"é"}
