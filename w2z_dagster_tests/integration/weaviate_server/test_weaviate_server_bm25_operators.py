"""BM25 search operators over several properties, against scores computed by hand.

`or` with a minimum match and `and` hold per property (`bm25_searcher_block.go`: one
`minimumOrTokensMatch` per property job), so tokens matched in different properties do not add up.
`and_cross` (`DoBlockMaxAndCrossProp`, `segment_blockmax_merged.go`) needs every query term in some
searched property and sums every property's term scores. The client sends `and_cross` only to
Weaviate 1.37.15, 1.38.8 or 1.39.0 and above, so the server here reports 1.39.0.
"""

from __future__ import annotations

import math

import pytest
import weaviate
from weaviate.classes.config import Configure, DataType, Property, Tokenization
from weaviate.classes.query import BM25Operator, MetadataQuery
from weaviate.collections import Collection
from weaviate.exceptions import WeaviateQueryError, WeaviateUnsupportedFeatureError

from w2z_dagster_tests.support.weaviate_server.server import start_server

K1, B = 1.2, 0.75
AVG = (8 / 3 + 4) / 2
"""Mean of the title mean length (3, 3, 2) and the body mean length (7, 2, 3)."""
IDF_1_OF_3 = math.log(1 + (3 - 1 + 0.5) / (1 + 0.5))
IDF_2_OF_3 = math.log(1 + (3 - 2 + 0.5) / (2 + 0.5))
BOTH = ["title", "body"]

ON_1_39 = pytest.mark.parametrize("weaviate_server", [{"version": "1.39.0"}], indirect=True)


def _tf(freq: int, length: int) -> float:
    return freq / (freq + K1 * (1 - B + B * length / AVG))


@pytest.fixture
def notes(weaviate_client: weaviate.WeaviateClient) -> tuple[Collection, list[str]]:
    collection = weaviate_client.collections.create(
        "Note",
        vector_config=Configure.Vectors.self_provided(),
        properties=[
            Property(name="title", data_type=DataType.TEXT),
            Property(name="body", data_type=DataType.TEXT),
            Property(name="code", data_type=DataType.TEXT, tokenization=Tokenization.FIELD),
        ],
    )
    rows = [
        {"title": "Quick brown fox", "body": "the fox jumps over the lazy dog", "code": "quick"},
        {"title": "Quick quick rabbit", "body": "rabbit runs", "code": "rabbit"},
        {"title": "Lazy dog", "body": "sleeps all day", "code": "dog"},
    ]
    return collection, [str(collection.data.insert(props, vector=[1.0, 0.0])) for props in rows]


def _search(collection: Collection, query: str, operator, properties: list[str] = BOTH):
    result = collection.query.bm25(
        query,
        query_properties=properties,
        operator=operator,
        return_metadata=MetadataQuery(score=True, explain_score=True),
    )
    return [(str(o.uuid), o.metadata.score, o.metadata.explain_score) for o in result.objects]


@ON_1_39
def test_and_cross_needs_every_term_in_some_property(notes: tuple[Collection, list[str]]) -> None:
    collection, (d0, _, _) = notes
    assert _search(collection, "quick dog", BM25Operator.and_()) == []
    assert _search(collection, "quick dog", BM25Operator.and_cross()) == [
        (
            d0,
            pytest.approx(IDF_2_OF_3 * _tf(1, 3) + IDF_1_OF_3 * _tf(1, 7), rel=1e-6),
            ", BM25F_dog_frequency:1, BM25F_dog_propLength:7, BM25F_quick_frequency:1, BM25F_quick_propLength:3",
        )
    ]


@ON_1_39
def test_and_cross_sums_every_property_holding_a_term(notes: tuple[Collection, list[str]]) -> None:
    collection, (d0, d1, d2) = notes
    rabbit = _search(collection, "rabbit quick", BM25Operator.and_cross())
    assert rabbit == [
        (
            d1,
            pytest.approx(IDF_2_OF_3 * _tf(2, 3) + IDF_1_OF_3 * (_tf(1, 3) + _tf(1, 2)), rel=1e-6),
            ", BM25F_quick_frequency:2, BM25F_quick_propLength:3, BM25F_rabbit_frequency:1, BM25F_rabbit_propLength:2",
        )
    ]
    lazy_dog = _search(collection, "lazy dog", BM25Operator.and_cross())
    assert [(i, s) for i, s, _ in lazy_dog] == [
        (d2, pytest.approx(2 * IDF_1_OF_3 * _tf(1, 2), rel=1e-6)),
        (d0, pytest.approx(2 * IDF_1_OF_3 * _tf(1, 7), rel=1e-6)),
    ]
    three = _search(collection, "quick lazy dog", BM25Operator.and_cross())
    assert [(i, s) for i, s, _ in three] == [
        (d0, pytest.approx(IDF_2_OF_3 * _tf(1, 3) + 2 * IDF_1_OF_3 * _tf(1, 7), rel=1e-6))
    ]


@ON_1_39
def test_or_minimum_match_counts_per_property(notes: tuple[Collection, list[str]]) -> None:
    collection, (d0, _, d2) = notes
    two = _search(collection, "quick lazy dog", BM25Operator.or_(minimum_match=2))
    assert two == [
        (
            d2,
            pytest.approx(2 * IDF_1_OF_3 * _tf(1, 2), rel=1e-6),
            ", BM25F_dog_frequency:1, BM25F_dog_propLength:2, BM25F_lazy_frequency:1, BM25F_lazy_propLength:2",
        ),
        (
            d0,
            pytest.approx(2 * IDF_1_OF_3 * _tf(1, 7), rel=1e-6),
            ", BM25F_dog_frequency:1, BM25F_dog_propLength:7, BM25F_lazy_frequency:1, BM25F_lazy_propLength:7",
        ),
    ]
    assert _search(collection, "quick lazy dog", BM25Operator.or_(minimum_match=3)) == []


@ON_1_39
def test_and_cross_refuses_mixed_tokenizations(notes: tuple[Collection, list[str]]) -> None:
    collection, _ = notes
    with pytest.raises(
        WeaviateQueryError,
        match="OPERATOR_AND_CROSS requires all searched properties to share the same tokenization "
        "and analyzer settings",
    ):
        collection.query.bm25("quick", query_properties=["title", "code"], operator=BM25Operator.and_cross())


def test_and_cross_is_refused_by_the_client_below_its_versions(
    weaviate_client: weaviate.WeaviateClient,
) -> None:
    collection = weaviate_client.collections.create("Note", vector_config=Configure.Vectors.self_provided())
    with pytest.raises(WeaviateUnsupportedFeatureError, match=r"BM25Operator.and_cross\(\).*1\.32\.0"):
        collection.query.bm25("quick", operator=BM25Operator.and_cross())


def test_the_reported_version_is_the_servers_argument() -> None:
    with start_server(version="1.38.8") as server, server.connect() as client:
        assert client.get_meta()["version"] == "1.38.8"
