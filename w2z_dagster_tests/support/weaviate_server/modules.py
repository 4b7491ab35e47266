"""The modules the test server pretends to have enabled, with the defaults Weaviate fills in for them.

Each vectorizer's `ClassConfigDefaults` / `PropertyConfigDefaults` are copied from its
`modules/<name>/config.go` (and the `ent` constants they name); `SetClassDefaults` in
`usecases/modules/module_config_init_and_validate.go` merges the user's settings over them. The
embedding dimension per model is the provider's default output size; only the vectors themselves are
fake (see `vectorizer.py`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from .errors import ServerError

Kind = Literal["text2vec", "multi2vec", "generative", "reranker"]
_TEXT_PROPERTY_DEFAULTS: Mapping[str, Any] = MappingProxyType({"skip": False, "vectorizePropertyName": False})


@dataclass(frozen=True, slots=True, eq=False)
class Module:
    name: str
    kind: Kind
    title: str
    class_defaults: Mapping[str, Any] = field(default_factory=dict)
    property_defaults: Mapping[str, Any] = field(default_factory=dict)
    dims: Mapping[str, int] = field(default_factory=dict)
    """Output dimension per model; the entry under "" applies to models not listed."""

    @property
    def is_vectorizer(self) -> bool:
        return self.kind in ("text2vec", "multi2vec")

    def dimension(self, settings: Mapping[str, Any]) -> int:
        """A configured `dimensions` wins, as it does for the providers that accept one."""
        configured = settings.get("dimensions")
        if isinstance(configured, int) and configured > 0:
            return configured
        model = settings.get("model") or settings.get("modelId") or self.class_defaults.get("model") or ""
        return self.dims.get(str(model), self.dims[""])


def _text2vec(name: str, title: str, defaults: Mapping[str, Any], dims: Mapping[str, int]) -> Module:
    return Module(name, "text2vec", title, MappingProxyType(dict(defaults)), _TEXT_PROPERTY_DEFAULTS, dims)


_DOCS = "https://docs.weaviate.io/weaviate/model-providers"
CATALOG: Mapping[str, Module] = MappingProxyType(
    {
        m.name: m
        for m in (
            _text2vec(
                "text2vec-openai",
                "OpenAI Module",
                {
                    "vectorizeClassName": True,
                    "baseURL": "https://api.openai.com",
                    "model": "text-embedding-3-small",
                },
                {"": 1536, "text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "ada": 1536},
            ),
            _text2vec(
                "text2vec-cohere",
                "Cohere Module",
                {
                    "vectorizeClassName": True,
                    "model": "embed-multilingual-v3.0",
                    "truncate": "END",
                    "baseUrl": "https://api.cohere.ai",
                },
                {
                    "": 1024,
                    "embed-english-light-v3.0": 384,
                    "embed-multilingual-light-v3.0": 384,
                    "embed-v4.0": 1536,
                },
            ),
            _text2vec(
                "text2vec-huggingface",
                "Hugging Face Module",
                {
                    "vectorizeClassName": True,
                    "model": "sentence-transformers/msmarco-bert-base-dot-v5",
                    "waitForModel": False,
                    "useGPU": False,
                    "useCache": True,
                },
                {"": 768, "sentence-transformers/all-MiniLM-L6-v2": 384},
            ),
            _text2vec("text2vec-google", "Google Module", {"vectorizeClassName": False}, {"": 768}),
            _text2vec(
                "text2vec-voyageai",
                "VoyageAI Module",
                {
                    "vectorizeClassName": True,
                    "baseURL": "https://api.voyageai.com/v1",
                    "model": "voyage-3",
                    "truncate": True,
                },
                {"": 1024, "voyage-3-lite": 512},
            ),
            _text2vec(
                "text2vec-jinaai",
                "JinaAI Module",
                {
                    "vectorizeClassName": False,
                    "model": "jina-embeddings-v4",
                    "baseURL": "https://api.jina.ai",
                },
                {"": 2048, "jina-embeddings-v3": 1024, "jina-embeddings-v2-base-en": 768},
            ),
            _text2vec("text2vec-ollama", "Ollama Module", {"vectorizeClassName": False}, {"": 768}),
            _text2vec(
                "text2vec-weaviate",
                "Weaviate Embeddings Module",
                {
                    "model": "Snowflake/snowflake-arctic-embed-l-v2.0",
                    "baseURL": "",
                    "vectorizeClassName": True,
                },
                {"": 1024, "Snowflake/snowflake-arctic-embed-m-v1.5": 768},
            ),
            _text2vec(
                "text2vec-contextionary", "Contextionary Module", {"vectorizeClassName": True}, {"": 300}
            ),
            _text2vec(
                "text2vec-transformers",
                "Transformers Module",
                {"vectorizeClassName": True, "poolingStrategy": "masked_mean"},
                {"": 384},
            ),
            Module("multi2vec-clip", "multi2vec", "CLIP Module", dims={"": 512}),
            Module("multi2vec-cohere", "multi2vec", "Cohere Multimodal Module", dims={"": 1024}),
            Module("multi2vec-google", "multi2vec", "Google Multimodal Module", dims={"": 1408}),
            Module(
                "multi2vec-jinaai",
                "multi2vec",
                "JinaAI CLIP Module",
                MappingProxyType(
                    {"baseURL": "https://api.jina.ai", "model": "jina-clip-v2", "vectorizeClassName": False}
                ),
                dims={"": 1024},
            ),
            Module(
                "multi2vec-voyageai",
                "multi2vec",
                "VoyageAI Multimodal Module",
                MappingProxyType(
                    {
                        "vectorizeClassName": False,
                        "baseURL": "https://api.voyageai.com/v1",
                        "model": "voyage-multimodal-3",
                        "truncate": True,
                    }
                ),
                dims={"": 1024},
            ),
            *(
                Module(f"generative-{p}", "generative", f"Generative Search - {p}")
                for p in ("openai", "cohere", "google", "ollama", "anthropic", "aws", "mistral")
            ),
            *(
                Module(f"reranker-{p}", "reranker", f"Reranker - {p}")
                for p in ("cohere", "voyageai", "jinaai", "transformers")
            ),
        )
    }
)
DEFAULT_MODULES: frozenset[str] = frozenset(CATALOG)
"""What a cloud cluster enables: every module of the catalog."""
LEGACY_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "text2vec-palm": "text2vec-google",
        "multi2vec-palm": "multi2vec-google",
        "generative-palm": "generative-google",
    }
)
"""`AltNames()` of the Google modules: the client still sends `text2vec-palm` for `text2vec_google`."""


def lookup(name: str, enabled: frozenset[str] = DEFAULT_MODULES) -> Module | None:
    """The enabled module a name (or its legacy alias) stands for, as `GetByName` resolves it."""
    primary = LEGACY_NAMES.get(name, name)
    return CATALOG.get(primary) if primary in enabled else None


def enabled_modules(names: Iterable[str] | None) -> frozenset[str]:
    """The module set for a server; None means the default set, unknown names are a startup error."""
    if names is None:
        return DEFAULT_MODULES
    chosen = frozenset(names)
    unknown = sorted(chosen - DEFAULT_MODULES)
    if unknown:
        raise ValueError(f"unknown module(s) {unknown}; choose from {sorted(DEFAULT_MODULES)}")
    return chosen


def meta(enabled: frozenset[str]) -> dict[str, Any]:
    """The `modules` object of `/v1/meta`: one entry per enabled module."""
    return {name: {"documentationHref": _DOCS, "name": CATALOG[name].title} for name in sorted(enabled)}


def vectorizer_module(name: str, enabled: frozenset[str], *, target: str | None = None) -> Module | None:
    """The module for a `vectorizer` setting (None for `none`), with `validateVectorizer`'s error."""
    if name == "none":
        return None
    module = lookup(name, enabled)
    if module is None or not module.is_vectorizer:
        prefix = f"target vector {target!r}: ".replace("'", '"') if target is not None else ""
        raise ServerError(f'{prefix}vectorizer: no module with name "{name}" present')
    return module


def check_module_config(config: Any, enabled: frozenset[str]) -> dict[str, Any]:
    """A class `moduleConfig` may only name enabled modules (`validateClassesModuleConfig`)."""
    if config is None:
        return {}
    if not isinstance(config, Mapping):
        raise ServerError("moduleConfig must be an object")
    for name in config:
        if lookup(name, enabled) is None:
            raise ServerError(f"module with name {name} doesn't exist")
    return {name: dict(value or {}) for name, value in config.items()}


def class_settings(module: Module, user: Any) -> dict[str, Any]:
    """Module defaults with the user's settings merged over them (`setPerClassConfigDefaults`)."""
    return {**module.class_defaults, **(dict(user) if isinstance(user, Mapping) else {})}


def property_settings(module: Module, name: str, prop_config: Any) -> dict[str, Any] | None:
    """A property's merged settings for the vectorizer configured as `name`, or None if there are none."""
    user = prop_config.get(name) if isinstance(prop_config, Mapping) else None
    merged = {**module.property_defaults, **(dict(user) if isinstance(user, Mapping) else {})}
    return merged or None
