"""Executes a MigrationPlan per object: Weaviate objects in, Milvus rows and rejects out.

This is the hot loop of a migration, so every per-field converter is built once per plan and cached;
the per-object work is a dict lookup and one converter call per field. A value that does not fit the
target is never truncated or coerced: the whole object becomes a Reject naming the field and the limit,
and the rest of the batch carries on.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple
from uuid import UUID

import numpy as np
from pydantic import BaseModel

from w2z_dagster.core.plan import (
    ID_FIELD,
    TENANT_BYTES,
    TENANT_FIELD,
    UPDATED_FIELD,
    UUID_BYTES,
    UUID_FIELD,
    FieldRole,
    MigrationPlan,
    MilvusField,
)
from w2z_dagster.core.profiles import TargetLimits
from w2z_dagster.core.schema import PropertySpec, SourceObject, WeaviateType, to_millis

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


class Reject(BaseModel):
    uuid: str
    tenant: str | None
    reason: str
    object: dict[str, Any]


class TransformResult(BaseModel):
    rows: list[dict[str, Any]]
    rejects: list[Reject]


class _Invalid(Exception):
    """A value the target cannot hold; its message becomes the Reject reason."""


Converter = Callable[[Any], Any]
# Nested property shapes: name -> (type, shape of its own nested properties).
Shape = Mapping[str, tuple[WeaviateType, "Shape"]]


def _shape(specs: Sequence[PropertySpec]) -> Shape:
    return {p.name: (p.data_type, _shape(p.nested)) for p in specs}


def canonical_date(value: datetime | str) -> str:
    """UTC RFC 3339 with microseconds, fixed width, so that string order is time order.

    Naive datetimes are taken as UTC, as weaviate-client does when it sends them.
    """
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    u = value.astimezone(UTC)
    return (
        f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}"
        f".{u.microsecond:06d}Z"
    )


def parse_date(value: datetime | str) -> datetime:
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _utf8_bytes(value: str, label: str) -> int:
    try:
        return len(value.encode("utf-8"))
    except UnicodeEncodeError as e:
        raise _Invalid(f"{label} is not valid Unicode text ({e.reason})") from e


def _json_size(value: Any, label: str) -> int:
    """Size as pymilvus sends it: compact UTF-8 JSON."""
    return _utf8_bytes(json.dumps(value, ensure_ascii=False, separators=(",", ":")), label)


# --- to Milvus ----------------------------------------------------------------------------------------


def _text(label: str, max_bytes: int) -> Converter:
    quick = max_bytes // 4  # a str of at most this many code points cannot exceed max_bytes in UTF-8

    def convert(value: Any) -> str:
        if isinstance(value, UUID):
            value = str(value)
        if not isinstance(value, str):
            raise _Invalid(f"{label} is of type {type(value).__name__}, not text")
        if len(value) > quick:
            size = _utf8_bytes(value, label)
            if size > max_bytes:
                raise _Invalid(f"{label} is {size} UTF-8 bytes; Milvus VARCHAR holds at most {max_bytes}")
        return value

    return convert


def _canonical(value: datetime | str, label: str) -> str:
    try:
        return canonical_date(value)
    except (ValueError, OverflowError) as e:
        raise _Invalid(f"{label} is not a representable RFC 3339 date ({e})") from e


def _date(label: str) -> Converter:
    def convert(value: Any) -> str:
        if not isinstance(value, datetime | str):
            raise _Invalid(f"{label} is of type {type(value).__name__}, not a date")
        return _canonical(value, label)

    return convert


def _int(label: str) -> Converter:
    def convert(value: Any) -> int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise _Invalid(f"{label} is of type {type(value).__name__}, not an integer")
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise _Invalid(f"{label} is {value}; Milvus INT64 holds {_INT64_MIN} to {_INT64_MAX}")
        return value

    return convert


def _number(label: str) -> Converter:
    def convert(value: Any) -> float:
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise _Invalid(f"{label} is of type {type(value).__name__}, not a number")
        value = float(value)
        if not math.isfinite(value):
            raise _Invalid(f"{label} is {value}; Milvus rejects NaN and infinite numbers")
        return value

    return convert


def _bool(label: str) -> Converter:
    def convert(value: Any) -> bool:
        if not isinstance(value, bool):
            raise _Invalid(f"{label} is of type {type(value).__name__}, not a boolean")
        return value

    return convert


def _array(label: str, capacity: int, element: Converter) -> Converter:
    def convert(value: Any) -> list[Any]:
        if not isinstance(value, list | tuple):
            raise _Invalid(f"{label} is of type {type(value).__name__}, not a list")
        if len(value) > capacity:
            raise _Invalid(f"{label} has {len(value)} elements; Milvus ARRAY holds at most {capacity}")
        out = []
        for item in value:
            if item is None:
                raise _Invalid(f"{label} contains a null element; Milvus arrays cannot hold nulls")
            out.append(element(item))
        return out

    return convert


def _to_json(value: Any, shape: Shape, label: str) -> Any:
    """Plain JSON values; nested dates become canonical text so they stay comparable and filterable."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise _Invalid(f"{label} has a non-text key {key!r}")
            out[key] = _to_json(item, shape.get(key, (None, {}))[1], label)
        return out
    if isinstance(value, list | tuple):
        return [_to_json(item, shape, label) for item in value]
    if isinstance(value, datetime):
        return _canonical(value, label)
    if isinstance(value, float) and not math.isfinite(value):
        raise _Invalid(f"{label} contains {value}; JSON cannot hold NaN or infinite numbers")
    if isinstance(value, int) and not isinstance(value, bool) and not _INT64_MIN <= value <= _INT64_MAX:
        raise _Invalid(f"{label} contains {value}; Milvus JSON holds integers of at most 64 bits")
    if isinstance(value, UUID):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise _Invalid(f"{label} contains a {type(value).__name__}, which JSON cannot hold")


def _json(label: str, shape: Shape, max_bytes: int) -> Converter:
    def convert(value: Any) -> Any:
        out = _to_json(value, shape, label)
        size = _json_size(out, label)
        if size > max_bytes:
            raise _Invalid(f"{label} is {size} bytes as JSON; Milvus JSON holds at most {max_bytes}")
        return out

    return convert


def _geo(label: str) -> Converter:
    def convert(value: Any) -> dict[str, float]:
        try:
            return {"latitude": float(value["latitude"]), "longitude": float(value["longitude"])}
        except (KeyError, TypeError, ValueError) as e:
            raise _Invalid(f"{label} is not a {{latitude, longitude}} pair") from e

    return convert


def _dense_vector(label: str, dim: int) -> Converter:
    def convert(value: Any) -> np.ndarray:
        try:
            arr = np.asarray(value, dtype=np.float32)
        except (TypeError, ValueError) as e:
            raise _Invalid(f"{label} is not a list of numbers") from e
        if arr.ndim != 1:
            raise _Invalid(f"{label} is not a flat list of numbers")
        if arr.shape[0] != dim:
            raise _Invalid(f"{label} has dimension {arr.shape[0]}; the target field expects {dim}")
        if not np.isfinite(arr).all():
            raise _Invalid(f"{label} contains NaN, infinity or a value beyond float32 range")
        return arr

    return convert


def _multi_vector(label: str, dim: int | None, max_bytes: int) -> Converter:
    def convert(value: Any) -> list[list[float]]:
        try:
            arr = np.asarray(value, dtype=np.float32)
        except (TypeError, ValueError) as e:
            raise _Invalid(f"{label} is not a list of equally long vectors") from e
        if arr.ndim != 2:
            raise _Invalid(f"{label} is not a list of equally long vectors")
        if dim is not None and arr.shape[1] != dim:
            raise _Invalid(f"{label} has dimension {arr.shape[1]}; the target expects {dim}")
        if not np.isfinite(arr).all():
            raise _Invalid(f"{label} contains NaN, infinity or a value beyond float32 range")
        out = arr.tolist()
        size = _json_size(out, label)
        if size > max_bytes:
            raise _Invalid(f"{label} is {size} bytes as JSON; Milvus JSON holds at most {max_bytes}")
        return out

    return convert


_SCALARS: dict[WeaviateType, Callable[[str], Converter]] = {
    WeaviateType.DATE: _date,
    WeaviateType.INT: _int,
    WeaviateType.NUMBER: _number,
    WeaviateType.BOOLEAN: _bool,
    WeaviateType.GEO: _geo,
}
_ELEMENTS: dict[WeaviateType, Callable[[str], Converter]] = {
    WeaviateType.DATE_ARRAY: _date,
    WeaviateType.INT_ARRAY: _int,
    WeaviateType.NUMBER_ARRAY: _number,
    WeaviateType.BOOLEAN_ARRAY: _bool,
}


def _property_converter(f: MilvusField, shape: Shape, limits: TargetLimits) -> Converter:
    label = f"{'reference' if f.role == FieldRole.REFERENCE else 'property'} '{f.source}'"
    wtype = f.weaviate_type
    if wtype in _SCALARS:
        return _SCALARS[wtype](label)
    if f.data_type == "JSON":
        return _json(label, shape, limits.max_json_bytes)
    if f.data_type == "VARCHAR":
        return _text(label, f.max_length)
    element_label = f"an element of {label}"
    element = _ELEMENTS[wtype](element_label) if wtype in _ELEMENTS else _text(element_label, f.max_length)
    return _array(label, f.max_capacity, element)


# --- from Milvus -------------------------------------------------------------------------------------


def _from_json(value: Any, shape: Shape) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            wtype, sub = shape.get(key, (None, {}))
            if item is None:
                out[key] = None
            elif wtype == WeaviateType.DATE:
                out[key] = parse_date(item)
            elif wtype == WeaviateType.DATE_ARRAY:
                out[key] = [parse_date(d) for d in item]
            else:
                out[key] = _from_json(item, sub)
        return out
    if isinstance(value, list):
        return [_from_json(item, shape) for item in value]
    return value


def _identity(value: Any) -> Any:
    return value


_RESTORERS: dict[WeaviateType, Converter] = {
    WeaviateType.DATE: parse_date,
    WeaviateType.DATE_ARRAY: lambda v: [parse_date(d) for d in v],
    WeaviateType.NUMBER: float,
    WeaviateType.NUMBER_ARRAY: lambda v: [float(x) for x in v],
}


def _property_restorer(f: MilvusField, shape: Shape) -> Converter:
    if f.weaviate_type in (WeaviateType.OBJECT, WeaviateType.OBJECT_ARRAY):
        return lambda v: _from_json(v, shape)
    if f.weaviate_type in _RESTORERS:
        return _RESTORERS[f.weaviate_type]
    return list if f.data_type == "ARRAY" else _identity


# --- compiled plan ------------------------------------------------------------------------------------


class _Slot(NamedTuple):
    field: str
    source: str
    to_milvus: Converter
    from_milvus: Converter


class _Compiled(NamedTuple):
    multi_tenant: bool
    id_check: Converter
    tenant_check: Converter
    properties: tuple[_Slot, ...]
    references: tuple[_Slot, ...]
    vectors: tuple[_Slot, ...]
    reject_missing_vectors: bool
    keyword_texts: tuple[tuple[str, tuple[str, ...]], ...]
    max_text_bytes: int


_CACHE: dict[int, tuple[MigrationPlan, _Compiled]] = {}
_CACHE_SIZE = 32


def _compiled(plan: MigrationPlan) -> _Compiled:
    hit = _CACHE.get(id(plan))
    if hit is not None and hit[0] is plan:
        return hit[1]
    compiled = _compile(plan)
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[id(plan)] = (plan, compiled)
    return compiled


def _compile(plan: MigrationPlan) -> _Compiled:
    shapes = _shape(plan.source_properties)
    limits = plan.limits

    def slot(f: MilvusField) -> _Slot:
        source = f.source or ""
        if f.role == FieldRole.VECTOR:
            dense = _dense_vector(f"vector '{source}'", f.dim or 0)
            return _Slot(f.name, source, dense, lambda v: [float(x) for x in v])
        if f.role == FieldRole.MULTI_VECTOR:
            multi = _multi_vector(
                f"multi-vector '{source}'", plan.dimensions.get(source), limits.max_json_bytes
            )
            return _Slot(f.name, source, multi, _identity)
        shape = shapes[source][1]
        return _Slot(f.name, source, _property_converter(f, shape, limits), _property_restorer(f, shape))

    def slots(*roles: FieldRole) -> tuple[_Slot, ...]:
        return tuple(slot(f) for f in plan.fields_with(*roles))

    return _Compiled(
        multi_tenant=plan.multi_tenant,
        id_check=_text("object id", UUID_BYTES),
        tenant_check=_text("tenant", TENANT_BYTES),
        properties=slots(FieldRole.PROPERTY),
        references=slots(FieldRole.REFERENCE),
        vectors=slots(FieldRole.VECTOR, FieldRole.MULTI_VECTOR),
        reject_missing_vectors=plan.options.missing_vector == "reject",
        keyword_texts=tuple((f.input_field, f.sources) for f in plan.functions),
        max_text_bytes=limits.max_varchar_bytes,
    )


def primary_key(plan: MigrationPlan, uuid: str, tenant: str | None) -> str:
    return f"{tenant}:{uuid}" if plan.multi_tenant else uuid


def target_refused(
    objects: Sequence[SourceObject], refused: Mapping[str, str], plan: MigrationPlan
) -> list[Reject]:
    """Rows the target refused, as rejects carrying the original object, so nothing goes unrecorded.

    The object is kept as strict JSON like every other reject: cursor pages carry vectors as float32
    arrays, which pydantic cannot dump, and a float32 widened to a Python float survives JSON exactly.
    """
    if not refused:
        return []
    return [
        Reject(uuid=o.uuid, tenant=o.tenant, reason=f"target refused: {reason}", object=_jsonable(o))
        for o in objects
        if (reason := refused.get(primary_key(plan, o.uuid, o.tenant))) is not None
    ]


def _row(obj: SourceObject, c: _Compiled) -> dict[str, Any]:
    uuid = c.id_check(obj.uuid)
    if c.multi_tenant:
        if not obj.tenant:
            raise _Invalid("object has no tenant but the collection is multi-tenant")
        tenant = c.tenant_check(obj.tenant)
        row: dict[str, Any] = {ID_FIELD: f"{tenant}:{uuid}", UUID_FIELD: uuid, TENANT_FIELD: tenant}
    else:
        if obj.tenant:
            raise _Invalid(f"object has tenant '{obj.tenant}' but the collection is not multi-tenant")
        row = {ID_FIELD: uuid}
    row[UPDATED_FIELD] = to_millis(obj.updated)
    properties = obj.properties
    for s in c.properties:
        value = properties.get(s.source)
        row[s.field] = None if value is None else s.to_milvus(value)
    references = obj.references
    for s in c.references:
        value = references.get(s.source)
        row[s.field] = None if value is None else s.to_milvus(value)
    for field, sources in c.keyword_texts:
        row[field] = keyword_text(properties, sources, c.max_text_bytes)
    vectors = obj.vectors
    for s in c.vectors:
        value = vectors.get(s.source)
        if value is None or len(value) == 0:
            if c.reject_missing_vectors:
                raise _Invalid(f"object has no vector '{s.source}'")
            row[s.field] = None
        else:
            row[s.field] = s.to_milvus(value)
    return row


def keyword_text(properties: Mapping[str, Any], sources: Sequence[str], max_bytes: int) -> str | None:
    """The searchable text of one analyzer group: its text and text[] values joined by newlines.

    Cut at `max_bytes` on a character boundary (a VARCHAR holds no more): keyword search then misses
    only the words beyond it. None when the object has none of the texts, as Weaviate indexes nothing.
    """
    parts: list[str] = []
    for name in sources:
        value = properties.get(name)
        if isinstance(value, list):
            parts.extend(str(v) for v in value if v is not None)
        elif value is not None:
            parts.append(str(value))
    if not parts:
        return None
    joined = "\n".join(parts)
    encoded = joined.encode()
    return joined if len(encoded) <= max_bytes else encoded[:max_bytes].decode(errors="ignore")


def to_rows(objects: Sequence[SourceObject], plan: MigrationPlan) -> TransformResult:
    c = _compiled(plan)
    rows: list[dict[str, Any]] = []
    rejects: list[Reject] = []
    seen: set[str] = set()
    # float64 -> float32 overflow yields inf, which the finiteness check turns into a Reject.
    with np.errstate(over="ignore", invalid="ignore"):
        for obj in objects:
            try:
                row = _row(obj, c)
                if row[ID_FIELD] in seen:
                    raise _Invalid(
                        f"primary key '{row[ID_FIELD]}' already occurs in this batch; Milvus refuses "
                        "duplicate keys in one upsert"
                    )
            except _Invalid as e:
                rejects.append(Reject(uuid=obj.uuid, tenant=obj.tenant, reason=str(e), object=_jsonable(obj)))
                continue
            seen.add(row[ID_FIELD])
            rows.append(row)
    return TransformResult(rows=rows, rejects=rejects)


def from_row(row: Mapping[str, Any], plan: MigrationPlan) -> dict[str, Any]:
    """A Milvus row back in SourceObject normal form, so verification can compare it with the source.

    Every planned property and reference is present (None when null); vectors only when stored.
    """
    c = _compiled(plan)
    if c.multi_tenant:
        uuid, tenant = row[UUID_FIELD], row[TENANT_FIELD]
    else:
        uuid, tenant = row[ID_FIELD], None

    def restore(slots: tuple[_Slot, ...]) -> dict[str, Any]:
        out = {}
        for s in slots:
            value = row.get(s.field)
            out[s.source] = None if value is None else s.from_milvus(value)
        return out

    vectors = {k: v for k, v in restore(c.vectors).items() if v is not None}
    return {
        "uuid": uuid,
        "tenant": tenant,
        "properties": restore(c.properties),
        "references": restore(c.references),
        "vectors": vectors,
    }


# --- rejects -----------------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    """The source object as strict JSON: datetimes as ISO text, arrays as lists, NaN/inf as text."""
    if isinstance(value, BaseModel):
        value = dict(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
