"""Vector search over several target vectors, combined as Weaviate's `CombineMultiTargetResults`.

Two l2-squared spaces `a` and `b`, both queried at the origin, so each distance is the squared norm:

    object  a        d_a  b          d_b
    O0      (1, 0)   1    (3, 0)     9
    O1      (2, 0)   4    (1.5, 0)   2.25
    O2      (0, 0)   0    (4, 0)     16
    O3      (1, 1)   2    (2, 0)     4
    O4      (3, 0)   9    -          -

Each target contributes its `limit` nearest; `minimum` looks only at the targets that found an
object, the weighted joins compute the missing distances and drop O4 (no `b` vector).
"""

from __future__ import annotations

import uuid

import pytest
import weaviate
from weaviate.classes.config import Configure, DataType, Property, VectorDistances
from weaviate.classes.data import DataObject
from weaviate.classes.query import HybridVector, MetadataQuery, TargetVectors
from weaviate.collections import Collection
from weaviate.exceptions import WeaviateQueryError

from w2z_dagster_tests.support.weaviate_server.vectorizer import embed

OBJ = [uuid.uuid5(uuid.NAMESPACE_URL, f"targets/{i}") for i in range(5)]
ORIGIN = {"a": [0.0, 0.0], "b": [0.0, 0.0]}


@pytest.fixture
def spaces(weaviate_client: weaviate.WeaviateClient) -> Collection:
    l2 = Configure.VectorIndex.flat(distance_metric=VectorDistances.L2_SQUARED)
    collection = weaviate_client.collections.create(
        "Spaces",
        vector_config=[
            Configure.Vectors.self_provided(name="a", vector_index_config=l2),
            Configure.Vectors.self_provided(name="b", vector_index_config=l2),
        ],
    )
    vectors = [
        {"a": [1.0, 0.0], "b": [3.0, 0.0]},
        {"a": [2.0, 0.0], "b": [1.5, 0.0]},
        {"a": [0.0, 0.0], "b": [4.0, 0.0]},
        {"a": [1.0, 1.0], "b": [2.0, 0.0]},
        {"a": [3.0, 0.0]},
    ]
    result = collection.data.insert_many(
        [DataObject({}, uuid=u, vector=v) for u, v in zip(OBJ, vectors, strict=True)]
    )
    assert not result.has_errors
    return collection


def _near(collection: Collection, target, limit: int, vector=ORIGIN) -> list[tuple[uuid.UUID, float]]:
    result = collection.query.near_vector(
        vector, target_vector=target, limit=limit, return_metadata=MetadataQuery(distance=True)
    )
    return [(o.uuid, o.metadata.distance) for o in result.objects]


def test_minimum_is_the_default_and_sees_only_the_targets_that_found_the_object(spaces: Collection) -> None:
    assert _near(spaces, ["a", "b"], 2) == [(OBJ[2], 0.0), (OBJ[0], 1.0)]
    assert _near(spaces, TargetVectors.minimum(["a", "b"]), 4) == [
        (OBJ[2], 0.0),
        (OBJ[0], 1.0),
        (OBJ[3], 2.0),
        (OBJ[1], 2.25),
    ]
    assert _near(spaces, ["a", "b"], 4, vector=[0.0, 0.0]) == [
        (OBJ[2], 0.0),
        (OBJ[0], 1.0),
        (OBJ[3], 2.0),
        (OBJ[1], 2.25),
    ]


def test_weighted_joins_fill_missing_distances_and_drop_objects_without_a_target(spaces: Collection) -> None:
    assert _near(spaces, TargetVectors.sum(["a", "b"]), 2) == [(OBJ[3], 6.0), (OBJ[1], 6.25)]
    assert _near(spaces, TargetVectors.sum(["a", "b"]), 5) == [
        (OBJ[3], 6.0),
        (OBJ[1], 6.25),
        (OBJ[0], 10.0),
        (OBJ[2], 16.0),
    ]
    assert _near(spaces, TargetVectors.average(["a", "b"]), 5) == [
        (OBJ[3], 3.0),
        (OBJ[1], 3.125),
        (OBJ[0], 5.0),
        (OBJ[2], 8.0),
    ]
    assert _near(spaces, TargetVectors.manual_weights({"a": 2, "b": 0.5}), 5) == [
        (OBJ[3], 6.0),
        (OBJ[0], 6.5),
        (OBJ[2], 8.0),
        (OBJ[1], 9.125),
    ]


def test_relative_score_normalises_each_target(spaces: Collection) -> None:
    b_range = 16 - 2.25
    expected = [
        (OBJ[3], 0.5 + 2 * (4 - 2.25) / b_range),
        (OBJ[1], 1.0),
        (OBJ[0], 0.25 + 2 * (9 - 2.25) / b_range),
        (OBJ[2], 2.0),
    ]
    got = _near(spaces, TargetVectors.relative_score({"a": 1, "b": 2}), 5)
    assert [u for u, _ in got] == [u for u, _ in expected]
    assert [d for _, d in got] == pytest.approx([d for _, d in expected], rel=1e-6)


def test_hybrid_scores_the_combined_distance(spaces: Collection) -> None:
    result = spaces.query.hybrid(
        "",
        vector=HybridVector.near_vector(ORIGIN),
        target_vector=TargetVectors.sum(["a", "b"]),
        alpha=1.0,
        return_metadata=MetadataQuery(score=True),
    )
    # relative score fusion of 1 - distance: -5, -5.25, -9, -15 normalised to [0, 1]
    assert [(o.uuid, o.metadata.score) for o in result.objects] == [
        (OBJ[3], 1.0),
        (OBJ[1], pytest.approx(0.975, rel=1e-6)),
        (OBJ[0], pytest.approx(0.6, rel=1e-6)),
        (OBJ[2], 0.0),
    ]


def test_target_vector_errors(spaces: Collection) -> None:
    with pytest.raises(WeaviateQueryError, match="does not have named vector c configured"):
        spaces.query.near_vector([0.0, 0.0], target_vector=["a", "c"])
    with pytest.raises(
        WeaviateQueryError, match="distance or certainty thresholds over several target vectors"
    ):
        spaces.query.near_vector(ORIGIN, target_vector=TargetVectors.sum(["a", "b"]), distance=1.0)


def test_near_text_over_several_vectorized_targets(weaviate_client: weaviate.WeaviateClient) -> None:
    """Each target embeds the query with its own (stand-in) module; the cosine distances are summed."""
    collection = weaviate_client.collections.create(
        "Doc",
        vector_config=[
            Configure.Vectors.text2vec_openai(
                name="t", dimensions=256, source_properties=["title"], vectorize_collection_name=False
            ),
            Configure.Vectors.text2vec_openai(
                name="b", dimensions=256, source_properties=["body"], vectorize_collection_name=False
            ),
        ],
        properties=[
            Property(name="title", data_type=DataType.TEXT),
            Property(name="body", data_type=DataType.TEXT),
        ],
    )
    rows = [("red apple", "a fruit"), ("green pear", "red fruit")]
    ids = [collection.data.insert({"title": t, "body": b}) for t, b in rows]
    query = embed("red fruit", 256)

    def cosine(text: str) -> float:
        return 1 - float(embed(text, 256) @ query)

    expected = sorted(
        ((i, cosine(t) + cosine(b)) for i, (t, b) in zip(ids, rows, strict=True)), key=lambda pair: pair[1]
    )
    result = collection.query.near_text(
        "red fruit", target_vector=TargetVectors.sum(["t", "b"]), return_metadata=MetadataQuery(distance=True)
    )
    assert [(o.uuid, o.metadata.distance) for o in result.objects] == [
        (i, pytest.approx(d, abs=1e-6)) for i, d in expected
    ]
