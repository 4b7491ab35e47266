"""gRPC `Filters` compiled into a Python predicate over stored objects.

Covers every operator of the client's `Filter` helpers: the object id, creation/update times (with
`indexTimestamps`), scalar or array properties with equal, not equal, ranges, like, contains
any/all/none, is-null (with `indexNullState`), property length (with `indexPropertyLength`), geo
range on `geoCoordinates`, and and/or/not. Text compares by tokens as Weaviate's filterable index
does (a `word` property "Hello World" is equal to "hello").

References as `inverted/searcher.go` and `searcher_ref_filter.go` handle them: a count target (an
int value on a reference property) compares the number of stored references, dangling ones
included, a missing property counting 0; a reference path first runs the inner filter on the
target collection (same tenant), then keeps the objects whose reference list holds one of the
matching (collection, id) pairs or, for a classless beacon, one of the ids; dangling references
never match. Nested-path filters are
rejected.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable
from typing import Any

from weaviate.proto.v1 import base_pb2

from .class_info import ClassInfo, Prop
from .errors import ServerError, not_implemented
from .schema_json import lowercase_first
from .store import Store, StoredObject
from .text_analysis import tokens_of
from .values import date_to_ns, normalize_date

Predicate = Callable[[bytes, StoredObject], bool]
Op = base_pb2.Filters.Operator

_RANGES: dict[int, Callable[[Any, Any], bool]] = {
    Op.OPERATOR_GREATER_THAN: lambda a, b: a > b,
    Op.OPERATOR_GREATER_THAN_EQUAL: lambda a, b: a >= b,
    Op.OPERATOR_LESS_THAN: lambda a, b: a < b,
    Op.OPERATOR_LESS_THAN_EQUAL: lambda a, b: a <= b,
}
_CONTAINS = (Op.OPERATOR_CONTAINS_ANY, Op.OPERATOR_CONTAINS_ALL, Op.OPERATOR_CONTAINS_NONE)
_TOKENIZED = frozenset({"word", "lowercase", "whitespace", "trigram"})
EARTH_RADIUS_M = 6371e3


def compile_filter(flt: base_pb2.Filters, info: ClassInfo, store: Store, tenant: str) -> Predicate:
    """The filter as a predicate; reference paths are resolved now, in `tenant`, under the store lock."""
    op = flt.operator
    if op in (Op.OPERATOR_AND, Op.OPERATOR_OR, Op.OPERATOR_NOT):
        parts = [compile_filter(f, info, store, tenant) for f in flt.filters]
        if op == Op.OPERATOR_AND:
            return lambda k, o: all(p(k, o) for p in parts)
        if op == Op.OPERATOR_OR:
            return lambda k, o: any(p(k, o) for p in parts)
        return lambda k, o: not any(p(k, o) for p in parts)
    if op == Op.OPERATOR_UNSPECIFIED:
        raise ServerError(f"unknown filter operator {op}")
    if flt.HasField("target"):
        kind = flt.target.WhichOneof("target")
        if kind == "count":
            return _ref_count(flt, info, flt.target.count.on)
        if kind in ("single_target", "multi_target"):
            return _ref_path(flt, info, store, tenant)
        return _leaf(flt, info, flt.target.property)
    if len(flt.on) != 1:
        if len(flt.on) % 2 != 1:
            raise ServerError(
                "paths needs to have a uneven number of components: property, class, property, ...., "
                f"got {list(flt.on)}"
            )
        return compile_filter(_path_as_target(flt), info, store, tenant)
    return _leaf(flt, info, flt.on[0])


def _path_as_target(flt: base_pb2.Filters) -> base_pb2.Filters:
    """The legacy `on` path `[prop, Class, prop, ...]` as the equivalent multi-target chain."""
    target = base_pb2.FilterTarget(property=flt.on[-1])
    for i in range(len(flt.on) - 3, -1, -2):
        target = base_pb2.FilterTarget(
            multi_target=base_pb2.FilterReferenceMultiTarget(
                on=flt.on[i], target_collection=flt.on[i + 1], target=target
            )
        )
    out = base_pb2.Filters()
    out.CopyFrom(flt)
    del out.on[:]
    out.target.CopyFrom(target)
    return out


def _ref_count(flt: base_pb2.Filters, info: ClassInfo, on: str) -> Predicate:
    """An int compared with the number of references, the `<prop>__meta_count` index in Weaviate."""
    prop = _prop(info, on)
    if not prop.is_ref:
        return _leaf(flt, info, on)
    if not (prop.filterable or prop.searchable):
        raise ServerError(
            f"Searching by property '{prop.name}' count requires inverted index. Is `indexFilterable` "
            f"option of property '{prop.name}' enabled? Set it to `true` or leave empty"
        )
    needles = [_converter("int")(v) for v in _as_list(_test_value(flt))]
    name = prop.name
    return _matcher(flt.operator, lambda k, o: [len(o.refs.get(name, ()))], needles, tokens=False)


def _ref_path(flt: base_pb2.Filters, info: ClassInfo, store: Store, tenant: str) -> Predicate:
    """Objects referencing one of the target objects the inner filter matches (`refFilterExtractor`)."""
    target = flt.target
    if target.WhichOneof("target") == "single_target":
        step = target.single_target
        prop = _prop(info, step.on)
        if len(prop.targets) != 1:
            shown = prop.targets if prop.is_ref else (prop.data_type,)
            raise ServerError(
                f"expected reference property with a single target, got [{' '.join(shown)}] for {prop.name} "
            )
        target_class = prop.targets[0]
    else:
        step = target.multi_target
        prop = _prop(info, step.on)
        target_class = step.target_collection
    coll = store.find(target_class)
    if coll is None:
        raise ServerError(f"could not find class {target_class} in schema")
    inner = base_pb2.Filters()
    inner.CopyFrom(flt)
    inner.target.CopyFrom(step.target)
    predicate = compile_filter(inner, coll.info, store, tenant)
    shard = store.shard_if_active(coll, tenant)
    matched = (
        {(coll.info.name, str(uuid.UUID(bytes=k))) for k, o in shard.in_order() if predicate(k, o)}
        if shard is not None
        else set()
    )
    ids = {target_id for _, target_id in matched}
    name = prop.name
    return lambda k, o: any(ref in matched or (not ref[0] and ref[1] in ids) for ref in o.refs.get(name, ()))


def _leaf(flt: base_pb2.Filters, info: ClassInfo, name: str) -> Predicate:
    op = flt.operator
    raw = _test_value(flt)
    if name == "_id":
        needles = [_uuid_text(v) for v in _as_list(raw)]
        return _matcher(op, lambda k, o: [str(uuid.UUID(bytes=k))], needles, tokens=False)
    if name in ("_creationTimeUnix", "_lastUpdateTimeUnix"):
        if not info.index_timestamps:
            raise ServerError(
                "Timestamps must be indexed to be filterable! Add `IndexTimestamps: true` to the "
                f"InvertedIndexConfig in {info.name}"
            )
        attr = "created" if name == "_creationTimeUnix" else "updated"
        needles = [_timestamp_ms(v) for v in _as_list(raw)]
        return _matcher(op, lambda k, o: [getattr(o, attr)], needles, tokens=False)
    if "." in name:
        raise not_implemented("filters on nested object properties")
    if name.startswith("len(") and name.endswith(")"):
        return _length(_prop(info, name[4:-1]), op, raw, info)
    prop = _prop(info, name)
    if op == Op.OPERATOR_IS_NULL:
        return _is_null(prop, raw, info)
    if prop.is_ref:
        if flt.WhichOneof("test_value") == "value_int":
            return _ref_count(flt, info, name)
        raise ServerError(
            f"reference property '{prop.name}' can only be filtered by its count (an int value) or "
            "through a path into the referenced collection"
        )
    base = prop.data_type.removesuffix("[]")
    if op == Op.OPERATOR_WITHIN_GEO_RANGE:
        return _geo_range(prop, flt)
    if base in ("blob", "object", "geoCoordinates", "phoneNumber"):
        raise ServerError(f"data type {prop.data_type} of property '{prop.name}' cannot be filtered")
    if not (prop.filterable or (op in _RANGES and prop.range_filters)):
        raise ServerError(
            f"Filtering by property '{prop.name}' requires inverted index. Is `indexFilterable` option of "
            f"property '{prop.name}' enabled? Set it to `true` or leave empty"
        )
    tokenize = _tokenizer(prop) if base == "text" else None
    convert = _converter(base)
    needles = [convert(v) for v in _as_list(raw)]
    if tokenize is not None and op != Op.OPERATOR_LIKE and op not in _RANGES:
        needles = [t for n in needles for t in tokenize(n)]
    getter = _property_values(prop.name, base, tokenize if op not in _RANGES else None)
    return _matcher(op, getter, needles, tokens=tokenize is not None and op not in _RANGES)


def _prop(info: ClassInfo, name: str) -> Prop:
    prop = info.props.get(lowercase_first(name))
    if prop is None:
        raise ServerError(
            f"no such prop with name '{lowercase_first(name)}' found in class '{info.name}' in the schema. "
            "Check your schema files for which properties in this class are available"
        )
    return prop


def _length(prop: Prop, op: int, raw: Any, info: ClassInfo) -> Predicate:
    """Characters of a text, elements of an array; a missing property has length 0 as in Weaviate."""
    if not info.index_property_length or prop.data_type in ("geoCoordinates", "phoneNumber", "blob"):
        raise ServerError(
            "Property length must be indexed to be filterable! add `IndexPropertyLength: true` to the "
            f"invertedIndexConfig in {info.name}.  Geo-coordinates, phone numbers and data blobs are not "
            "supported by property length."
        )
    needles = [_converter("int")(v) for v in _as_list(raw)]
    name = prop.name

    def length(key: bytes, obj: StoredObject) -> list[int]:
        value = obj.props.get(name)
        return [0 if value is None else len(value)]

    return _matcher(op, length, needles, tokens=False)


def _geo_range(prop: Prop, flt: base_pb2.Filters) -> Predicate:
    """Great-circle (haversine) distance in metres from the filter's point, inclusive."""
    if prop.data_type != "geoCoordinates" or not flt.HasField("value_geo"):
        raise ServerError(f"WithinGeoRange filter needs a geoCoordinates property, got '{prop.name}'")
    lat0, lon0, limit = flt.value_geo.latitude, flt.value_geo.longitude, flt.value_geo.distance
    name = prop.name

    def within(key: bytes, obj: StoredObject) -> bool:
        point = obj.props.get(name)
        if point is None:
            return False
        return haversine_m(lat0, lon0, point[0], point[1]) <= limit

    return within


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def _matcher(
    op: int, values: Callable[[bytes, StoredObject], list[Any]], needles: list[Any], *, tokens: bool
) -> Predicate:
    if op == Op.OPERATOR_EQUAL:
        if tokens:
            wanted = set(needles)
            return lambda k, o: bool(wanted) and wanted.issubset(values(k, o))
        return lambda k, o: any(v in needles for v in values(k, o))
    if op == Op.OPERATOR_NOT_EQUAL:
        equal = _matcher(Op.OPERATOR_EQUAL, values, needles, tokens=tokens)
        return lambda k, o: not equal(k, o)
    if op in _RANGES:
        compare, needle = _RANGES[op], _single(needles)
        return lambda k, o: any(compare(v, needle) for v in values(k, o))
    if op == Op.OPERATOR_LIKE:
        pattern = re.compile(
            "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in str(_single(needles))),
            re.IGNORECASE | re.DOTALL,
        )
        return lambda k, o: any(pattern.fullmatch(str(v)) for v in values(k, o))
    if op in _CONTAINS:
        wanted = set(needles)
        if op == Op.OPERATOR_CONTAINS_ANY:
            return lambda k, o: not wanted.isdisjoint(values(k, o))
        if op == Op.OPERATOR_CONTAINS_ALL:
            return lambda k, o: wanted.issubset(values(k, o))
        return lambda k, o: wanted.isdisjoint(values(k, o))
    raise ServerError(f"unknown filter operator {op}")


def _is_null(prop: Prop, raw: Any, info: ClassInfo) -> Predicate:
    if not info.index_null_state:
        raise ServerError(
            "Nullstate must be indexed to be filterable! Add `indexNullState: true` to the invertedIndexConfig"
        )
    want_null = bool(raw)
    if prop.is_ref:
        return lambda k, o: (not o.refs.get(prop.name)) == want_null
    return lambda k, o: (o.props.get(prop.name) in (None, [])) == want_null


def _test_value(flt: base_pb2.Filters) -> Any:
    kind = flt.WhichOneof("test_value")
    if kind is None:
        raise ServerError(f"unknown value type {kind}")
    value = getattr(flt, kind)
    return list(value.values) if kind.endswith("_array") else value


def _as_list(raw: Any) -> list[Any]:
    return raw if isinstance(raw, list) else [raw]


def _single(needles: list[Any]) -> Any:
    if len(needles) != 1:
        raise ServerError("this filter operator needs exactly one value")
    return needles[0]


def _uuid_text(value: Any) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return str(value)


def _timestamp_ms(value: Any) -> int:
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        return int(value)
    try:
        return date_to_ns(normalize_date(value)) // 1_000_000
    except (ValueError, TypeError):
        raise ServerError(
            f"invalid timestamp value {value!r}: expected unix milliseconds or RFC3339"
        ) from None


def _converter(base: str) -> Callable[[Any], Any]:
    def to_int(v: Any) -> int:
        number = float(v) if isinstance(v, str) else v
        if isinstance(number, bool) or not float(number).is_integer():
            raise ServerError(f"expected an integer value, got {v!r}")
        return int(number)

    def to_number(v: Any) -> float:
        if isinstance(v, bool):
            raise ServerError(f"expected a number value, got {v!r}")
        return float(v)

    def to_bool(v: Any) -> bool:
        if not isinstance(v, bool):
            raise ServerError(f"expected a boolean value, got {v!r}")
        return v

    def to_date(v: Any) -> int:
        try:
            return date_to_ns(normalize_date(v))
        except (ValueError, TypeError):
            raise ServerError(f"expected a RFC3339 date value, got {v!r}") from None

    def to_text(v: Any) -> str:
        if not isinstance(v, str):
            raise ServerError(f"expected a text value, got {v!r}")
        return v

    converters: dict[str, Callable[[Any], Any]] = {
        "int": to_int,
        "number": to_number,
        "boolean": to_bool,
        "date": to_date,
        "text": to_text,
        "uuid": lambda v: _uuid_text(to_text(v)),
    }
    try:
        return converters[base]
    except KeyError:
        raise ServerError(f"data type {base} cannot be filtered") from None


def _tokenizer(prop: Prop) -> Callable[[str], list[str]] | None:
    mode = prop.tokenization or "word"
    if mode not in _TOKENIZED:
        return None
    return lambda text: tokens_of(mode, text)


def _property_values(
    name: str, base: str, tokenize: Callable[[str], list[str]] | None
) -> Callable[[bytes, StoredObject], list[Any]]:
    def values(key: bytes, obj: StoredObject) -> list[Any]:
        value = obj.props.get(name)
        if value is None:
            return []
        items = value if isinstance(value, list) else [value]
        if base == "date":
            return [date_to_ns(v) for v in items]
        if tokenize is not None:
            return [t for item in items for t in tokenize(item)]
        return items

    return values
