"""The keyword-search and filter-index tables: Weaviate tokenization → Milvus analyzer, flags → index."""

from __future__ import annotations

from typing import Any

import pytest

from w2z_dagster.core.class_json import parse_class
from w2z_dagster.core.keyword import EN_STOPWORDS, analyzer_for, scalar_index_type, stopwords
from w2z_dagster.core.mapping import build_plan
from w2z_dagster.core.plan import FieldRole, FunctionPlan, IndexPlan, MappingOptions
from w2z_dagster.core.profiles import TargetProfile, limits_for
from w2z_dagster.core.schema import (
    CollectionSchema,
    InvertedIndexSpec,
    PropertySpec,
    VectorSpec,
    WeaviateType,
)
from w2z_dagster.core.sink import ranked_fusion

T = WeaviateType
MILVUS, LITE = limits_for(TargetProfile.MILVUS), limits_for(TargetProfile.LITE)
ZILLIZ = limits_for(TargetProfile.ZILLIZ_SERVERLESS)
NONE = InvertedIndexSpec(stopwords_preset="none")
WORD_NOTE = (
    "standard tokenizer splits at Unicode word boundaries, Weaviate at every non-alphanumeric character "
    "(apostrophes and underscores inside words differ)"
)


@pytest.mark.parametrize(
    ("tokenization", "limits", "analyzer", "note"),
    [
        ("word", MILVUS, {"tokenizer": "standard", "filter": ["lowercase"]}, WORD_NOTE),
        ("lowercase", MILVUS, {"tokenizer": "whitespace", "filter": ["lowercase"]}, ""),
        ("whitespace", MILVUS, {"tokenizer": "whitespace"}, ""),
        (
            "lowercase",
            LITE,
            {"tokenizer": "standard", "filter": ["lowercase"]},
            "the target has no whitespace tokenizer: standard (splits at punctuation)",
        ),
        (
            "whitespace",
            LITE,
            {"tokenizer": "standard"},
            "the target has no whitespace tokenizer: standard (splits at punctuation)",
        ),
        ("field", MILVUS, None, "Milvus has no whole-value tokenizer; filter it with == instead"),
        ("trigram", MILVUS, None, "Milvus has no trigram tokenizer"),
        ("gse", MILVUS, {"tokenizer": "jieba"}, "gse (Chinese) becomes jieba"),
        ("gse", LITE, {"tokenizer": "jieba"}, "gse (Chinese) becomes jieba"),
        (
            "kagome_ja",
            ZILLIZ,
            {"tokenizer": {"type": "lindera", "dict_kind": "ipadic"}},
            "kagome_ja becomes lindera (ipadic dictionary)",
        ),
        ("kagome_kr", LITE, None, "the target has no lindera tokenizer"),
        ("klingon", MILVUS, None, "Weaviate tokenization 'klingon' has no Milvus analyzer"),
    ],
)
def test_tokenization_becomes_an_analyzer(
    tokenization: str, limits: Any, analyzer: dict[str, Any] | None, note: str
) -> None:
    assert analyzer_for(tokenization, NONE, limits) == (analyzer, note)


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        (InvertedIndexSpec(), sorted(EN_STOPWORDS)),
        (InvertedIndexSpec(stopwords_preset="none"), []),
        (
            InvertedIndexSpec(stopwords_additions=("demo",), stopwords_removals=("not", "a")),
            sorted({*EN_STOPWORDS, "demo"} - {"not", "a"}),
        ),
        (InvertedIndexSpec(stopwords_preset="none", stopwords_additions=("x",)), ["x"]),
    ],
)
def test_stopwords_are_the_preset_plus_additions_minus_removals(
    spec: InvertedIndexSpec, words: list[str]
) -> None:
    assert stopwords(spec) == words


def test_stopwords_filter_word_queries_only() -> None:
    spec = InvertedIndexSpec(stopwords_preset="none", stopwords_additions=("x",))
    assert analyzer_for("word", spec, MILVUS)[0] == {
        "tokenizer": "standard",
        "filter": ["lowercase", {"type": "stop", "stop_words": ["x"]}],
    }
    assert analyzer_for("lowercase", spec, MILVUS)[0] == {"tokenizer": "whitespace", "filter": ["lowercase"]}


def _field(
    data_type: T, *, filterable: bool = True, ranged: bool = False, limits: Any = MILVUS
) -> str | None:
    prop = PropertySpec(
        name="p", data_type=data_type, index_filterable=filterable, index_range_filters=ranged
    )
    schema = CollectionSchema(name="C", properties=(prop,), vectors=(VectorSpec(name="v", dimension=2),))
    plan = build_plan(schema, TargetProfile.MILVUS, MappingOptions(search_indexes=False, blobs="store"))
    return scalar_index_type(plan.field_for(FieldRole.PROPERTY, "p"), prop, limits)


@pytest.mark.parametrize(
    ("data_type", "filterable", "ranged", "limits", "index"),
    [
        (T.TEXT, True, False, MILVUS, "INVERTED"),
        (T.TEXT_ARRAY, True, False, MILVUS, "INVERTED"),
        (T.INT, True, False, MILVUS, "INVERTED"),
        (T.INT, False, True, MILVUS, "STL_SORT"),
        (T.NUMBER, True, True, MILVUS, "STL_SORT"),
        (T.NUMBER_ARRAY, True, True, MILVUS, "INVERTED"),
        (T.DATE, True, True, MILVUS, "INVERTED"),
        (T.BOOLEAN, True, False, MILVUS, "BITMAP"),
        (T.BOOLEAN_ARRAY, True, False, MILVUS, "BITMAP"),
        (T.UUID, True, False, MILVUS, "INVERTED"),
        (T.TEXT, False, False, MILVUS, None),
        (T.GEO, True, False, MILVUS, None),
        (T.OBJECT, True, False, MILVUS, None),
        (T.BLOB, True, False, MILVUS, None),
        (T.NUMBER, True, True, LITE, "INVERTED"),
        (T.BOOLEAN, True, False, LITE, "INVERTED"),
        (T.TEXT_ARRAY, True, False, LITE, None),
        (T.NUMBER, True, True, ZILLIZ, "AUTOINDEX"),
        (T.TEXT_ARRAY, True, False, ZILLIZ, "AUTOINDEX"),
        (T.PHONE, True, False, ZILLIZ, None),
    ],
)
def test_filterable_properties_get_the_scalar_index_of_their_type_and_target(
    data_type: T, filterable: bool, ranged: bool, limits: Any, index: str | None
) -> None:
    assert _field(data_type, filterable=filterable, ranged=ranged, limits=limits) == index


DEMO_PRODUCTS = {
    "class": "Products",
    "vectorConfig": {"v": {"vectorizer": {"none": {}}, "vectorIndexType": "hnsw"}},
    "invertedIndexConfig": {
        "bm25": {"k1": 1.5, "b": 0.7},
        "stopwords": {"preset": "none", "additions": ["demo"], "removals": None},
    },
    "properties": [
        {"name": "name", "dataType": ["text"]},
        {"name": "body", "dataType": ["text"], "tokenization": "word"},
        {"name": "code", "dataType": ["text"], "tokenization": "field", "indexSearchable": True},
        {"name": "tags", "dataType": ["text[]"], "tokenization": "lowercase"},
        {"name": "hidden", "dataType": ["text"], "indexSearchable": False, "indexFilterable": False},
        {"name": "price", "dataType": ["number"], "indexRangeFilters": True},
    ],
}


def test_class_json_records_search_and_filter_settings() -> None:
    schema = parse_class(DEMO_PRODUCTS)
    assert schema.inverted_index == InvertedIndexSpec(
        bm25_k1=1.5, bm25_b=0.7, stopwords_preset="none", stopwords_additions=("demo",)
    )
    assert [
        (p.name, p.tokenization, p.index_searchable, p.index_filterable, p.index_range_filters)
        for p in schema.properties
    ] == [
        ("name", None, True, True, False),
        ("body", "word", True, True, False),
        ("code", "field", True, True, False),
        ("tags", "lowercase", True, True, False),
        ("hidden", None, False, False, False),
        ("price", None, False, True, True),
    ]


def test_one_bm25_function_per_analyzer_group_with_weaviate_k1_and_b() -> None:
    schema = parse_class(DEMO_PRODUCTS)
    schema = schema.model_copy(update={"vectors": (schema.vectors[0].model_copy(update={"dimension": 2}),)})
    plan = build_plan(schema, TargetProfile.MILVUS)

    assert plan.functions == (
        FunctionPlan(
            name="w2z_text_word_bm25",
            input_field="w2z_text_word",
            output_field="w2z_bm25_word",
            sources=("name", "body"),
            tokenization="word",
        ),
        FunctionPlan(
            name="w2z_text_lowercase_bm25",
            input_field="w2z_text_lowercase",
            output_field="w2z_bm25_lowercase",
            sources=("tags",),
            tokenization="lowercase",
        ),
    )
    word = plan.field("w2z_text_word")
    assert (word.data_type, word.max_length, word.nullable, word.enable_analyzer, word.role) == (
        "VARCHAR",
        65_535,
        True,
        True,
        FieldRole.KEYWORD_TEXT,
    )
    assert word.analyzer_params == {
        "tokenizer": "standard",
        "filter": ["lowercase", {"type": "stop", "stop_words": ["demo"]}],
    }
    assert plan.field("w2z_bm25_word").data_type == "SPARSE_FLOAT_VECTOR"
    assert [i for i in plan.indexes if i.metric == "BM25"] == [
        IndexPlan(
            field=f"w2z_bm25_{g}",
            index_type="SPARSE_INVERTED_INDEX",
            metric="BM25",
            params={"bm25_k1": 1.5, "bm25_b": 0.7},
        )
        for g in ("word", "lowercase")
    ]
    assert [(i.field, i.index_type) for i in plan.indexes if i.metric == ""] == [
        ("name", "INVERTED"),
        ("body", "INVERTED"),
        ("code", "INVERTED"),
        ("tags", "INVERTED"),
        ("price", "STL_SORT"),
    ]
    assert (
        "property 'code' (field) is left out of keyword search: Milvus has no whole-value tokenizer; filter it with == instead"
        in plan.notes
    )


def test_search_indexes_off_plans_vectors_only_and_says_so() -> None:
    schema = parse_class(DEMO_PRODUCTS)
    schema = schema.model_copy(update={"vectors": (schema.vectors[0].model_copy(update={"dimension": 2}),)})
    plan = build_plan(schema, TargetProfile.MILVUS, MappingOptions(search_indexes=False))

    assert plan.functions == ()
    assert [i.field for i in plan.indexes] == ["v"]
    assert plan.fields_with(FieldRole.KEYWORD_TEXT, FieldRole.SPARSE) == ()
    assert plan.notes == ("keyword search and filter indexes are not carried (W2Z_SEARCH_INDEXES=false)",)


@pytest.mark.parametrize(
    ("vector", "keyword", "alpha", "expected"),
    [
        (["a", "b"], ["b", "c"], 0.5, [("b", 0.5 / 61 + 0.5 / 60), ("a", 0.5 / 60), ("c", 0.5 / 61)]),
        (["a"], ["b"], 0.75, [("a", 0.75 / 60), ("b", 0.25 / 60)]),
        ([], ["x", "y"], 0.5, [("x", 0.5 / 60), ("y", 0.5 / 61)]),
    ],
)
def test_ranked_fusion_adds_weight_over_rank_plus_60_as_weaviate(
    vector: list[str], keyword: list[str], alpha: float, expected: list[tuple[str, float]]
) -> None:
    fused = ranked_fusion(vector, keyword, alpha)
    assert [key for key, _ in fused] == [key for key, _ in expected]
    assert [score for _, score in fused] == pytest.approx([score for _, score in expected])
