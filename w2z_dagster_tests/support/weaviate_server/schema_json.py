"""Class JSON as real Weaviate stores and returns it: the user's settings merged over every default.

The client's config parser needs all of these keys (weaviate-wire.md §2), and migrations read them,
so the test server must fill the same defaults real Weaviate fills (`usecases/schema/class.go`,
`entities/vectorindex/*`).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import ServerError
from .modules import (
    DEFAULT_MODULES,
    Module,
    check_module_config,
    class_settings,
    lookup,
    property_settings,
    vectorizer_module,
)

CLASS_NAME_RE = re.compile(r"^[A-Z][_0-9A-Za-z]{0,254}$")
PROPERTY_NAME_RE = re.compile(r"^[_A-Za-z][_0-9A-Za-z]{0,230}$")
RESERVED_PROPERTY_NAMES = frozenset({"_additional", "_id", "id"})

PRIMITIVE_TYPES = frozenset(
    {
        "text",
        "text[]",
        "int",
        "int[]",
        "number",
        "number[]",
        "boolean",
        "boolean[]",
        "date",
        "date[]",
        "uuid",
        "uuid[]",
        "geoCoordinates",
        "phoneNumber",
        "blob",
        "object",
        "object[]",
    }
)
NESTED_TYPES = frozenset({"object", "object[]"})
TEXT_TYPES = frozenset({"text", "text[]"})
RANGE_TYPES = frozenset({"int", "number", "date"})
TOKENIZATIONS = frozenset({"word", "lowercase", "whitespace", "field", "trigram"})
DISTANCES = frozenset({"cosine", "dot", "l2-squared", "manhattan", "hamming"})
HFRESH_DISTANCES = frozenset({"cosine", "l2-squared"})

_MULTIVECTOR = {
    "enabled": False,
    "muvera": {"enabled": False, "ksim": 4, "dprojections": 16, "repetitions": 10},
    "aggregation": "maxSim",
}
HNSW_DEFAULTS: dict[str, Any] = {
    "skip": False,
    "cleanupIntervalSeconds": 300,
    "maxConnections": 32,
    "efConstruction": 128,
    "ef": -1,
    "dynamicEfMin": 100,
    "dynamicEfMax": 500,
    "dynamicEfFactor": 8,
    "vectorCacheMaxObjects": 1_000_000_000_000,
    "flatSearchCutoff": 40000,
    "distance": "cosine",
    "pq": {
        "enabled": False,
        "bitCompression": False,
        "segments": 0,
        "centroids": 256,
        "trainingLimit": 100000,
        "encoder": {"type": "kmeans", "distribution": "log-normal"},
    },
    "bq": {"enabled": False},
    "sq": {"enabled": False, "trainingLimit": 100000, "rescoreLimit": 20},
    "rq": {"enabled": False, "bits": 8, "rescoreLimit": 20},
    "filterStrategy": "acorn",
    "multivector": _MULTIVECTOR,
    "skipDefaultQuantization": False,
    "trackDefaultQuantization": False,
}
_FLAT_COMPRESSION = {"enabled": False, "rescoreLimit": -1, "cache": False}
FLAT_DEFAULTS: dict[str, Any] = {
    "distance": "cosine",
    "vectorCacheMaxObjects": 1_000_000_000_000,
    "pq": _FLAT_COMPRESSION,
    "bq": _FLAT_COMPRESSION,
    "sq": _FLAT_COMPRESSION,
    "rq": {**_FLAT_COMPRESSION, "bits": 8},
    "skipDefaultQuantization": False,
    "trackDefaultQuantization": False,
}
HFRESH_DEFAULTS: dict[str, Any] = {
    "maxPostingSizeKB": 48,
    "replicas": 4,
    "searchProbe": 256,
    "distance": "cosine",
    "rq": {"enabled": True, "bits": 1, "rescoreLimit": 350},
    "multivector": _MULTIVECTOR,
}
DYNAMIC_DEFAULTS: dict[str, Any] = {
    "distance": "cosine",
    "threshold": 10000,
    "hnsw": HNSW_DEFAULTS,
    "flat": FLAT_DEFAULTS,
}
INDEX_DEFAULTS = {
    "hnsw": HNSW_DEFAULTS,
    "flat": FLAT_DEFAULTS,
    "dynamic": DYNAMIC_DEFAULTS,
    "hfresh": HFRESH_DEFAULTS,
}
INVERTED_DEFAULTS: dict[str, Any] = {
    "bm25": {"b": 0.75, "k1": 1.2},
    "cleanupIntervalSeconds": 60,
    "stopwords": {"preset": "en", "additions": None, "removals": None},
    "indexTimestamps": False,
    "indexNullState": False,
    "indexPropertyLength": False,
    "usingBlockMaxWAND": True,
}
SHARDING_DEFAULTS: dict[str, Any] = {
    "virtualPerPhysical": 128,
    "desiredCount": 1,
    "actualCount": 1,
    "desiredVirtualCount": 128,
    "actualVirtualCount": 128,
    "key": "_id",
    "strategy": "hash",
    "function": "murmur3",
}
MT_SHARDING: dict[str, Any] = {
    "virtualPerPhysical": 0,
    "desiredCount": 0,
    "actualCount": 0,
    "desiredVirtualCount": 0,
    "actualVirtualCount": 0,
    "key": "",
    "strategy": "",
    "function": "",
}


def uppercase_first(name: str) -> str:
    return name[:1].upper() + name[1:]


def lowercase_first(name: str) -> str:
    return name[:1].lower() + name[1:]


def merge_known(defaults: Mapping[str, Any], user: Any) -> dict[str, Any]:
    """Overlay the user's values on the defaults; unknown keys are dropped as the Go parsers do."""
    out = copy.deepcopy(dict(defaults))
    if not isinstance(user, Mapping):
        return out
    for key, default in defaults.items():
        if key not in user or user[key] is None:
            continue
        value = user[key]
        out[key] = merge_known(default, value) if isinstance(default, Mapping) else value
    return out


def build_class(
    body: Mapping[str, Any], existing_names: Iterable[str], modules: frozenset[str] = DEFAULT_MODULES
) -> dict[str, Any]:
    """Validate a create body and return the class JSON the server will store and serve.

    Module defaults are filled as `SetClassDefaults` does: the vectorizer's class settings into the
    class `moduleConfig` (legacy) or the named vector's `vectorizer` entry, and its property settings
    into every property's `moduleConfig`.
    """
    if not isinstance(body, Mapping) or not isinstance(body.get("class"), str):
        raise ServerError("class name is required")
    name = uppercase_first(body["class"])
    if not CLASS_NAME_RE.match(name):
        raise ServerError(f"'{name}' is not a valid class name")
    for other in existing_names:
        if other == name:
            raise ServerError(f"class name {name} already exists")
        if other.lower() == name.lower():
            raise ServerError(f'class already exists: found similar class "{other}"')

    mt = _multi_tenancy(body.get("multiTenancyConfig"))
    if mt["enabled"] and body.get("shardingConfig"):
        raise ServerError("cannot have both shardingConfig and multiTenancyConfig")
    out: dict[str, Any] = {"class": name}
    if body.get("description"):
        out["description"] = body["description"]
    out["invertedIndexConfig"] = _inverted(body.get("invertedIndexConfig"))
    out["multiTenancyConfig"] = mt
    out["replicationConfig"] = _replication(body.get("replicationConfig"))
    out["shardingConfig"] = copy.deepcopy(MT_SHARDING) if mt["enabled"] else _sharding(body)
    out["properties"] = build_properties(body.get("properties") or [], name, set())
    named = body.get("vectorConfig") or {}
    if not isinstance(named, Mapping):
        raise ServerError("vectorConfig must be an object")
    module_config = check_module_config(body.get("moduleConfig"), modules)
    vectorizers: list[tuple[str, Module]] = []
    has_legacy = not named or any(body.get(k) for k in ("vectorizer", "vectorIndexType", "vectorIndexConfig"))
    if has_legacy:
        vectorizer = body.get("vectorizer") or "none"
        module = vectorizer_module(vectorizer, modules)
        index_type = body.get("vectorIndexType") or "hnsw"
        out["vectorizer"] = vectorizer
        out["vectorIndexType"] = index_type
        out["vectorIndexConfig"] = index_config(index_type, body.get("vectorIndexConfig"))
        if module is not None:
            module_config[vectorizer] = class_settings(module, module_config.get(vectorizer))
            vectorizers.append((vectorizer, module))
    configured = [m for m in module_config if _is_vectorizer(m)]
    if len(configured) > 1:
        raise ServerError(
            f"multiple vectorizers configured in class's moduleConfig: [{' '.join(configured)}]. "
            f'class.vectorizer is set to "{out.get("vectorizer", "none")}"'
        )
    if named:
        out["vectorConfig"] = {}
        for vec_name, cfg in named.items():
            out["vectorConfig"][vec_name], module = _named_vector(vec_name, cfg, modules)
            if module is not None:
                vectorizers.append((next(iter(out["vectorConfig"][vec_name]["vectorizer"])), module))
    if module_config:
        out["moduleConfig"] = module_config
    for prop in out["properties"]:
        add_property_module_defaults(prop, vectorizers)
    return out


def _is_vectorizer(name: str) -> bool:
    return name.startswith(("text2vec-", "multi2vec-"))


def vectorizer_modules(class_json: Mapping[str, Any]) -> list[tuple[str, Module]]:
    """The vectorizers (configured name, module) a stored class uses, for properties added later."""
    names = [class_json.get("vectorizer") or "none"]
    names += [next(iter(c["vectorizer"])) for c in (class_json.get("vectorConfig") or {}).values()]
    return [(n, m) for n in names if (m := lookup(n)) is not None]


def add_property_module_defaults(prop: dict[str, Any], vectorizers: Iterable[tuple[str, Module]]) -> None:
    """`setSinglePropertyConfigDefaults` per vectorizer; user settings win over the defaults."""
    for name, module in vectorizers:
        merged = property_settings(module, name, prop.get("moduleConfig"))
        if merged is not None:
            prop["moduleConfig"] = {**(prop.get("moduleConfig") or {}), name: merged}


def build_properties(raw_props: Iterable[Any], class_name: str, taken: set[str]) -> list[dict[str, Any]]:
    """Properties with their defaults; names already in `taken` (lower-cased) are conflicts."""
    out = []
    for raw in raw_props:
        prop = _property(raw, class_name, nested=False)
        key = prop["name"].lower()
        if key in taken:
            raise ServerError(
                f'class "{class_name}": conflict for property "{prop["name"]}": '
                "already in use or provided multiple times"
            )
        taken.add(key)
        out.append(prop)
    return out


def index_config(index_type: str, user: Any) -> dict[str, Any]:
    """Vector index config with defaults; the distance is validated for the index type."""
    defaults = INDEX_DEFAULTS.get(index_type)
    if defaults is None:
        raise ServerError(f'unrecognized or unsupported vectorIndexType "{index_type}"')
    if user is not None and not isinstance(user, Mapping):
        raise ServerError("vectorIndexConfig must be an object")
    cfg = merge_known(defaults, user)
    distance = cfg["distance"]
    allowed = HFRESH_DISTANCES if index_type == "hfresh" else DISTANCES
    if distance not in allowed:
        raise ServerError(
            f"vector index config: unsupported distance type '{distance}' for {index_type} index"
        )
    if index_type == "dynamic":
        cfg["hnsw"]["distance"] = distance
        cfg["flat"]["distance"] = distance
    return cfg


def _named_vector(name: str, raw: Any, modules: frozenset[str]) -> tuple[dict[str, Any], Module | None]:
    if not isinstance(raw, Mapping):
        raise ServerError(f"vectorConfig {name!r} must be an object")
    vectorizer = raw.get("vectorizer") or {"none": {}}
    if not isinstance(vectorizer, Mapping) or len(vectorizer) != 1:
        raise ServerError(
            f"class.VectorConfig.Vectorizer must consist only 1 configuration, got: {len(vectorizer or {})}"
        )
    module_name = next(iter(vectorizer))
    module = vectorizer_module(module_name, modules, target=name)
    settings = dict(vectorizer[module_name] or {})
    if module is not None:
        settings = class_settings(module, settings)
    index_type = raw.get("vectorIndexType") or "hnsw"
    config = {
        "vectorizer": {module_name: settings},
        "vectorIndexType": index_type,
        "vectorIndexConfig": index_config(index_type, raw.get("vectorIndexConfig")),
    }
    return config, module


def _multi_tenancy(raw: Any) -> dict[str, bool]:
    raw = raw if isinstance(raw, Mapping) else {}
    return {
        "enabled": bool(raw.get("enabled", False)),
        "autoTenantCreation": bool(raw.get("autoTenantCreation", False)),
        "autoTenantActivation": bool(raw.get("autoTenantActivation", False)),
    }


def _inverted(raw: Any) -> dict[str, Any]:
    cfg = merge_known(INVERTED_DEFAULTS, raw)
    stopwords = cfg["stopwords"]
    if stopwords["preset"] not in ("en", "none"):
        raise ServerError(f"stopwordPreset '{stopwords['preset']}' does not exist")
    for word in stopwords["additions"] or ():
        if word in (stopwords["removals"] or ()):
            raise ServerError(f"found '{word}' in both stopwords.additions and stopwords.removals")
    return cfg


def _replication(raw: Any) -> dict[str, Any]:
    cfg = merge_known({"factor": 1, "asyncEnabled": False, "deletionStrategy": "TimeBasedResolution"}, raw)
    if cfg["factor"] < 1:
        cfg["factor"] = 1
    if cfg["factor"] > 1:
        raise ServerError(f"not enough replicas: found 1 want {cfg['factor']}")
    return cfg


def _sharding(body: Mapping[str, Any]) -> dict[str, Any]:
    cfg = merge_known(SHARDING_DEFAULTS, body.get("shardingConfig"))
    cfg["actualCount"] = cfg["desiredCount"]
    cfg["desiredVirtualCount"] = cfg["desiredCount"] * cfg["virtualPerPhysical"]
    cfg["actualVirtualCount"] = cfg["desiredVirtualCount"]
    return cfg


def _property(raw: Any, class_name: str, *, nested: bool) -> dict[str, Any]:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("name"), str):
        raise ServerError("property must be an object with a name")
    name = raw["name"] if nested else lowercase_first(raw["name"])
    if not PROPERTY_NAME_RE.match(name):
        raise ServerError(f"'{name}' is not a valid property name")
    if not nested and name in RESERVED_PROPERTY_NAMES:
        raise ServerError(f"'{name}' is a reserved property name")
    data_type = raw.get("dataType")
    if not isinstance(data_type, list) or not data_type or not all(isinstance(t, str) for t in data_type):
        raise ServerError(f"property '{name}': invalid dataType: {data_type}")
    data_type = [_migrate_type(t) for t in data_type]
    primitive = data_type[0][:1].islower()
    if primitive and (len(data_type) > 1 or data_type[0] not in PRIMITIVE_TYPES):
        raise ServerError(f"property '{name}': invalid dataType: {data_type}")
    if not primitive:
        if nested:
            raise ServerError(f"nested property '{name}': cross references are not allowed")
        for target in data_type:
            if not CLASS_NAME_RE.match(target):
                raise ServerError(f"property '{name}': invalid dataType: reference to '{target}'")
    kind = data_type[0] if primitive else "cref"
    out: dict[str, Any] = {"name": name, "dataType": data_type}
    if raw.get("description"):
        out["description"] = raw["description"]
    if not nested and isinstance(raw.get("moduleConfig"), Mapping):
        out["moduleConfig"] = {k: dict(v or {}) for k, v in raw["moduleConfig"].items()}
    tokenization = raw.get("tokenization") or None
    if kind in TEXT_TYPES:
        tokenization = _migrated_tokenization(raw, tokenization)
        if tokenization not in TOKENIZATIONS:
            raise ServerError(f"tokenization '{tokenization}' is not allowed for data type '{kind}'")
        out["tokenization"] = tokenization
    elif tokenization:
        raise ServerError(f"Tokenization is not allowed for data type '{kind}'")
    out.update(_indexing(raw, name, kind, nested=nested))
    if kind in NESTED_TYPES:
        children = raw.get("nestedProperties") or []
        if not children:
            raise ServerError(
                f"property '{name}': At least one nested property is required for data type object/object[]"
            )
        out["nestedProperties"] = [_property(child, class_name, nested=True) for child in children]
    elif raw.get("nestedProperties"):
        raise ServerError(
            f"property '{name}': nestedProperties not allowed for data types other than object/object[]"
        )
    return out


def _migrate_type(data_type: str) -> str:
    """`string` is deprecated; real Weaviate migrates it to `text` on create."""
    return {"string": "text", "string[]": "text[]"}.get(data_type, data_type)


def _migrated_tokenization(raw: Mapping[str, Any], tokenization: str | None) -> str:
    was_string = raw["dataType"][0] in ("string", "string[]")
    if was_string and tokenization in (None, "word"):
        return "whitespace"
    return tokenization or "word"


def _indexing(raw: Mapping[str, Any], name: str, kind: str, *, nested: bool) -> dict[str, bool]:
    filterable = raw.get("indexFilterable")
    searchable = raw.get("indexSearchable")
    range_filters = raw.get("indexRangeFilters")
    inverted = raw.get("indexInverted")
    if inverted is not None and filterable is None and searchable is None and range_filters is None:
        filterable, searchable, range_filters = inverted, inverted and kind in TEXT_TYPES, False
    if filterable is None:
        filterable = not (nested and kind == "blob")
    if searchable is None:
        searchable = kind in TEXT_TYPES
    if range_filters is None:
        range_filters = False
    if searchable and kind not in TEXT_TYPES:
        raise ServerError(
            f"`indexSearchable` is allowed only for text/text[] data types. "
            f"For other data types set false or leave empty (property '{name}')"
        )
    if range_filters and kind not in RANGE_TYPES:
        raise ServerError(
            f"`indexRangeFilters` is allowed only for number/int/date data types. "
            f"For other data types set false or leave empty (property '{name}')"
        )
    return {
        "indexFilterable": bool(filterable),
        "indexSearchable": bool(searchable),
        "indexRangeFilters": bool(range_filters),
    }
