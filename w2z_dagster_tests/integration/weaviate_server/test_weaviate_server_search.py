"""Searches through the client: filters, near_vector ranking against numpy, counts, rejected features."""

from __future__ import annotations

import datetime as dt
import uuid

import numpy as np
import pytest
import weaviate
from weaviate.classes.aggregate import Metrics
from weaviate.classes.config import Configure, DataType, Property, Tokenization, VectorDistances
from weaviate.classes.data import DataObject
from weaviate.classes.query import Filter, GroupBy, MetadataQuery, Sort
from weaviate.collections import Collection
from weaviate.exceptions import WeaviateQueryError

DISTANCES = [d for d in VectorDistances]
DIM = 8
COUNT = 60


def _key(i: int) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_OID, str(i))


@pytest.fixture
def rows() -> list[dict]:
    day = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    return [
        {
            "title": ["Hello World", "hello there", "Goodbye world", "other"][i % 4],
            "code": ["A-1", "a-1", "B 2"][i % 3],
            "n": i,
            "x": i / 4,
            "flag": i % 2 == 0,
            "when": day + dt.timedelta(days=i),
            "tags": [f"t{i % 5}", f"t{(i + 1) % 5}"],
        }
        for i in range(20)
    ]


@pytest.fixture
def filterable(weaviate_client: weaviate.WeaviateClient, rows: list[dict]) -> Collection:
    collection = weaviate_client.collections.create(
        "Filtered",
        properties=[
            Property(name="title", data_type=DataType.TEXT),
            Property(name="code", data_type=DataType.TEXT, tokenization=Tokenization.FIELD),
            Property(name="n", data_type=DataType.INT),
            Property(name="x", data_type=DataType.NUMBER),
            Property(name="flag", data_type=DataType.BOOL),
            Property(name="when", data_type=DataType.DATE),
            Property(name="tags", data_type=DataType.TEXT_ARRAY),
        ],
        inverted_index_config=Configure.inverted_index(index_timestamps=True, index_null_state=True),
    )
    collection.data.insert_many([DataObject(properties=row, uuid=_key(row["n"])) for row in rows])
    return collection


def _ns(collection: Collection, flt: Filter) -> list[int]:
    return [o.properties["n"] for o in collection.query.fetch_objects(filters=flt, limit=100).objects]


def test_filters_on_id_and_scalar_properties(filterable: Collection) -> None:
    prop = Filter.by_property
    assert _ns(filterable, Filter.by_id().equal(_key(7))) == [7]
    assert _ns(filterable, Filter.by_id().contains_any([_key(3), _key(11)])) == [3, 11]
    assert _ns(filterable, prop("title").equal("hello")) == [0, 1, 4, 5, 8, 9, 12, 13, 16, 17]
    assert _ns(filterable, prop("title").equal("Hello World")) == [0, 4, 8, 12, 16]
    assert _ns(filterable, prop("code").equal("A-1")) == [0, 3, 6, 9, 12, 15, 18]
    assert _ns(filterable, prop("code").not_equal("A-1")) == [1, 2, 4, 5, 7, 8, 10, 11, 13, 14, 16, 17, 19]
    assert _ns(filterable, prop("n").greater_than(16)) == [17, 18, 19]
    assert _ns(filterable, prop("n").less_or_equal(1)) == [0, 1]
    assert _ns(filterable, prop("x").greater_or_equal(4.5)) == [18, 19]
    assert _ns(filterable, prop("flag").equal(False) & prop("n").less_than(6)) == [1, 3, 5]
    assert _ns(filterable, prop("n").equal(2) | prop("n").equal(15)) == [2, 15]
    assert _ns(filterable, prop("when").greater_than(dt.datetime(2024, 1, 18, tzinfo=dt.UTC))) == [18, 19]
    assert _ns(filterable, prop("tags").contains_any(["t0"])) == [0, 4, 5, 9, 10, 14, 15, 19]
    assert _ns(filterable, prop("tags").contains_all(["t1", "t2"])) == [1, 6, 11, 16]
    assert _ns(filterable, prop("title").like("good*") & prop("n").less_than(8)) == [2, 6]
    assert _ns(filterable, prop("tags").is_none(True)) == []
    assert _ns(
        filterable, Filter.by_creation_time().greater_than(dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    ) == list(range(20))


def test_filtered_lists_come_back_in_write_order(filterable: Collection) -> None:
    filterable.data.insert_many([DataObject(properties={"n": 0, "title": "rewritten"}, uuid=_key(0))])
    assert _ns(filterable, Filter.by_property("n").less_than(3)) == [1, 2, 0]
    assert [
        o.properties["n"]
        for o in filterable.query.fetch_objects(
            filters=Filter.by_property("n").less_than(6), offset=2, limit=2
        ).objects
    ] == [3, 4]


def test_counts_with_and_without_filters(filterable: Collection) -> None:
    assert len(filterable) == 20
    assert filterable.aggregate.over_all(total_count=True).total_count == 20
    flt = Filter.by_property("flag").equal(True)
    assert filterable.aggregate.over_all(total_count=True, filters=flt).total_count == 10


@pytest.fixture
def vectors(weaviate_client: weaviate.WeaviateClient) -> tuple[Collection, dict[str, np.ndarray]]:
    collection = weaviate_client.collections.create(
        "Vectors",
        properties=[Property(name="n", data_type=DataType.INT)],
        vector_config=[
            *(
                Configure.Vectors.self_provided(
                    name=d.value.replace("-", "_"),
                    vector_index_config=Configure.VectorIndex.hnsw(distance_metric=d),
                )
                for d in DISTANCES
            ),
            Configure.MultiVectors.self_provided(name="colbert"),
        ],
    )
    rng = np.random.default_rng(11)
    data = {d.value: rng.standard_normal((COUNT, DIM)).astype(np.float32) for d in DISTANCES}
    data["hamming"] = rng.integers(0, 3, (COUNT, DIM)).astype(np.float32)
    data["colbert"] = rng.standard_normal((COUNT, 3, DIM)).astype(np.float32)
    objects = [
        DataObject(
            properties={"n": i},
            uuid=_key(i),
            vector={
                **{d.value.replace("-", "_"): data[d.value][i].tolist() for d in DISTANCES},
                "colbert": data["colbert"][i].tolist(),
            },
        )
        for i in range(COUNT)
    ]
    collection.data.insert_many(objects)
    return collection, data


def _brute_force(metric: str, stored: np.ndarray, query: np.ndarray) -> np.ndarray:
    a, q = stored.astype(np.float64), query.astype(np.float64)
    if metric == "cosine":
        return 1 - a @ q / (np.linalg.norm(a, axis=1) * np.linalg.norm(q))
    if metric == "dot":
        return -(a @ q)
    if metric == "l2-squared":
        return ((a - q) ** 2).sum(axis=1)
    if metric == "manhattan":
        return np.abs(a - q).sum(axis=1)
    return (a != q).sum(axis=1).astype(np.float64)


@pytest.mark.parametrize("metric", [d.value for d in DISTANCES])
def test_near_vector_ranks_like_numpy_brute_force(
    vectors: tuple[Collection, dict[str, np.ndarray]], metric: str
) -> None:
    collection, data = vectors
    query = (
        np.random.default_rng(5).integers(0, 3, DIM)
        if metric == "hamming"
        else np.random.default_rng(5).standard_normal(DIM)
    ).astype(np.float32)
    by_uuid = sorted(range(COUNT), key=lambda i: _key(i).bytes)
    expected_d = _brute_force(metric, data[metric][by_uuid], query)
    order = np.argsort(expected_d, kind="stable")[:10]
    result = collection.query.near_vector(
        query.tolist(),
        target_vector=metric.replace("-", "_"),
        limit=10,
        return_metadata=MetadataQuery(distance=True),
    )
    assert [o.properties["n"] for o in result.objects] == [by_uuid[i] for i in order]
    assert np.allclose([o.metadata.distance for o in result.objects], expected_d[order], atol=1e-4)


def test_multi_vector_late_interaction_and_thresholds(
    vectors: tuple[Collection, dict[str, np.ndarray]],
) -> None:
    collection, data = vectors
    query = np.random.default_rng(9).standard_normal((2, DIM)).astype(np.float32)
    docs = data["colbert"] / np.linalg.norm(data["colbert"], axis=2, keepdims=True)
    q = query / np.linalg.norm(query, axis=1, keepdims=True)
    scores = np.array([-(q @ d.T).max(axis=1).sum() for d in docs])
    result = collection.query.near_vector(query.tolist(), target_vector="colbert", limit=5)
    assert [o.properties["n"] for o in result.objects] == list(np.argsort(scores, kind="stable")[:5])
    cosine = collection.query.near_vector(
        data["cosine"][3].tolist(),
        target_vector="cosine",
        distance=0.5,
        limit=100,
        return_metadata=MetadataQuery(distance=True, certainty=True),
    )
    assert cosine.objects[0].properties["n"] == 3
    assert all(o.metadata.distance <= 0.5 for o in cosine.objects)
    assert cosine.objects[0].metadata.certainty == pytest.approx(1.0, abs=1e-6)
    filtered = collection.query.near_vector(
        data["dot"][3].tolist(), target_vector="dot", filters=Filter.by_property("n").less_than(3), limit=100
    )
    assert sorted(o.properties["n"] for o in filtered.objects) == [0, 1, 2]
    with pytest.raises(WeaviateQueryError, match="has multiple vectors, but no target vectors were provided"):
        collection.query.near_vector(data["dot"][3].tolist())
    with pytest.raises(WeaviateQueryError, match="regular vector but vector index supports multi vectors"):
        collection.query.near_vector(data["dot"][3].tolist(), target_vector="colbert")


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.query.fetch_objects(sort=Sort.by_property("n")),
        lambda c: c.query.near_object(_key(1)),
        lambda c: c.query.near_vector([0.0] * DIM, target_vector="cosine", auto_limit=2),
        lambda c: c.query.near_vector(
            [0.0] * DIM,
            target_vector="cosine",
            group_by=GroupBy(prop="n", number_of_groups=2, objects_per_group=1),
        ),
        lambda c: c.aggregate.over_all(return_metrics=Metrics("n").integer(sum_=True)),
        lambda c: c.generate.fetch_objects(single_prompt="Summarise {n}"),
    ],
    ids=[
        "sort",
        "near_object",
        "autocut",
        "group_by",
        "metrics",
        "generative",
    ],
)
def test_unimplemented_features_are_rejected(vectors: tuple[Collection, dict[str, np.ndarray]], call) -> None:
    collection, _ = vectors
    with pytest.raises(Exception, match="is not implemented"):
        call(collection)
