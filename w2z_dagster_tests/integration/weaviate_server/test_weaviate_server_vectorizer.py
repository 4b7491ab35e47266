"""The stand-in vectorizer: the text Weaviate would send to the module, the model's dimension, and
vectors that are the same in every process; `near_text` and object updates use it the same way."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import weaviate
from weaviate.classes.config import Configure, DataType, Property
from weaviate.classes.query import MetadataQuery
from weaviate.collections import Collection

from w2z_dagster_tests.support.weaviate_server.vectorizer import embed

HELLO_WORLD_4 = "122aee3e35a5283f325617bf8ef857bc"
"""embed("hello world", 4) as little-endian float32 bytes, pinned so a changed hash shows up."""


def _vector(collection: Collection, object_id: str, name: str = "default") -> np.ndarray:
    obj = collection.query.fetch_object_by_id(object_id, include_vector=True)
    assert obj is not None
    return np.asarray(obj.vector[name], dtype=np.float32)


def _props(*names: str, **special: dict) -> list[Property]:
    return [
        Property(
            name=n,
            data_type=DataType.INT if n == "stars" else DataType.TEXT_ARRAY if n == "tags" else DataType.TEXT,
            **{"vectorize_property_name": False, **special.get(n, {})},
        )
        for n in names
    ]


@pytest.fixture
def reviews(weaviate_client: weaviate.WeaviateClient) -> Collection:
    return weaviate_client.collections.create(
        "ProductReview",
        vectorizer_config=Configure.Vectorizer.text2vec_openai(),
        properties=_props(
            "title",
            "body",
            "secret",
            "tags",
            "stars",
            body={"vectorize_property_name": True},
            secret={"skip_vectorization": True},
        ),
    )


def test_embedded_text_is_class_name_then_properties_in_name_order(reviews: Collection) -> None:
    object_id = reviews.data.insert(
        {"title": "Great", "body": "Works well", "secret": "x", "tags": ["a b", "c"], "stars": 5}
    )
    assert np.array_equal(
        _vector(reviews, str(object_id)), embed("Product Review body Works well a b c Great", 1536)
    )
    only_numbers = reviews.data.insert({"stars": 3})
    assert np.array_equal(_vector(reviews, str(only_numbers)), embed("Product Review", 1536))


def test_source_properties_include_non_text_values_and_set_the_dimension(
    weaviate_client: weaviate.WeaviateClient,
) -> None:
    collection = weaviate_client.collections.create(
        "Item",
        vector_config=[
            Configure.Vectors.text2vec_openai(
                name="large", model="text-embedding-3-large", source_properties=["title", "stars"]
            ),
            Configure.Vectors.text2vec_openai(name="small", dimensions=256, vectorize_collection_name=False),
            Configure.Vectors.text2vec_cohere(name="cohere", model="embed-english-light-v3.0"),
            Configure.Vectors.text2vec_contextionary(name="c11y", vectorize_collection_name=False),
        ],
        properties=_props("title", "stars"),
    )
    object_id = str(collection.data.insert({"title": "Lamp", "stars": 4}))
    vectors = collection.query.fetch_object_by_id(object_id, include_vector=True).vector
    assert {n: len(v) for n, v in vectors.items()} == {
        "large": 3072,
        "small": 256,
        "cohere": 384,
        "c11y": 300,
    }
    assert np.array_equal(np.float32(vectors["large"]), embed("Item 4 Lamp", 3072))
    assert np.array_equal(np.float32(vectors["small"]), embed("Lamp", 256))
    assert np.array_equal(np.float32(vectors["cohere"]), embed("Item Lamp", 384))


def test_vectors_are_the_same_in_every_process() -> None:
    assert embed("hello world", 4).tobytes().hex() == HELLO_WORLD_4
    code = (
        "from w2z_dagster_tests.support.weaviate_server.vectorizer import embed;"
        "print(embed('hello world', 4).tobytes().hex(), embed('Wine Review', 1536).tobytes().hex())"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert outputs == {f"{HELLO_WORLD_4} {embed('Wine Review', 1536).tobytes().hex()}\n"}


def test_near_text_embeds_the_query_the_same_way(reviews: Collection) -> None:
    ids = {
        title: str(reviews.data.insert({"title": title}))
        for title in ("red apple pie", "green apple", "blue whale song")
    }
    result = reviews.query.near_text("apple", limit=3, return_metadata=MetadataQuery(distance=True))
    query = embed("apple", 1536).astype(np.float64)
    expected = {
        title: 1 - float(embed(f"Product Review {title}", 1536).astype(np.float64) @ query) for title in ids
    }
    assert [o.properties["title"] for o in result.objects] == sorted(expected, key=expected.get)
    assert [o.metadata.distance for o in result.objects] == pytest.approx(sorted(expected.values()), abs=1e-6)
    limited = reviews.query.near_text("apple", distance=sorted(expected.values())[1] + 1e-6)
    assert len(limited.objects) == 2


def test_a_given_vector_wins_and_updates_re_vectorize(reviews: Collection) -> None:
    object_id = str(reviews.data.insert({"title": "Old"}, vector=[0.5] * 1536))
    assert np.array_equal(_vector(reviews, object_id), np.full(1536, 0.5, dtype=np.float32))
    reviews.data.update(object_id, {"body": "New body"})
    assert np.array_equal(_vector(reviews, object_id), embed("Product Review body New body Old", 1536))
    reviews.data.replace(object_id, {"title": "Replaced"})
    assert np.array_equal(_vector(reviews, object_id), embed("Product Review Replaced", 1536))
