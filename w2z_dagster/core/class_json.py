"""Weaviate's class JSON (what `GET /v1/schema/{Class}` returns) read into a `CollectionSchema`.

Reading the JSON rather than weaviate-client's config dataclasses keeps this pure and testable, and the
JSON is Weaviate's own stable wire format.
"""

from __future__ import annotations

from typing import Any

from w2z_dagster.core.schema import (
    CollectionSchema,
    InvertedIndexSpec,
    PropertySpec,
    VectorSpec,
    WeaviateType,
)

LEGACY_VECTOR = "default"
_TYPES = {t.value: t for t in WeaviateType}
_DEPRECATED = {"string": WeaviateType.TEXT, "string[]": WeaviateType.TEXT_ARRAY}


def parse_property(raw: dict[str, Any]) -> PropertySpec:
    data_type = raw["dataType"]
    first = data_type[0]
    if first[:1].isupper():
        return PropertySpec(
            name=raw["name"],
            data_type=WeaviateType.REFERENCE,
            reference_targets=tuple(data_type),
            description=raw.get("description"),
        )
    kind = _DEPRECATED.get(first) or _TYPES.get(first)
    if kind is None:
        raise ValueError(f"property '{raw['name']}' has Weaviate type '{first}', which w2z does not know")
    return PropertySpec(
        name=raw["name"],
        data_type=kind,
        nested=tuple(parse_property(n) for n in raw.get("nestedProperties") or ()),
        description=raw.get("description"),
        tokenization=raw.get("tokenization") if kind in _TEXT else None,
        **_index_flags(raw, kind),
    )


_TEXT = (WeaviateType.TEXT, WeaviateType.TEXT_ARRAY)


def _index_flags(raw: dict[str, Any], kind: WeaviateType) -> dict[str, bool]:
    """Weaviate's defaults where the JSON names none: searchable (text only) and filterable on, range off."""
    return {
        "index_searchable": bool(raw.get("indexSearchable", True)) and kind in _TEXT,
        "index_filterable": bool(raw.get("indexFilterable", True)),
        "index_range_filters": bool(raw.get("indexRangeFilters", False)),
    }


def parse_inverted_index(raw: dict[str, Any] | None) -> InvertedIndexSpec:
    config = raw or {}
    bm25 = config.get("bm25") or {}
    stopwords = config.get("stopwords") or {}
    defaults = InvertedIndexSpec()
    preset = stopwords.get("preset")
    return InvertedIndexSpec(
        bm25_k1=float(bm25.get("k1", defaults.bm25_k1)),
        bm25_b=float(bm25.get("b", defaults.bm25_b)),
        stopwords_preset=str(getattr(preset, "value", preset) or defaults.stopwords_preset),
        stopwords_additions=tuple(stopwords.get("additions") or ()),
        stopwords_removals=tuple(stopwords.get("removals") or ()),
    )


_MODEL_KEYS = ("model", "modelId", "modelName")
"""Where the modules keep their model name (OpenAI, Cohere, ... `model`; Google, AWS `modelId`)."""


def parse_vectorizer(
    vectorizer: str | None, module_config: dict[str, Any] | None
) -> tuple[str | None, str | None]:
    """The module that embeds a vector space and its model, or (None, None) for app-provided vectors."""
    if not vectorizer or vectorizer == "none":
        return None, None
    settings = (module_config or {}).get(vectorizer) or {}
    return vectorizer, next((str(settings[k]) for k in _MODEL_KEYS if settings.get(k)), None)


def parse_vector(
    name: str,
    index_type: str | None,
    index_config: dict[str, Any] | None,
    legacy: bool,
    vectorizer: tuple[str | None, str | None] = (None, None),
) -> VectorSpec:
    config = index_config or {}
    hnsw = config.get("hnsw", config) if index_type == "dynamic" else config
    multi = config.get("multivector") or config.get("multiVector") or {}
    params = {}
    if "maxConnections" in hnsw:
        params["maxConnections"] = int(hnsw["maxConnections"])
    if "efConstruction" in hnsw:
        params["efConstruction"] = int(hnsw["efConstruction"])
    return VectorSpec(
        name=name,
        legacy=legacy,
        index_type=index_type or "hnsw",
        distance=config.get("distance") or config.get("distanceMetric") or "cosine",
        multi=bool(multi.get("enabled", False)),
        index_params=params,
        vectorizer=vectorizer[0],
        model=vectorizer[1],
    )


def parse_vectors(raw: dict[str, Any]) -> tuple[VectorSpec, ...]:
    """Legacy classes keep their one vector at the top level; named vectors live under `vectorConfig`."""
    vectors: list[VectorSpec] = []
    if raw.get("vectorIndexConfig") is not None or (raw.get("vectorizer") and not raw.get("vectorConfig")):
        module = parse_vectorizer(raw.get("vectorizer"), raw.get("moduleConfig"))
        vectors.append(
            parse_vector(
                LEGACY_VECTOR, raw.get("vectorIndexType"), raw.get("vectorIndexConfig"), True, module
            )
        )
    for name, named in sorted((raw.get("vectorConfig") or {}).items()):
        modules = named.get("vectorizer") or {}
        module_name = next(iter(modules), None)
        module = parse_vectorizer(module_name, modules)
        vectors.append(
            parse_vector(name, named.get("vectorIndexType"), named.get("vectorIndexConfig"), False, module)
        )
    return tuple(vectors)


def parse_class(raw: dict[str, Any]) -> CollectionSchema:
    return CollectionSchema(
        name=raw["class"],
        description=raw.get("description") or None,
        properties=tuple(parse_property(p) for p in raw.get("properties") or ()),
        vectors=parse_vectors(raw),
        inverted_index=parse_inverted_index(raw.get("invertedIndexConfig")),
        multi_tenant=bool((raw.get("multiTenancyConfig") or {}).get("enabled", False)),
        index_timestamps=bool((raw.get("invertedIndexConfig") or {}).get("indexTimestamps", False)),
    )
