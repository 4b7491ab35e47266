"""A public data-set package's own uploader against the test Weaviate: `weaviate-demo-datasets`.

Its uploaders create module-configured collections (`text2vec-openai`, `generative-openai`,
`reranker-cohere`, named vectors with source properties, multi-tenancy, cross-references) through
the real client and import with its batcher. They run unchanged; only data sets whose files ship in
the wheel are used (`NewsArticles` downloads its data at run time, so it is left out). Everything
must read back exactly: the objects' properties and ids, the shipped vectors, the stand-in vectors
for the rest, the references and the configs.
"""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime

import numpy as np
import pytest
import weaviate
import weaviate_datasets
from weaviate.classes.query import QueryReference
from weaviate.util import generate_uuid5

from w2z_dagster_tests.support.weaviate_server import WeaviateTestServer
from w2z_dagster_tests.support.weaviate_server.vectorizer import embed

pytestmark = pytest.mark.slow


def _objects(collection, **kwargs) -> dict[uuid.UUID, object]:
    return {o.uuid: o for o in collection.iterator(include_vector=True, **kwargs)}


def _same(a: object, b: object) -> bool:
    return (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)) or a == b


def test_wine_reviews_upload_and_read_back_exactly(
    weaviate_server: WeaviateTestServer, weaviate_client: weaviate.WeaviateClient
) -> None:
    dataset = weaviate_datasets.WineReviews()
    dataset.upload_dataset(weaviate_client)
    rows = [row for row, _ in dataset._class_dataloader()]  # noqa: SLF001 - its own rows: no public reader
    stored = _objects(weaviate_client.collections.get("WineReview"))

    assert len(rows) == 50
    assert set(stored) == {uuid.UUID(generate_uuid5(row)) for row in rows}
    for row in rows:
        obj = stored[uuid.UUID(generate_uuid5(row))]
        assert obj.properties.keys() == row.keys()
        assert all(_same(obj.properties[k], row[k]) for k in row), row
        text = " ".join(["Wine Review", row["country"], row["review_body"], row["title"]])
        assert np.array_equal(np.asarray(obj.vector["default"], dtype=np.float32), embed(text, 1536))

    config = weaviate_client.collections.get("WineReview").config.get()
    assert config.vector_config["default"].vectorizer.vectorizer == "text2vec-openai"
    assert config.vector_config["default"].vectorizer.model == {
        "baseURL": "https://api.openai.com",
        "isAzure": False,
        "model": "text-embedding-3-small",
        "vectorizeClassName": True,
    }
    assert config.generative_config is not None and config.generative_config.generative == "generative-openai"
    assert (
        config.inverted_index_config.index_timestamps,
        config.inverted_index_config.index_null_state,
        config.inverted_index_config.index_property_length,
    ) == (True, True, True)


def test_wine_reviews_named_vectors_embed_their_source_properties(
    weaviate_client: weaviate.WeaviateClient,
) -> None:
    dataset = weaviate_datasets.WineReviewsNV()
    dataset.upload_dataset(weaviate_client)
    rows = [row for row, _ in dataset._class_dataloader()]  # noqa: SLF001 - its own rows: no public reader
    collection = weaviate_client.collections.get("WineReviewNV")
    stored = _objects(collection)

    assert {n: v.vectorizer.source_properties for n, v in collection.config.get().vector_config.items()} == {
        "title": ["title"],
        "review_body": ["review_body"],
        "title_country": ["title", "country"],
    }
    assert len(stored) == len(rows) == 50
    for row in rows:
        vectors = stored[uuid.UUID(generate_uuid5(row))].vector
        expected = {
            "title": f"Wine Review NV {row['title']}",
            "review_body": f"Wine Review NV {row['review_body']}",
            "title_country": f"Wine Review NV {row['country']} {row['title']}",
        }
        for name, text in expected.items():
            assert np.array_equal(np.asarray(vectors[name], dtype=np.float32), embed(text, 1536)), name


def test_wine_reviews_multi_tenant_upload(weaviate_client: weaviate.WeaviateClient) -> None:
    dataset = weaviate_datasets.WineReviewsMT()
    dataset.upload_dataset(weaviate_client)
    rows = [row for row, _ in dataset._class_dataloader()]  # noqa: SLF001 - its own rows: no public reader
    collection = weaviate_client.collections.get("WineReviewMT")

    assert sorted(collection.tenants.get()) == ["tenantA", "tenantB"]
    for tenant in ("tenantA", "tenantB"):
        stored = _objects(collection.with_tenant(tenant))
        assert set(stored) == {uuid.UUID(generate_uuid5(row)) for row in rows}
        assert collection.with_tenant(tenant).aggregate.over_all(total_count=True).total_count == 50


def test_jeopardy_keeps_its_shipped_vectors_and_references(weaviate_client: weaviate.WeaviateClient) -> None:
    dataset = weaviate_datasets.JeopardyQuestions1k()
    dataset.upload_dataset(weaviate_client)
    pairs = list(dataset._class_pair_dataloader())  # noqa: SLF001 - its own rows: no public reader
    questions = weaviate_client.collections.get("JeopardyQuestion")
    categories = weaviate_client.collections.get("JeopardyCategory")
    stored = {
        o.uuid: o
        for o in questions.iterator(
            include_vector=True, return_references=QueryReference(link_on="hasCategory", return_properties=[])
        )
    }
    stored_categories = _objects(categories)

    assert len(stored) == len(pairs) == 1000
    assert set(stored_categories) == {uuid.UUID(generate_uuid5(cat)) for _, (cat, _) in pairs}
    for (question, question_vec), (category, category_vec) in pairs:
        obj = stored[uuid.UUID(generate_uuid5(question))]
        expected = {
            **question,
            "air_date": datetime.fromisoformat(question["air_date"]).astimezone(UTC),
        }
        assert obj.properties == expected
        assert obj.vector["default"] == pytest.approx(np.float32(question_vec).tolist(), abs=0)
        assert [r.uuid for r in obj.references["hasCategory"].objects] == [
            uuid.UUID(generate_uuid5(category))
        ]
        stored_category = stored_categories[uuid.UUID(generate_uuid5(category))]
        assert stored_category.properties == category
        assert stored_category.vector["default"] == pytest.approx(np.float32(category_vec).tolist(), abs=0)

    config = questions.config.get()
    assert config.vector_config["default"].vectorizer.model == {
        "baseURL": "https://api.openai.com",
        "isAzure": False,
        "model": "ada",
        "modelVersion": "002",
        "type": "text",
        "vectorizeClassName": True,
    }
    assert config.reranker_config is not None and config.reranker_config.reranker == "reranker-cohere"
    assert [(p.name, p.tokenization.value if p.tokenization else None) for p in config.properties] == [
        ("question", "word"),
        ("answer", "word"),
        ("points", None),
        ("round", "field"),
        ("air_date", None),
    ]


def test_wiki_chunks_upload_and_search(weaviate_client: weaviate.WeaviateClient) -> None:
    dataset = weaviate_datasets.Wiki100()
    dataset.upload_dataset(weaviate_client)
    rows = [row for row, _ in dataset._class_dataloader()]  # noqa: SLF001 - its own rows: no public reader
    chunks = weaviate_client.collections.get("WikiChunk")

    assert len(chunks) == len(rows) == 2969
    first = chunks.query.fetch_object_by_id(generate_uuid5(rows[0]))
    assert first is not None and first.properties == rows[0]
    top = chunks.query.bm25("photosynthesis chlorophyll", limit=3).objects
    assert len(top) == 3
    assert all("photosynthesis" in o.properties["chunk"].lower() for o in top)
