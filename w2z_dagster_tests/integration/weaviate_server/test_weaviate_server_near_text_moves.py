"""`near_text` with move_to / move_away, as Weaviate's `searcher_movements.go` moves the query.

to: `v (1 - f/2) + t f/2` (force f in [0, 1]); away: `v + f/2 (v - t)`; `t` the mean of the
concepts' embedding and the named objects' vectors. The embeddings are the stand-in vectorizer's.
"""

from __future__ import annotations

import numpy as np
import pytest
import weaviate
from weaviate.classes.config import Configure, DataType, Property
from weaviate.classes.query import MetadataQuery, Move
from weaviate.collections import Collection
from weaviate.exceptions import WeaviateQueryError

from w2z_dagster_tests.support.weaviate_server.vectorizer import embed

DIMS = 256
TITLES = ["apple pie", "apple juice", "cherry pie", "green tea"]


@pytest.fixture
def food(weaviate_client: weaviate.WeaviateClient) -> tuple[Collection, list, np.ndarray]:
    collection = weaviate_client.collections.create(
        "Food",
        vector_config=Configure.Vectors.text2vec_openai(dimensions=DIMS, vectorize_collection_name=False),
        properties=[Property(name="title", data_type=DataType.TEXT)],
    )
    ids = [collection.data.insert({"title": t}) for t in TITLES]
    stored = np.stack([embed(t, DIMS) for t in TITLES])
    return collection, ids, stored


def _expected(ids: list, stored: np.ndarray, query: np.ndarray) -> list:
    unit = query / np.linalg.norm(query)
    distances = 1 - stored @ unit
    order = np.argsort(distances, kind="stable")
    return [(ids[i], pytest.approx(float(distances[i]), abs=1e-6)) for i in order]


def _search(collection: Collection, **kwargs) -> list:
    result = collection.query.near_text("apple", return_metadata=MetadataQuery(distance=True), **kwargs)
    return [(o.uuid, o.metadata.distance) for o in result.objects]


def test_move_to_concepts_and_away_from_objects(food: tuple[Collection, list, np.ndarray]) -> None:
    collection, ids, stored = food
    query = embed("apple", DIMS)
    toward = query * (1 - 0.8 / 2) + embed("cherry", DIMS) * (0.8 / 2)
    assert _search(collection, move_to=Move(force=0.8, concepts="cherry")) == _expected(ids, stored, toward)
    away = toward + 1.0 / 2 * (toward - stored[1])
    moved = _search(
        collection, move_to=Move(force=0.8, concepts="cherry"), move_away=Move(force=1.0, objects=ids[1])
    )
    assert moved == _expected(ids, stored, away)


def test_move_to_a_mean_of_concepts_and_objects(food: tuple[Collection, list, np.ndarray]) -> None:
    collection, ids, stored = food
    target = (embed("tea", DIMS) + stored[3]) / 2
    query = embed("apple", DIMS) * (1 - 0.5 / 2) + target * (0.5 / 2)
    got = _search(collection, move_to=Move(force=0.5, concepts="tea", objects=ids[3]))
    assert got == _expected(ids, stored, query)


def test_move_force_zero_is_no_move_and_above_one_is_refused(
    food: tuple[Collection, list, np.ndarray],
) -> None:
    collection, ids, stored = food
    assert _search(collection, move_away=Move(force=0.0, concepts="pie")) == _expected(
        ids, stored, embed("apple", DIMS)
    )
    with pytest.raises(WeaviateQueryError, match=r"movement: force must be between 0 and 1: got 1\.500000"):
        _search(collection, move_to=Move(force=1.5, concepts="pie"))
