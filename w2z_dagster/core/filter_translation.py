"""A Weaviate filter as the Milvus boolean expression over the collection w2z migrated.

App teams keep their Weaviate filters after the cut-over; this module says how each one reads in Milvus,
over the fields exactly as the MigrationPlan names and stores them (renamed fields, dates as fixed-width
UTC text, the UUID in `id` or `uuid`, the tenant in `tenant`, the last-update time in `w2z_updated_ms`).
Both Weaviate forms are accepted: the REST `where` JSON and the v4 client's `Filter` objects (read by
their attributes, so the core needs no weaviate-client import).

Weaviate's NotEqual, ContainsNone and Not match objects without the property, while Milvus's null
handling is not uniform (Milvus Lite 3.2 finds a null `n` in `n not in [1]` and a null array in
`array_length(a) == 0`, but not in `n != 1` or `not (n == 1)`). So negations are pushed down to the leaves (De Morgan), and every leaf
whose Weaviate result on a missing value differs from Milvus's says so explicitly with `is null` /
`is not null`: the expression never depends on how the engine treats null.

What Milvus cannot express exactly is refused, every such piece named in one line: a translation that
returns different objects would be worse than none.
"""

from __future__ import annotations

import uuid as uuid_lib
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from w2z_dagster.core.plan import FieldRole, MigrationPlan, MilvusField
from w2z_dagster.core.schema import DEFAULT_TOKENIZATION, WeaviateType, to_millis
from w2z_dagster.core.transform import canonical_date, parse_date

EXACT_TOKENIZATION = "field"
"""The one tokenization whose Equal compares whole values, as Milvus does."""

LEAF_OPERATORS = (
    "Equal",
    "NotEqual",
    "GreaterThan",
    "GreaterThanEqual",
    "LessThan",
    "LessThanEqual",
    "Like",
    "IsNull",
    "ContainsAny",
    "ContainsAll",
    "ContainsNone",
    "WithinGeoRange",
)
GROUP_OPERATORS = ("And", "Or", "Not")
_RANGES = {"GreaterThan": ">", "GreaterThanEqual": ">=", "LessThan": "<", "LessThanEqual": "<="}
_RANGE_INVERSE = {">": "<=", ">=": "<", "<": ">=", "<=": ">"}
_COMPARE: dict[str, Callable[[int, int], bool]] = {
    "Equal": lambda a, b: a == b,
    "GreaterThan": lambda a, b: a > b,
    "GreaterThanEqual": lambda a, b: a >= b,
    "LessThan": lambda a, b: a < b,
    "LessThanEqual": lambda a, b: a <= b,
}
_ID_PATHS = ("id", "_id")
_CREATED_PATH = "_creationTimeUnix"
_UPDATED_PATH = "_lastUpdateTimeUnix"
_NOT_FILTERABLE = {
    WeaviateType.GEO: "geoCoordinates",
    WeaviateType.PHONE: "phoneNumber",
    WeaviateType.BLOB: "blob",
    WeaviateType.OBJECT: "object",
    WeaviateType.OBJECT_ARRAY: "object[]",
}


class FilterError(ValueError):
    """The filter itself is wrong (unknown property, value of the wrong type); one line says what."""


class UnsupportedFilter(FilterError):
    """Pieces of a valid filter that Milvus cannot express exactly over the migrated fields."""

    def __init__(self, pieces: list[str]) -> None:
        self.pieces = tuple(pieces)
        super().__init__("cannot translate to Milvus: " + "; ".join(pieces))


class GeoPoint(BaseModel):
    model_config = ConfigDict(extra="forbid")

    latitude: float
    longitude: float


class GeoDistance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max: float


class GeoRange(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    geo_coordinates: GeoPoint = Field(alias="geoCoordinates")
    distance: GeoDistance


_VALUE_KEYS = (
    "valueText",
    "valueString",
    "valueInt",
    "valueNumber",
    "valueBoolean",
    "valueDate",
    "valueTextArray",
    "valueStringArray",
    "valueIntArray",
    "valueNumberArray",
    "valueBooleanArray",
    "valueDateArray",
    "valueGeoRange",
)


class WhereFilter(BaseModel):
    """Weaviate's REST / GraphQL `where` filter: an operator with operands, or a path and one value."""

    model_config = ConfigDict(extra="forbid")

    operator: str
    path: list[str] | None = None
    operands: list[WhereFilter] | None = None
    valueText: str | None = None
    valueString: str | None = None
    valueInt: int | None = None
    valueNumber: float | None = None
    valueBoolean: bool | None = None
    valueDate: str | None = None
    valueTextArray: list[str] | None = None
    valueStringArray: list[str] | None = None
    valueIntArray: list[int] | None = None
    valueNumberArray: list[float] | None = None
    valueBooleanArray: list[bool] | None = None
    valueDateArray: list[str] | None = None
    valueGeoRange: GeoRange | None = None

    def value(self) -> Any:
        given = [key for key in _VALUE_KEYS if getattr(self, key) is not None]
        if len(given) != 1:
            where = f"'{self.operator}' on {self.path}"
            if not given:
                raise FilterError(f"filter {where} has no value; give one of valueText, valueInt, ...")
            raise FilterError(f"filter {where} has {len(given)} values ({', '.join(given)}); give one")
        return getattr(self, given[0])


class FilterTranslation(BaseModel):
    """The expression over the mapped fields and, for a multi-tenant plan, the tenant's condition."""

    model_config = ConfigDict(frozen=True)

    expression: str
    tenant_condition: str | None = None

    @property
    def filter(self) -> str:
        """What to pass as `filter=` to MilvusClient.query / search."""
        if self.tenant_condition is None:
            return self.expression
        return f"{self.tenant_condition} and ({self.expression})"


def parse_where(where: Mapping[str, Any] | str) -> WhereFilter:
    """REST `where` JSON (text or parsed) into the model; one line on what is wrong with it."""
    try:
        if isinstance(where, str):
            return WhereFilter.model_validate_json(where)
        return WhereFilter.model_validate(where)
    except ValidationError as exc:
        first = exc.errors()[0]
        location = ".".join(str(part) for part in first["loc"]) or "the filter"
        raise FilterError(f"invalid where filter at {location}: {first['msg']}") from None


def where_from_filter(flt: Any) -> dict[str, Any]:
    """A v4 client `Filter` (`_FilterValue`, `_FilterAnd`, `_FilterOr`, `_FilterNot`) as `where` JSON.

    The client's own REST converter refuses geo ranges and single-target reference paths; this one keeps
    everything, so the translator can say which pieces Milvus cannot express.
    """
    operator = getattr(getattr(flt, "operator", None), "value", None)
    if operator in GROUP_OPERATORS:
        return {"operator": operator, "operands": [where_from_filter(f) for f in flt.filters]}
    if operator not in LEAF_OPERATORS or not hasattr(flt, "target"):
        raise FilterError(
            f"{type(flt).__name__} is not a weaviate-client filter (Filter.by_property(...) ...)"
        )
    return {"operator": operator, "path": _target_path(flt.target), **_value_json(flt.value)}


def _target_path(target: Any) -> list[str]:
    if isinstance(target, str):
        return [target]
    path = [target.link_on]
    collection = getattr(target, "target_collection", None)
    if collection is not None:
        path.append(collection)
    inner = getattr(target, "target", None)
    return path if inner is None else path + _target_path(inner)


def _value_json(value: Any) -> dict[str, Any]:
    if hasattr(value, "distance") and hasattr(value, "latitude"):
        point = {"latitude": value.latitude, "longitude": value.longitude}
        return {"valueGeoRange": {"geoCoordinates": point, "distance": {"max": value.distance}}}
    if isinstance(value, list | tuple):
        if not value:
            raise FilterError("a filter list value is empty; Weaviate needs at least one value")
        key = _value_key(value[0])
        return {f"{key}Array": [_plain(v) for v in value]}
    return {_value_key(value): _plain(value)}


def _value_key(value: Any) -> str:
    if isinstance(value, bool):
        return "valueBoolean"
    if isinstance(value, int):
        return "valueInt"
    if isinstance(value, float):
        return "valueNumber"
    if isinstance(value, datetime):
        return "valueDate"
    if isinstance(value, str | uuid_lib.UUID):
        return "valueText"
    raise FilterError(
        f"filter value {value!r} is of type {type(value).__name__}, which Weaviate cannot filter on"
    )


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid_lib.UUID):
        return str(value)
    return value


def tokenization_of(class_json: Mapping[str, Any]) -> dict[str, str]:
    """Each text property's tokenization straight from Weaviate's class JSON, for a plan built elsewhere."""
    return {
        p["name"]: p.get("tokenization") or DEFAULT_TOKENIZATION
        for p in class_json.get("properties", [])
        if p.get("tokenization") is not None or p.get("dataType", [""])[0] in ("text", "text[]")
    }


def translate_filter(
    where: WhereFilter | Mapping[str, Any] | str | Any,
    plan: MigrationPlan,
    tenant: str | None = None,
    tokenization: Mapping[str, str] | None = None,
) -> FilterTranslation:
    """The Milvus expression for a Weaviate filter on the collection `plan` migrated.

    `where` is the REST `where` JSON (text, dict or `WhereFilter`) or a v4 client `Filter`. `tokenization`
    maps Weaviate text properties to their tokenization (`tokenization_of`); without it the plan's recorded
    tokenization applies. A property it omits has Weaviate's default, `word`. A multi-tenant plan needs the `tenant` the query runs in, as Weaviate does.
    """
    if isinstance(where, WhereFilter):
        parsed = where
    elif isinstance(where, Mapping | str):
        parsed = parse_where(where)
    else:
        parsed = parse_where(where_from_filter(where))
    condition = _tenant_condition(plan, tenant)
    translator = _Translator(plan, tokenization if tokenization is not None else _planned_tokenization(plan))
    expression = translator.node(parsed, negated=False)
    if translator.unsupported:
        raise UnsupportedFilter(translator.unsupported)
    return FilterTranslation(expression=expression, tenant_condition=condition)


def _tenant_condition(plan: MigrationPlan, tenant: str | None) -> str | None:
    if plan.multi_tenant:
        if not tenant:
            raise FilterError(
                f"collection '{plan.source}' is multi-tenant: name the tenant the query runs in, as "
                "Weaviate requires"
            )
        return f"{plan.field_by_role(FieldRole.TENANT).name} == {literal(tenant)}"
    if tenant:
        raise FilterError(f"collection '{plan.source}' is not multi-tenant; drop the tenant '{tenant}'")
    return None


def literal(value: str | int | float | bool) -> str:
    """A Milvus expression literal; strings double-quoted with `\\`, `"` and line breaks escaped."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    escaped = (
        value.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
    )
    return f'"{escaped}"'


def like_pattern(pattern: str) -> str:
    """Weaviate's `*` and `?` wildcards as Milvus's `%` and `_`; Milvus's own wildcards made literal."""
    out = []
    for char in pattern:
        if char == "*":
            out.append("%")
        elif char == "?":
            out.append("_")
        elif char in "%_\\":
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


class _Leaf(NamedTuple):
    """A condition on one field: `core` holds where the value is non-null, `inverse` where it fails.

    `null_result` is Weaviate's answer for an object without the value; `null_safe` says a Milvus null
    makes `core` not true by itself (comparisons, `in`, `like`, `array_contains*`).
    """

    field: str | None
    core: str
    inverse: str
    null_result: bool = False
    null_safe: bool = True


class _Target(NamedTuple):
    """What a filter path names: the Milvus field, how its values convert, and what it holds."""

    field: MilvusField
    kind: str
    label: str
    array: bool = False
    length: bool = False


def _planned_tokenization(plan: MigrationPlan) -> dict[str, str]:
    return {p.name: p.text_tokenization for p in plan.source_properties if p.is_text}


class _Translator:
    def __init__(self, plan: MigrationPlan, tokenization: Mapping[str, str]) -> None:
        self.plan = plan
        self.tokenization = {_lower_first(k): v for k, v in tokenization.items()}
        self.unsupported: list[str] = []

    def node(self, flt: WhereFilter, negated: bool) -> str:
        if flt.operator in GROUP_OPERATORS:
            return self._group(flt, negated)
        if flt.operator not in LEAF_OPERATORS:
            known = ", ".join((*LEAF_OPERATORS, *GROUP_OPERATORS))
            raise FilterError(f"unknown filter operator '{flt.operator}' (operators: {known})")
        if not flt.path:
            raise FilterError(
                f'filter \'{flt.operator}\' has no path; name the property, e.g. "path": ["title"]'
            )
        leaf = self._leaf(flt)
        return "false" if leaf is None else _render(leaf, negated)

    def _group(self, flt: WhereFilter, negated: bool) -> str:
        if not flt.operands:
            raise FilterError(f"filter '{flt.operator}' has no operands")
        if flt.operator == "Not":
            # Weaviate's Not matches what none of its operands match.
            return self._join([self.node(f, not negated) for f in flt.operands], "or" if negated else "and")
        conjunction = (flt.operator == "And") != negated
        return self._join([self.node(f, negated) for f in flt.operands], "and" if conjunction else "or")

    @staticmethod
    def _join(parts: list[str], word: str) -> str:
        if len(parts) == 1:
            return parts[0]
        return f" {word} ".join(p if _atomic(p) else f"({p})" for p in parts)

    def _skip(self, piece: str, why: str) -> None:
        self.unsupported.append(f"{piece} ({why})")

    # --- what a path names -------------------------------------------------------------------------

    def _target(self, flt: WhereFilter) -> _Target | None:
        path = flt.path or []
        name = path[0]
        if len(path) > 1:
            self._skip(
                f"{flt.operator} through reference '{name}'",
                "Milvus has no joins; the migrated field holds only the target UUIDs",
            )
            return None
        if name in _ID_PATHS:
            role = FieldRole.UUID if self.plan.multi_tenant else FieldRole.ID
            return _Target(self.plan.field_by_role(role), "uuid", "the object id")
        if name == _CREATED_PATH:
            self._skip(f"{flt.operator} on the creation time", "w2z does not store Weaviate's creation time")
            return None
        if name == _UPDATED_PATH:
            return _Target(self.plan.field_by_role(FieldRole.UPDATED), "timestamp", "the last-update time")
        length = name.startswith("len(") and name.endswith(")")
        prop_name = name[4:-1] if length else name
        if "." in prop_name:
            self._skip(f"{flt.operator} on '{prop_name}'", "nested object properties are not filterable")
            return None
        field = self._property_field(prop_name)
        if field is None:
            return None
        wtype = field.weaviate_type
        reference = field.role == FieldRole.REFERENCE
        kind = "reference" if reference else str(wtype).removesuffix("[]")
        label = f"{'reference' if reference else 'property'} '{field.source}'"
        return _Target(field, kind, label, array=reference or str(wtype).endswith("[]"), length=length)

    def _property_field(self, name: str) -> MilvusField | None:
        wanted = _lower_first(name)
        for field in self.plan.fields_with(FieldRole.PROPERTY, FieldRole.REFERENCE):
            if _lower_first(field.source or "") == wanted:
                return field
        skipped = next((s for s in self.plan.skipped if _lower_first(s.source) == wanted), None)
        if skipped is not None:
            self._skip(f"filter on '{skipped.source}'", f"not migrated: {skipped.reason}")
            return None
        known = ", ".join(
            f.source or "" for f in self.plan.fields_with(FieldRole.PROPERTY, FieldRole.REFERENCE)
        )
        raise FilterError(
            f"collection '{self.plan.source}' has no property '{name}' (properties: {known or 'none'})"
        )

    # --- leaves ------------------------------------------------------------------------------------

    def _leaf(self, flt: WhereFilter) -> _Leaf | None:
        target = self._target(flt)
        if target is None:
            return None
        leaf = self._condition(target, flt.operator, flt.value())
        if leaf is not None and not target.field.nullable:
            return leaf._replace(field=None)
        return leaf

    def _condition(self, target: _Target, op: str, raw: Any) -> _Leaf | None:
        name = target.field.name
        if op == "IsNull":
            return self._is_null(target, raw)
        if target.length:
            return self._length(target, op, raw)
        if target.kind == "reference":
            return self._reference_count(target, op, raw)
        if op == "WithinGeoRange":
            if target.field.weaviate_type != WeaviateType.GEO:
                raise FilterError(f"WithinGeoRange needs a geoCoordinates property, not {target.label}")
            self._skip(
                f"WithinGeoRange on {target.label}",
                "w2z stores geoCoordinates as JSON and Milvus expressions have no distance function",
            )
            return None
        if target.field.weaviate_type in _NOT_FILTERABLE:
            self._skip(
                f"{op} on {target.label}",
                f"Weaviate cannot filter {_NOT_FILTERABLE[target.field.weaviate_type]} values by {op}",
            )
            return None
        if target.kind == "text":
            mode = self.tokenization.get(_lower_first(target.field.source or ""), DEFAULT_TOKENIZATION)
            if mode != EXACT_TOKENIZATION:
                self._skip(
                    f"{op} on text {target.label} (tokenization '{mode}')",
                    "Weaviate matches its words case-insensitively, Milvus compares whole strings; only "
                    "'field' tokenization translates",
                )
                return None
        if op == "Like":
            if target.kind not in ("text", "uuid") or target.array:
                self._skip(f"Like on {target.label}", "Like applies to text")
                return None
            pattern = _single(raw if isinstance(raw, list) else [raw], op, target)
            if not isinstance(pattern, str):
                raise FilterError(f"Like on {target.label} needs a text pattern, got {pattern!r}")
            if target.kind == "uuid":
                pattern = pattern.lower()
            core = f"{name} like {literal(like_pattern(pattern))}"
            return _Leaf(name, core, f"not ({core})")
        values = [self._convert(target, v) for v in (raw if isinstance(raw, list) else [raw])]
        if op in ("Equal", "NotEqual"):
            if len(values) != 1:
                raise FilterError(f"{op} on {target.label} takes one value; use ContainsAny for several")
            # Milvus Lite 3.2 cannot parse a negative number as array_contains' argument unless parenthesized.
            element = f"({values[0]})" if values[0].startswith("-") else values[0]
            core = f"array_contains({name}, {element})" if target.array else f"{name} == {values[0]}"
            inverse = f"not {core}" if target.array else f"{name} != {values[0]}"
            return _flip(_Leaf(name, core, inverse)) if op == "NotEqual" else _Leaf(name, core, inverse)
        if op in _RANGES:
            if target.kind == "boolean":
                self._skip(f"{op} on {target.label}", "booleans have no order in Milvus")
                return None
            if target.array:
                self._skip(
                    f"{op} on {target.label}",
                    "Weaviate compares any element; Milvus compares array elements only by position",
                )
                return None
            sign = _RANGES[op]
            value = _single(values, op, target)
            return _Leaf(name, f"{name} {sign} {value}", f"{name} {_RANGE_INVERSE[sign]} {value}")
        if op in ("ContainsAny", "ContainsNone"):
            listed = "[" + ", ".join(values) + "]"
            if target.array:
                core = f"array_contains_any({name}, {listed})"
                leaf = _Leaf(name, core, f"not {core}")
            else:
                leaf = _Leaf(name, f"{name} in {listed}", f"{name} not in {listed}")
            return _flip(leaf) if op == "ContainsNone" else leaf
        if op == "ContainsAll":
            if target.array:
                core = f"array_contains_all({name}, [{', '.join(values)}])"
                return _Leaf(name, core, f"not {core}")
            distinct = list(dict.fromkeys(values))
            core = " and ".join(f"{name} == {v}" for v in distinct)
            return _Leaf(name, core, f"not ({core})" if len(distinct) > 1 else f"{name} != {distinct[0]}")
        raise FilterError(f"{op} does not apply to {target.label}")

    def _is_null(self, target: _Target, raw: Any) -> _Leaf | None:
        if not isinstance(raw, bool):
            raise FilterError(f"IsNull on {target.label} needs valueBoolean true or false, got {raw!r}")
        if target.kind in ("uuid", "timestamp") and target.field.role != FieldRole.PROPERTY:
            raise FilterError(f"IsNull does not apply to {target.label}, which every object has")
        if target.length:
            raise FilterError(f"IsNull does not apply to the length of {target.label}")
        name = target.field.name
        if target.field.weaviate_type == WeaviateType.OBJECT_ARRAY:
            self._skip(
                f"IsNull on {target.label}",
                "Weaviate counts an empty object[] as null; Milvus cannot measure a JSON array",
            )
            return None
        if target.array:
            # Weaviate counts an empty array as null; Milvus stores it as [].
            null, present = (
                f"({name} is null or array_length({name}) == 0)",
                f"({name} is not null and array_length({name}) > 0)",
            )
        else:
            null, present = f"{name} is null", f"{name} is not null"
        return _Leaf(None, null, present) if raw else _Leaf(None, present, null)

    def _length(self, target: _Target, op: str, raw: Any) -> _Leaf | None:
        if not target.array or target.kind == "reference":
            why = (
                "Milvus expressions have no string length"
                if target.kind == "text"
                else "Weaviate measures the length of text and arrays only"
            )
            if target.kind == "reference":
                why = "Weaviate measures properties; count references with by_ref_count"
            self._skip(f"{op} on the length of {target.label}", why)
            return None
        return self._counted(
            target, f"array_length({target.field.name})", op, raw, f"the length of {target.label}"
        )

    def _reference_count(self, target: _Target, op: str, raw: Any) -> _Leaf | None:
        if op not in _COMPARE and op != "NotEqual":
            self._skip(f"{op} on {target.label}", "a reference is filtered by its count or IsNull only")
            return None
        return self._counted(
            target, f"array_length({target.field.name})", op, raw, f"the reference count of {target.label}"
        )

    def _counted(self, target: _Target, measure: str, op: str, raw: Any, label: str) -> _Leaf | None:
        """A comparison of a count, which Weaviate takes as 0 for a missing value."""
        values = raw if isinstance(raw, list) else [raw]
        if any(not isinstance(v, int) or isinstance(v, bool) for v in values):
            raise FilterError(f"{op} on {label} needs whole numbers, got {raw!r}")
        name = target.field.name
        if op in ("ContainsAny", "ContainsNone"):
            listed = "[" + ", ".join(str(v) for v in values) + "]"
            leaf = _Leaf(name, f"{measure} in {listed}", f"{measure} not in {listed}", 0 in values, False)
            return _flip(leaf) if op == "ContainsNone" else leaf
        base = "Equal" if op == "NotEqual" else op
        if base not in _COMPARE:
            self._skip(
                f"{op} on {label}", "a count is compared with Equal, NotEqual, ranges or ContainsAny/None"
            )
            return None
        if len(values) != 1:
            raise FilterError(f"{op} on {label} takes one value")
        value = values[0]
        sign = "==" if base == "Equal" else _RANGES[base]
        inverse = "!=" if base == "Equal" else _RANGE_INVERSE[sign]
        leaf = _Leaf(
            name, f"{measure} {sign} {value}", f"{measure} {inverse} {value}", _COMPARE[base](0, value), False
        )
        return _flip(leaf) if op == "NotEqual" else leaf

    # --- values ------------------------------------------------------------------------------------

    def _convert(self, target: _Target, value: Any) -> str:
        """A filter value as the literal of its stored form."""
        kind = target.kind
        try:
            if kind == "int" and isinstance(value, int | float) and not isinstance(value, bool):
                if float(value).is_integer():
                    return literal(int(value))
            elif kind == "number" and isinstance(value, int | float) and not isinstance(value, bool):
                return literal(float(value))
            elif (kind == "boolean" and isinstance(value, bool)) or (
                kind == "text" and isinstance(value, str)
            ):
                return literal(value)
            elif kind == "date" and isinstance(value, str | datetime):
                return literal(canonical_date(value))
            elif kind == "uuid" and isinstance(value, str):
                return literal(str(uuid_lib.UUID(value)))
            elif kind == "timestamp" and not isinstance(value, bool):
                if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
                    return literal(int(value))
                if isinstance(value, str | datetime):
                    return literal(to_millis(parse_date(value)))
        except ValueError:
            pass
        expected = {"timestamp": "unix milliseconds or an RFC 3339 date", "uuid": "a UUID"}.get(
            kind, f"a {kind}"
        )
        raise FilterError(f"filter value {value!r} for {target.label} is not {expected}")


def _single(values: list[Any], op: str, target: _Target) -> Any:
    if len(values) != 1:
        raise FilterError(f"{op} on {target.label} takes one value")
    return values[0]


def _flip(leaf: _Leaf) -> _Leaf:
    # The inverse forms (`!=`, `not in`, `not array_contains...`) are the ones engines disagree on with null.
    return _Leaf(leaf.field, leaf.inverse, leaf.core, not leaf.null_result, null_safe=False)


def _render(leaf: _Leaf, negated: bool) -> str:
    """The leaf, or its negation, with nulls made explicit wherever Weaviate and Milvus would differ."""
    core = leaf.inverse if negated else leaf.core
    holds_on_null = leaf.null_result != negated
    if leaf.field is None:
        return core
    if holds_on_null:
        return f"({leaf.field} is null or {core})"
    if leaf.null_safe and not negated:
        return core
    return f"({leaf.field} is not null and {core})"


def _atomic(expression: str) -> bool:
    """No top-level `and`/`or`: a single condition, or one already wrapped in its own parentheses."""
    depth, quoted, escaped, top_level = 0, False, False, []
    for i, char in enumerate(expression):
        if quoted:
            escaped, quoted = (False, True) if escaped else (char == "\\", char != '"')
            continue
        if char == '"':
            quoted = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif depth == 0 and expression.startswith((" and ", " or "), i):
            top_level.append(i)
    return not top_level


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]
