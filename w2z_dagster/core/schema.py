"""Typed model of a Weaviate collection, independent of weaviate-client.

The rest of the core (mapping, transform, verification) reasons about these plain models so that only
`source.py` ever needs to know how weaviate-client represents a collection.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class WeaviateType(StrEnum):
    """Weaviate data types, spelled as Weaviate spells them in `dataType`."""

    TEXT = "text"
    TEXT_ARRAY = "text[]"
    INT = "int"
    INT_ARRAY = "int[]"
    NUMBER = "number"
    NUMBER_ARRAY = "number[]"
    BOOLEAN = "boolean"
    BOOLEAN_ARRAY = "boolean[]"
    DATE = "date"
    DATE_ARRAY = "date[]"
    UUID = "uuid"
    UUID_ARRAY = "uuid[]"
    GEO = "geoCoordinates"
    PHONE = "phoneNumber"
    BLOB = "blob"
    OBJECT = "object"
    OBJECT_ARRAY = "object[]"
    REFERENCE = "cross-reference"


class PropertySpec(BaseModel):
    """One Weaviate property; references carry their target collections instead of a scalar type."""

    model_config = ConfigDict(frozen=True)

    name: str
    data_type: WeaviateType
    reference_targets: tuple[str, ...] = ()
    nested: tuple[PropertySpec, ...] = ()
    description: str | None = None
    tokenization: str | None = None
    """How Weaviate splits a text / text[] value into terms (`word` when Weaviate names none)."""
    index_searchable: bool = True
    index_filterable: bool = True
    index_range_filters: bool = False

    @property
    def is_text(self) -> bool:
        return self.data_type in (WeaviateType.TEXT, WeaviateType.TEXT_ARRAY)

    @property
    def text_tokenization(self) -> str:
        return self.tokenization or DEFAULT_TOKENIZATION


DEFAULT_TOKENIZATION = "word"
"""Weaviate's tokenization for a text property that names none."""


class InvertedIndexSpec(BaseModel):
    """The collection's keyword-search settings: BM25 parameters and the stopwords of `word` queries."""

    model_config = ConfigDict(frozen=True)

    bm25_k1: float = 1.2
    bm25_b: float = 0.75
    stopwords_preset: str = "en"
    stopwords_additions: tuple[str, ...] = ()
    stopwords_removals: tuple[str, ...] = ()


class VectorSpec(BaseModel):
    """One vector space of a collection: the legacy unnamed vector is called `default`."""

    model_config = ConfigDict(frozen=True)

    name: str
    legacy: bool = False
    index_type: str = "hnsw"
    distance: str = "cosine"
    multi: bool = False
    dimension: int | None = None
    index_params: dict[str, int] = Field(default_factory=dict)
    vectorizer: str | None = None
    """The Weaviate module that embeds this space (`text2vec-openai`, ...); None: vectors brought by the app."""
    model: str | None = None


class TenantSpec(BaseModel):
    """A tenant and whether Weaviate lets us read it now (only ACTIVE/HOT tenants are readable)."""

    model_config = ConfigDict(frozen=True)

    name: str
    status: str

    @property
    def active(self) -> bool:
        return self.status == "ACTIVE"


class CollectionSchema(BaseModel):
    """Everything w2z needs to know about a source collection before the first object moves."""

    model_config = ConfigDict(frozen=True)

    name: str
    description: str | None = None
    properties: tuple[PropertySpec, ...] = ()
    vectors: tuple[VectorSpec, ...] = ()
    inverted_index: InvertedIndexSpec = InvertedIndexSpec()
    multi_tenant: bool = False
    index_timestamps: bool = False
    tenants: tuple[TenantSpec, ...] = ()
    object_count: int = 0
    counts_by_tenant: dict[str, int] = Field(default_factory=dict)


class HybridQuery(BaseModel):
    """One hybrid search as both sides run it: keyword text, query vector, their weight and fusion.

    `alpha` weighs the vector side (1: vector only), as Weaviate's `alpha` does; `fusion` is Weaviate's
    relativeScoreFusion (`relative`) or rankedFusion (`ranked`).
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    text: str
    vector: Any
    target: str
    properties: tuple[str, ...]
    alpha: float = 0.5
    fusion: Literal["relative", "ranked"] = "relative"


def to_millis(moment: datetime | None) -> int:
    """Weaviate keeps last-update times in ms; both sides of a sync compare them through this one rounding."""
    return round(moment.timestamp() * 1000) if moment is not None else 0


class SourceObject(BaseModel):
    """One Weaviate object as plain Python values.

    Property values are what weaviate-client decodes, normalised to builtins: str, int, float, bool,
    tz-aware datetime, lists of those, dicts for geoCoordinates (`latitude`, `longitude`), phoneNumber
    (`input`, `default_country`, `country_code`, `national`, `national_formatted`,
    `international_formatted`, `valid`) and nested objects, base64 str for blobs, str for uuids, and
    None where the object has no value. References are lists of target UUID strings. Vectors are
    lists of floats, or float32 arrays as cursor pages deliver them (lists of those for multi-vectors),
    keyed by vector name (`default` for legacy).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    uuid: str
    tenant: str | None = None
    properties: dict[str, Any] = Field(default_factory=dict)
    references: dict[str, list[str]] = Field(default_factory=dict)
    vectors: dict[str, Any] = Field(default_factory=dict)
    updated: datetime | None = None
