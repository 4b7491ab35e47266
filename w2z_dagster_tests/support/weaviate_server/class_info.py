"""The parsed view of a class JSON that the data path consults on every object.

Parsing once per schema change keeps the per-object work to dictionary lookups.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .modules import Module, lookup
from .text_analysis import stopword_set

LEGACY_VECTOR = ""
"""Key of the unnamed (legacy) vector in per-shard bookkeeping."""


@dataclass(frozen=True, slots=True)
class Prop:
    name: str
    data_type: str
    """Primitive type name (`text`, `int[]`, `object`, ...) or `cref` for references."""
    targets: tuple[str, ...] = ()
    tokenization: str | None = None
    filterable: bool = True
    searchable: bool = False
    range_filters: bool = False
    nested: Mapping[str, Prop] = field(default_factory=dict)
    module_config: Mapping[str, Any] = field(default_factory=dict)
    """Per-module property settings (`skip`, `vectorizePropertyName`) as stored in the class JSON."""

    @property
    def is_ref(self) -> bool:
        return self.data_type == "cref"

    @property
    def is_nested(self) -> bool:
        return self.data_type in ("object", "object[]")

    @property
    def is_array(self) -> bool:
        return self.data_type.endswith("[]")


@dataclass(frozen=True, slots=True)
class VectorSpec:
    name: str
    index_type: str
    distance: str
    multi: bool
    module: Module | None = None
    """The vectorizer that fills this space when an object comes without a vector."""
    module_name: str = "none"
    """The name the class config uses for it (a legacy alias such as `text2vec-palm` stays as given)."""
    settings: Mapping[str, Any] = field(default_factory=dict)
    """The vectorizer's merged class settings (`properties`, `vectorizeClassName`, `model`, ...)."""


@dataclass(frozen=True, slots=True)
class ClassInfo:
    name: str
    props: Mapping[str, Prop]
    legacy: VectorSpec | None
    named: Mapping[str, VectorSpec]
    multi_tenant: bool
    auto_tenant_creation: bool
    auto_tenant_activation: bool
    index_timestamps: bool
    index_null_state: bool
    index_property_length: bool = False
    k1: float = 1.2
    b: float = 0.75
    stopwords: frozenset[str] = frozenset()

    @classmethod
    def from_json(cls, class_json: Mapping[str, Any]) -> ClassInfo:
        mt = class_json["multiTenancyConfig"]
        inverted = class_json["invertedIndexConfig"]
        legacy = None
        if "vectorIndexType" in class_json:
            module_name = class_json.get("vectorizer") or "none"
            legacy = _vector_spec(
                LEGACY_VECTOR,
                class_json["vectorIndexType"],
                class_json["vectorIndexConfig"],
                module_name,
                (class_json.get("moduleConfig") or {}).get(module_name) or {},
            )
        named = {}
        for name, cfg in (class_json.get("vectorConfig") or {}).items():
            module_name, settings = next(iter(cfg["vectorizer"].items()))
            named[name] = _vector_spec(
                name, cfg["vectorIndexType"], cfg["vectorIndexConfig"], module_name, settings or {}
            )
        stopwords = inverted["stopwords"]
        return cls(
            name=class_json["class"],
            props={p["name"]: _prop(p) for p in class_json["properties"]},
            legacy=legacy,
            named=named,
            multi_tenant=mt["enabled"],
            auto_tenant_creation=mt["autoTenantCreation"],
            auto_tenant_activation=mt["autoTenantActivation"],
            index_timestamps=inverted["indexTimestamps"],
            index_null_state=inverted["indexNullState"],
            index_property_length=inverted["indexPropertyLength"],
            k1=float(inverted["bm25"]["k1"]),
            b=float(inverted["bm25"]["b"]),
            stopwords=stopword_set(stopwords["preset"], stopwords["additions"], stopwords["removals"]),
        )

    @property
    def non_ref_non_blob(self) -> list[Prop]:
        """What a search returns when it names no properties: blobs and references are left out."""
        return [p for p in self.props.values() if not p.is_ref and p.data_type != "blob"]


def _prop(raw: Mapping[str, Any]) -> Prop:
    data_type = raw["dataType"]
    primitive = data_type[0][:1].islower()
    return Prop(
        name=raw["name"],
        data_type=data_type[0] if primitive else "cref",
        targets=() if primitive else tuple(data_type),
        tokenization=raw.get("tokenization"),
        filterable=raw["indexFilterable"],
        searchable=raw["indexSearchable"],
        range_filters=raw["indexRangeFilters"],
        nested={child["name"]: _prop(child) for child in raw.get("nestedProperties") or []},
        module_config=raw.get("moduleConfig") or {},
    )


def _vector_spec(
    name: str, index_type: str, cfg: Mapping[str, Any], module_name: str, settings: Mapping[str, Any]
) -> VectorSpec:
    if index_type == "hfresh":
        multi = cfg["multivector"]["muvera"]["enabled"]
    elif index_type == "hnsw":
        multi = cfg["multivector"]["enabled"]
    else:
        multi = False
    return VectorSpec(
        name=name,
        index_type=index_type,
        distance=cfg["distance"],
        multi=multi,
        module=lookup(module_name),
        module_name=module_name,
        settings=settings,
    )
