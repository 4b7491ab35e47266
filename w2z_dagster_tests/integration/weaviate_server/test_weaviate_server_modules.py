"""Modules: `/v1/meta`, module-configured collection configs in every form the client sends, read
back with the defaults Weaviate fills in (`ClassConfigDefaults` / `PropertyConfigDefaults` of each
module), and Weaviate's errors for modules that are not enabled."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
import weaviate
from weaviate.classes.config import Configure, DataType, Property
from weaviate.exceptions import UnexpectedStatusCodeError

from w2z_dagster_tests.support.weaviate_server import WeaviateTestServer

V = Configure.Vectors
TEXT_PROPERTY_DEFAULTS = {"skip": False, "vectorizePropertyName": False}
DEFAULT_MODULES = {
    *(
        f"text2vec-{p}"
        for p in (
            "openai",
            "cohere",
            "huggingface",
            "google",
            "voyageai",
            "jinaai",
            "ollama",
            "weaviate",
            "contextionary",
            "transformers",
        )
    ),
    *(f"multi2vec-{p}" for p in ("clip", "cohere", "google", "jinaai", "voyageai")),
    *(f"generative-{p}" for p in ("openai", "cohere", "google", "ollama", "anthropic", "aws", "mistral")),
    *(f"reranker-{p}" for p in ("cohere", "voyageai", "jinaai", "transformers")),
}


def _raw_class(server: WeaviateTestServer, name: str) -> dict[str, Any]:
    with httpx.Client(base_url=server.http_url, trust_env=False) as http:
        return http.get(f"/v1/schema/{name}").json()


def test_meta_lists_the_default_cloud_like_module_set(weaviate_server: WeaviateTestServer) -> None:
    with httpx.Client(base_url=weaviate_server.http_url, trust_env=False) as http:
        modules = http.get("/v1/meta").json()["modules"]
    assert set(modules) == DEFAULT_MODULES
    assert modules["text2vec-openai"] == {
        "documentationHref": "https://docs.weaviate.io/weaviate/model-providers",
        "name": "OpenAI Module",
    }


@pytest.mark.parametrize(
    "weaviate_server", [{"modules": ["text2vec-openai", "generative-openai"]}], indirect=True
)
def test_a_chosen_module_set_and_weaviates_errors_for_the_rest(
    weaviate_server: WeaviateTestServer, weaviate_client: weaviate.WeaviateClient
) -> None:
    assert set(weaviate_client.get_meta()["modules"]) == {"text2vec-openai", "generative-openai"}
    collections = weaviate_client.collections
    with pytest.raises(
        UnexpectedStatusCodeError,
        match='target vector "default": vectorizer: no module with name "text2vec-cohere"',
    ):
        collections.create("Named", vector_config=V.text2vec_cohere())
    with pytest.raises(UnexpectedStatusCodeError, match="module with name generative-cohere doesn't exist"):
        collections.create(
            "Gen", vector_config=V.text2vec_openai(), generative_config=Configure.Generative.cohere()
        )
    with httpx.Client(base_url=weaviate_server.http_url, trust_env=False) as http:
        reply = http.post("/v1/schema", json={"class": "Legacy", "vectorizer": "text2vec-cohere"})
    assert (reply.status_code, reply.json()) == (
        422,
        {"error": [{"message": 'vectorizer: no module with name "text2vec-cohere" present'}]},
    )
    assert not collections.exists("Named") and not collections.exists("Legacy")
    collections.create(
        "Fine", vector_config=V.text2vec_openai(), generative_config=Configure.Generative.openai()
    )


TEXT2VEC: list[tuple[str, Callable[..., Any], dict[str, Any]]] = [
    (
        "text2vec-openai",
        V.text2vec_openai,
        {
            "vectorizeClassName": True,
            "baseURL": "https://api.openai.com",
            "model": "text-embedding-3-small",
            "isAzure": False,
        },
    ),
    (
        "text2vec-cohere",
        V.text2vec_cohere,
        {
            "vectorizeClassName": True,
            "model": "embed-multilingual-v3.0",
            "truncate": "END",
            "baseUrl": "https://api.cohere.ai",
        },
    ),
    (
        "text2vec-huggingface",
        V.text2vec_huggingface,
        {
            "vectorizeClassName": True,
            "model": "sentence-transformers/msmarco-bert-base-dot-v5",
            "waitForModel": False,
            "useGPU": False,
            "useCache": True,
        },
    ),
    (
        "text2vec-palm",
        lambda **kw: V.text2vec_google(project_id="proj", **kw),
        {"vectorizeClassName": True, "projectId": "proj"},
    ),
    (
        "text2vec-voyageai",
        V.text2vec_voyageai,
        {
            "vectorizeClassName": True,
            "baseURL": "https://api.voyageai.com/v1",
            "model": "voyage-3",
            "truncate": True,
        },
    ),
    (
        "text2vec-jinaai",
        V.text2vec_jinaai,
        {"vectorizeClassName": True, "model": "jina-embeddings-v4", "baseURL": "https://api.jina.ai"},
    ),
    ("text2vec-ollama", V.text2vec_ollama, {"vectorizeClassName": True}),
    (
        "text2vec-weaviate",
        V.text2vec_weaviate,
        {"model": "Snowflake/snowflake-arctic-embed-l-v2.0", "baseURL": "", "vectorizeClassName": True},
    ),
    ("text2vec-contextionary", V.text2vec_contextionary, {"vectorizeClassName": True}),
    (
        "text2vec-transformers",
        V.text2vec_transformers,
        {"vectorizeClassName": True, "poolingStrategy": "masked_mean"},
    ),
]


@pytest.mark.parametrize(("module", "configure", "stored"), TEXT2VEC, ids=[t[0] for t in TEXT2VEC])
def test_text2vec_named_vector_round_trip(
    weaviate_server: WeaviateTestServer,
    weaviate_client: weaviate.WeaviateClient,
    module: str,
    configure: Callable[..., Any],
    stored: dict[str, Any],
) -> None:
    collection = weaviate_client.collections.create(
        "Docs",
        vector_config=configure(name="body_vec", source_properties=["body"]),
        properties=[
            Property(name="title", data_type=DataType.TEXT),
            Property(name="body", data_type=DataType.TEXT),
        ],
    )
    raw = _raw_class(weaviate_server, "Docs")
    assert raw["vectorConfig"]["body_vec"]["vectorizer"] == {module: {**stored, "properties": ["body"]}}
    assert [p["moduleConfig"] for p in raw["properties"]] == [{module: TEXT_PROPERTY_DEFAULTS}] * 2
    assert "moduleConfig" not in raw and "vectorizer" not in raw
    parsed = collection.config.get().vector_config["body_vec"].vectorizer
    assert (parsed.vectorizer.value, parsed.source_properties) == (module, ["body"])


def test_legacy_vectorizer_module_config_and_property_settings(
    weaviate_server: WeaviateTestServer, weaviate_client: weaviate.WeaviateClient
) -> None:
    weaviate_client.collections.create(
        "Legacy",
        vectorizer_config=Configure.Vectorizer.text2vec_cohere(
            model="embed-english-v3.0", vectorize_collection_name=False
        ),
        generative_config=Configure.Generative.openai(model="gpt-4o"),
        reranker_config=Configure.Reranker.cohere(model="rerank-english-v3.0"),
        properties=[
            Property(name="title", data_type=DataType.TEXT, skip_vectorization=True),
            Property(name="body", data_type=DataType.TEXT, vectorize_property_name=False),
            Property(name="year", data_type=DataType.INT),
        ],
    )
    raw = _raw_class(weaviate_server, "Legacy")
    assert raw["vectorizer"] == "text2vec-cohere"
    assert raw["moduleConfig"] == {
        "text2vec-cohere": {
            "vectorizeClassName": False,
            "model": "embed-english-v3.0",
            "truncate": "END",
            "baseUrl": "https://api.cohere.ai",
        },
        "generative-openai": {"model": "gpt-4o"},
        "reranker-cohere": {"model": "rerank-english-v3.0"},
    }
    assert [p["moduleConfig"] for p in raw["properties"]] == [
        {"text2vec-cohere": {"skip": True, "vectorizePropertyName": True}},
        {"text2vec-cohere": {"skip": False, "vectorizePropertyName": False}},
        {"text2vec-cohere": {"skip": False, "vectorizePropertyName": True}},
    ]
    config = weaviate_client.collections.get("Legacy").config.get()
    assert config.vectorizer is not None and config.vectorizer.value == "text2vec-cohere"
    assert config.generative_config is not None and config.generative_config.model == {"model": "gpt-4o"}
    assert config.reranker_config is not None and config.reranker_config.model == {
        "model": "rerank-english-v3.0"
    }
    assert [p.vectorizer_config.skip for p in config.properties if p.vectorizer_config] == [
        True,
        False,
        False,
    ]


def test_multi2vec_and_added_properties(
    weaviate_server: WeaviateTestServer, weaviate_client: weaviate.WeaviateClient
) -> None:
    collection = weaviate_client.collections.create(
        "Images",
        vector_config=[
            V.multi2vec_clip(name="clip", image_fields=["image"], text_fields=["caption"]),
            V.text2vec_openai(name="text", model="text-embedding-3-large", vectorize_collection_name=False),
        ],
        properties=[
            Property(name="caption", data_type=DataType.TEXT),
            Property(name="image", data_type=DataType.BLOB),
        ],
    )
    collection.config.add_property(Property(name="alt", data_type=DataType.TEXT))
    raw = _raw_class(weaviate_server, "Images")
    assert raw["vectorConfig"]["clip"]["vectorizer"] == {
        "multi2vec-clip": {"imageFields": ["image"], "textFields": ["caption"]}
    }
    assert raw["vectorConfig"]["text"]["vectorizer"] == {
        "text2vec-openai": {
            "vectorizeClassName": False,
            "baseURL": "https://api.openai.com",
            "model": "text-embedding-3-large",
            "isAzure": False,
        }
    }
    sent_by_add_property = {"skip": False, "vectorizePropertyName": True}
    assert [p.get("moduleConfig") for p in raw["properties"]] == [
        {"text2vec-openai": TEXT_PROPERTY_DEFAULTS},
        {"text2vec-openai": TEXT_PROPERTY_DEFAULTS},
        {"multi2vec-clip": sent_by_add_property, "text2vec-openai": sent_by_add_property},
    ]


def test_two_vectorizers_in_one_module_config_are_refused(weaviate_server: WeaviateTestServer) -> None:
    body = {
        "class": "Twice",
        "vectorizer": "text2vec-openai",
        "moduleConfig": {"text2vec-openai": {}, "text2vec-cohere": {}},
    }
    with httpx.Client(base_url=weaviate_server.http_url, trust_env=False) as http:
        reply = http.post("/v1/schema", json=body)
    assert reply.status_code == 422
    assert reply.json()["error"][0]["message"] == (
        "multiple vectorizers configured in class's moduleConfig: [text2vec-openai text2vec-cohere]. "
        'class.vectorizer is set to "text2vec-openai"'
    )
