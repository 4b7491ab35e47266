"""Issue 17: keyword search and filter indexes carried, read back from Milvus Lite as planned."""

from __future__ import annotations

import json
from typing import Any

import dagster as dg
from pymilvus import DataType, FunctionType, MilvusClient

from w2z_dagster.core.keyword import EN_STOPWORDS
from w2z_dagster_tests.support.seeding import failed, migrate
from w2z_dagster_tests.support.weaviate_server import WeaviateTestServer

WORD_STOPWORDS = sorted((set(EN_STOPWORDS) | {"demo"}) - {"not"})


def _fields(described: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in described["fields"]}


def test_demo_products_migrate_with_analyzers_bm25_functions_and_scalar_indexes(
    weaviate_server: WeaviateTestServer,
    instance: dg.DagsterInstance,
    resources: dict[str, Any],
    milvus_uri: str,
) -> None:
    weaviate_server.seed_demo()

    result = migrate(instance, resources, "DemoProducts")

    assert result.success
    assert failed(result) == set()
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
