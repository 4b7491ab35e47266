"""Weaviate's class JSON read into the typed schema, for every vector layout."""

import pytest

from w2z_dagster.core.class_json import parse_class
from w2z_dagster.core.schema import WeaviateType


def test_properties_references_and_nested_objects() -> None:
    schema = parse_class(
        {
            "class": "Article",
            "properties": [
                {"name": "title", "dataType": ["text"]},
                {"name": "legacy", "dataType": ["string[]"]},
                {
                    "name": "meta",
                    "dataType": ["object"],
                    "nestedProperties": [{"name": "a", "dataType": ["int"]}],
                },
                {"name": "author", "dataType": ["Author"]},
                {"name": "about", "dataType": ["Author", "Topic"]},
            ],
            "multiTenancyConfig": {"enabled": True},
        }
    )
    assert [(p.name, p.data_type) for p in schema.properties] == [
        ("title", WeaviateType.TEXT),
        ("legacy", WeaviateType.TEXT_ARRAY),
        ("meta", WeaviateType.OBJECT),
        ("author", WeaviateType.REFERENCE),
        ("about", WeaviateType.REFERENCE),
    ]
    assert schema.properties[2].nested[0].data_type is WeaviateType.INT
    assert schema.properties[4].reference_targets == ("Author", "Topic")
    assert schema.multi_tenant


@pytest.mark.parametrize("distance_key", ["distance", "distanceMetric"])
def test_legacy_and_named_vectors(distance_key: str) -> None:
    schema = parse_class(
        {
            "class": "Mixed",
            "vectorizer": "none",
            "vectorIndexType": "flat",
            "vectorIndexConfig": {distance_key: "l2-squared"},
            "vectorConfig": {
                "body": {
                    "vectorIndexType": "hnsw",
                    "vectorIndexConfig": {distance_key: "dot", "maxConnections": 32, "efConstruction": 128},
                },
                "colbert": {
                    "vectorIndexType": "hnsw",
                    "vectorIndexConfig": {"multivector": {"enabled": True}},
                },
                "fast": {
                    "vectorIndexType": "dynamic",
                    "vectorIndexConfig": {distance_key: "cosine", "hnsw": {"maxConnections": 16}},
                },
            },
        }
    )
    assert [(v.name, v.legacy, v.index_type, v.distance, v.multi) for v in schema.vectors] == [
        ("default", True, "flat", "l2-squared", False),
        ("body", False, "hnsw", "dot", False),
        ("colbert", False, "hnsw", "cosine", True),
        ("fast", False, "dynamic", "cosine", False),
    ]
    assert schema.vectors[1].index_params == {"maxConnections": 32, "efConstruction": 128}
    assert schema.vectors[3].index_params == {"maxConnections": 16}


def test_unknown_type_is_named() -> None:
    with pytest.raises(ValueError, match="property 'x' has Weaviate type 'vector', which w2z does not know"):
        parse_class({"class": "C", "properties": [{"name": "x", "dataType": ["vector"]}]})


def test_vectorizer_modules_models_and_descriptions_are_read() -> None:
    schema = parse_class(
        {
            "class": "Docs",
            "description": "Support articles",
            "vectorizer": "text2vec-cohere",
            "moduleConfig": {"text2vec-cohere": {"model": "embed-multilingual-v3.0"}},
            "vectorIndexConfig": {"distance": "cosine"},
            "vectorConfig": {
                "body": {"vectorizer": {"text2vec-openai": {"model": "text-embedding-3-small"}}},
                "gecko": {"vectorizer": {"text2vec-google": {"modelId": "textembedding-gecko"}}},
                "local": {"vectorizer": {"text2vec-transformers": {"poolingStrategy": "masked_mean"}}},
                "own": {"vectorizer": {"none": {}}},
            },
            "properties": [{"name": "body", "dataType": ["text"], "description": "the text"}],
        }
    )
    assert schema.description == "Support articles"
    assert schema.properties[0].description == "the text"
    assert [(v.name, v.vectorizer, v.model) for v in schema.vectors] == [
        ("default", "text2vec-cohere", "embed-multilingual-v3.0"),
        ("body", "text2vec-openai", "text-embedding-3-small"),
        ("gecko", "text2vec-google", "textembedding-gecko"),
        ("local", "text2vec-transformers", None),
        ("own", None, None),
    ]
