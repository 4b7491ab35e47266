"""BM25 and hybrid search on a small corpus, against scores computed by hand from Weaviate's formulas.

BM25 (BlockMax WAND, `bm25_searcher_block.go`): per property and matching term
`tf / (tf + k1 * (1 - b + b * L / avgL)) * idf * boost`, idf = ln(1 + (N - n + 0.5) / (n + 0.5)) times
the term's repetitions in the query, avgL the mean of the searched properties' mean lengths.
Hybrid (`hybrid_fusion.go`): relative score fusion min-max normalises each set and weights it by
1 - alpha (keyword) and alpha (vector, score 1 - distance); ranked fusion adds weight / (rank + 60).
"""

from __future__ import annotations

import math

import pytest
import weaviate
from weaviate.classes.config import Configure, DataType, Property, Tokenization
from weaviate.classes.query import BM25Operator, Filter, HybridFusion, MetadataQuery
from weaviate.collections import Collection
from weaviate.exceptions import WeaviateQueryError

from w2z_dagster_tests.support.weaviate_server.vectorizer import embed

K1, B = 1.2, 0.75
TITLE_AVG = 8 / 3
"""Title lengths 3, 3, 2."""
BOTH_AVG = (8 / 3 + 4) / 2
"""Mean of the title mean and the body mean (body lengths 7, 2, 3)."""
IDF_1_OF_3 = math.log(1 + (3 - 1 + 0.5) / (1 + 0.5))
IDF_2_OF_3 = math.log(1 + (3 - 2 + 0.5) / (2 + 0.5))


def _tf(freq: int, length: int, avg: float, k1: float = K1, b: float = B) -> float:
    return freq / (freq + k1 * (1 - b + b * length / avg))


@pytest.fixture
def notes(weaviate_client: weaviate.WeaviateClient) -> tuple[Collection, list[str]]:
    collection = weaviate_client.collections.create(
        "Note",
        vector_config=Configure.Vectors.self_provided(),
        properties=[
            Property(name="title", data_type=DataType.TEXT),
            Property(name="body", data_type=DataType.TEXT),
        ],
    )
    rows = [
        ({"title": "Quick brown fox", "body": "the fox jumps over the lazy dog"}, [1.0, 0.0]),
        ({"title": "Quick quick rabbit", "body": "rabbit runs"}, [0.6, 0.8]),
        ({"title": "Lazy dog", "body": "sleeps all day"}, [0.0, 1.0]),
    ]
    ids = [str(collection.data.insert(props, vector=vector)) for props, vector in rows]
    return collection, ids


def _ranking(result) -> list[tuple[str, float]]:
    return [(str(o.uuid), o.metadata.score) for o in result.objects]


def test_bm25_single_property(notes: tuple[Collection, list[str]]) -> None:
    collection, (d0, _, _) = notes
    result = collection.query.bm25(
        "fox", query_properties=["title"], return_metadata=MetadataQuery(score=True, explain_score=True)
    )
    assert _ranking(result) == [(d0, pytest.approx(IDF_1_OF_3 * _tf(1, 3, TITLE_AVG), rel=1e-6))]
    assert result.objects[0].metadata.score == pytest.approx(0.424143, abs=1e-6)
    assert result.objects[0].metadata.explain_score == ", BM25F_fox_frequency:1, BM25F_fox_propLength:3"


def test_bm25_all_searchable_properties_are_summed(notes: tuple[Collection, list[str]]) -> None:
    collection, (d0, _, _) = notes
    result = collection.query.bm25("fox", return_metadata=MetadataQuery(score=True))
    expected = IDF_1_OF_3 * (_tf(1, 3, BOTH_AVG) + _tf(1, 7, BOTH_AVG))
    assert _ranking(result) == [(d0, pytest.approx(expected, rel=1e-6))]


def test_bm25_repeated_terms_and_stopwords_in_the_query(notes: tuple[Collection, list[str]]) -> None:
    collection, (d0, d1, _) = notes
    result = collection.query.bm25(
        "the quick QUICK", query_properties=["title"], return_metadata=MetadataQuery(score=True)
    )
    assert _ranking(result) == [
        (d1, pytest.approx(2 * IDF_2_OF_3 * _tf(2, 3, TITLE_AVG), rel=1e-6)),
        (d0, pytest.approx(2 * IDF_2_OF_3 * _tf(1, 3, TITLE_AVG), rel=1e-6)),
    ]
    assert collection.query.bm25("the is a", query_properties=["title"]).objects == []


def test_bm25_property_boosts(notes: tuple[Collection, list[str]]) -> None:
    collection, (d0, _, d2) = notes
    result = collection.query.bm25(
        "dog", query_properties=["title^2", "body"], return_metadata=MetadataQuery(score=True)
    )
    assert _ranking(result) == [
        (d2, pytest.approx(2 * IDF_1_OF_3 * _tf(1, 2, BOTH_AVG), rel=1e-6)),
        (d0, pytest.approx(IDF_1_OF_3 * _tf(1, 7, BOTH_AVG), rel=1e-6)),
    ]


def test_bm25_search_operators(notes: tuple[Collection, list[str]]) -> None:
    collection, (d0, d1, d2) = notes

    def ids(**kwargs) -> list[str]:
        return [str(o.uuid) for o in collection.query.bm25(query_properties=["title"], **kwargs).objects]

    assert ids(query="quick lazy dog") == [d2, d1, d0]
    assert ids(query="quick lazy dog", operator=BM25Operator.or_(minimum_match=2)) == [d2]
    assert ids(query="quick lazy dog", operator=BM25Operator.and_()) == []
    assert ids(query="lazy dog", operator=BM25Operator.and_()) == [d2]


def test_bm25_with_filters_limit_and_offset(notes: tuple[Collection, list[str]]) -> None:
    collection, (d0, d1, _) = notes
    quick = collection.query.bm25(
        "quick", query_properties=["title"], filters=Filter.by_property("body").like("*fox*")
    )
    assert [str(o.uuid) for o in quick.objects] == [d0]
    assert [str(o.uuid) for o in collection.query.bm25("quick", limit=1, offset=1).objects] == [d0]
    assert [str(o.uuid) for o in collection.query.bm25("quick", limit=1).objects] == [d1]
    with pytest.raises(WeaviateQueryError, match="no such prop with name 'missing'"):
        collection.query.bm25("quick", query_properties=["missing"])


def test_bm25_tokenizations_stopword_config_k1_and_b(weaviate_client: weaviate.WeaviateClient) -> None:
    collection = weaviate_client.collections.create(
        "Tok",
        inverted_index_config=Configure.inverted_index(
            bm25_k1=1.5, bm25_b=0.5, stopwords_additions=["rabbit"], stopwords_removals=["the"]
        ),
        properties=[
            Property(name="code", data_type=DataType.TEXT, tokenization=Tokenization.FIELD),
            Property(name="tag", data_type=DataType.TEXT, tokenization=Tokenization.WHITESPACE),
            Property(name="label", data_type=DataType.TEXT, tokenization=Tokenization.LOWERCASE),
            Property(name="text", data_type=DataType.TEXT),
        ],
    )
    t0 = str(
        collection.data.insert(
            {"code": "Home Goods", "tag": "Red-Apple Pie", "label": "Hello, World!", "text": "the rabbit"}
        )
    )
    t1 = str(
        collection.data.insert(
            {"code": "Home", "tag": "red-apple", "label": "hello world", "text": "a rabbit"}
        )
    )

    def ids(query: str, prop: str) -> list[str]:
        return [str(o.uuid) for o in collection.query.bm25(query, query_properties=[prop]).objects]

    assert (ids("Home Goods", "code"), ids("Home", "code")) == ([t0], [t1])
    assert (ids("Red-Apple", "tag"), ids("red-apple", "tag")) == ([t0], [t1])
    assert (ids("HELLO,", "label"), ids("hello", "label")) == ([t0], [t1])
    assert (ids("rabbit", "text"), ids("a rabbit", "text")) == ([], [])
    result = collection.query.bm25(
        "the", query_properties=["text"], return_metadata=MetadataQuery(score=True)
    )
    idf = math.log(1 + (2 - 1 + 0.5) / (1 + 0.5))
    assert _ranking(result) == [(t0, pytest.approx(idf * _tf(1, 2, 2.0, k1=1.5, b=0.5), rel=1e-6))]


def test_hybrid_relative_score_fusion(notes: tuple[Collection, list[str]]) -> None:
    collection, (d0, d1, d2) = notes
    # keyword "quick" on title: d1 2*..., d0 less -> normalised 1 and 0; vector [1, 0]: 1 - distance
    # is 1 (d0), 0.6 (d1), 0 (d2) -> normalised the same.
    half = collection.query.hybrid(
        "quick",
        vector=[1.0, 0.0],
        alpha=0.5,
        query_properties=["title"],
        return_metadata=MetadataQuery(score=True),
    )
    assert _ranking(half) == [
        (d1, pytest.approx(0.5 * 1 + 0.5 * 0.6, abs=1e-6)),
        (d0, pytest.approx(0.5 * 0 + 0.5 * 1, abs=1e-6)),
        (d2, 0.0),
    ]
    vector_heavy = collection.query.hybrid(
        "quick",
        vector=[1.0, 0.0],
        alpha=0.75,
        query_properties=["title"],
        return_metadata=MetadataQuery(score=True),
    )
    assert _ranking(vector_heavy) == [
        (d0, pytest.approx(0.25 * 0 + 0.75 * 1, abs=1e-6)),
        (d1, pytest.approx(0.25 * 1 + 0.75 * 0.6, abs=1e-6)),
        (d2, 0.0),
    ]
    explained = collection.query.hybrid(
        "quick",
        vector=[1.0, 0.0],
        alpha=0.5,
        query_properties=["title"],
        return_metadata=MetadataQuery(explain_score=True),
    )
    assert IDF_2_OF_3 * _tf(2, 3, TITLE_AVG) == pytest.approx(0.28377578, rel=1e-7)
    assert explained.objects[0].metadata.explain_score == (
        f"\nHybrid (Result Set vector) Document {d1}: original score 0.6, normalized score: 0.3"
        f" - \nHybrid (Result Set keyword) Document {d1}: original score 0.28377578, normalized score: 0.5"
    )


def test_hybrid_ranked_fusion_ties_break_on_the_vector_score(notes: tuple[Collection, list[str]]) -> None:
    collection, (d0, d1, d2) = notes
    result = collection.query.hybrid(
        "quick",
        vector=[1.0, 0.0],
        alpha=0.5,
        query_properties=["title"],
        fusion_type=HybridFusion.RANKED,
        return_metadata=MetadataQuery(score=True, explain_score=True),
    )
    assert _ranking(result) == [
        (d0, pytest.approx(0.5 / 61 + 0.5 / 60, rel=1e-6)),
        (d1, pytest.approx(0.5 / 60 + 0.5 / 61, rel=1e-6)),
        (d2, pytest.approx(0.5 / 62, rel=1e-6)),
    ]
    assert result.objects[2].metadata.explain_score == (
        f"\nHybrid (Result Set vector) Document {d2} contributed 0.008064516 to the score"
    )


def test_hybrid_alpha_extremes_and_vector_distance_cutoff(notes: tuple[Collection, list[str]]) -> None:
    collection, (d0, d1, d2) = notes

    def ids(**kwargs) -> list[str]:
        return [
            str(o.uuid)
            for o in collection.query.hybrid("quick", query_properties=["title"], **kwargs).objects
        ]

    assert ids(vector=[0.0, 1.0], alpha=0) == [d1, d0]
    assert ids(vector=[0.0, 1.0], alpha=1) == [d2, d1, d0]
    # The cutoff drops d2 from both sets; what is left is normalised anew: keyword d1 0.5, d0 0;
    # vector d0 0.5, d1 0. The tie at 0.5 goes to the higher vector score (d0, then d2 below).
    assert ids(vector=[1.0, 0.0], alpha=0.5, max_vector_distance=0.5) == [d0, d1]
    assert ids(vector=[0.0, 1.0], alpha=0.5, max_vector_distance=0.5) == [d2, d1]


def test_hybrid_embeds_the_query_with_the_vectorizer(weaviate_client: weaviate.WeaviateClient) -> None:
    collection = weaviate_client.collections.create(
        "Fruit",
        vector_config=Configure.Vectors.text2vec_openai(vectorize_collection_name=False),
        properties=[Property(name="name", data_type=DataType.TEXT)],
    )
    names = ["green apple", "apple pie", "banana bread"]
    for name in names:
        collection.data.insert({"name": name})
    pure_vector = collection.query.hybrid("apple", alpha=1, return_metadata=MetadataQuery(score=True))
    query = embed("apple", 1536).astype(float)
    similarity = {n: float(embed(n, 1536).astype(float) @ query) for n in names}
    low, high = min(similarity.values()), max(similarity.values())
    expected = sorted(((n, (s - low) / (high - low)) for n, s in similarity.items()), key=lambda p: -p[1])
    assert [(o.properties["name"], o.metadata.score) for o in pure_vector.objects] == [
        (n, pytest.approx(s, abs=1e-5)) for n, s in expected
    ]
