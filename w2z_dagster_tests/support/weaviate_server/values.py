"""Typed validation of incoming property values into the form real Weaviate stores.

Both REST bodies and the gRPC property split are first turned into JSON-like Python values (numbers
may be floats), exactly as the Go server turns them into `map[string]interface{}`; then this module
validates and normalises them with the schema: dates to Go RFC3339Nano, integers through float64,
geo coordinates to float32, UUIDs to canonical form. What is stored is what is returned.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import struct
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from .class_info import ClassInfo, Prop
from .errors import ServerError
from .schema_json import lowercase_first

Ref = tuple[str, str]
"""A stored reference: (target class or "" for a classless beacon, canonical uuid)."""

BEACON_PREFIX = "weaviate://localhost/"
_FOUR_CENTURIES_S = 146097 * 86400
"""Year 0 is valid in Go but not for Python dates; it is shifted by one Gregorian cycle."""

_DATE_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|([+-])(\d{2}):(\d{2}))$"
)
_BLOB_RE = re.compile(r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$")
_COUNTRY_CODES = {
    "US": 1, "CA": 1, "GB": 44, "DE": 49, "NL": 31, "FR": 33, "ES": 34, "IT": 39, "BE": 32, "CH": 41,
    "AT": 43, "SE": 46, "NO": 47, "DK": 45, "PL": 48, "PT": 351, "IE": 353, "AU": 61, "NZ": 64,
    "IN": 91, "JP": 81, "CN": 86, "BR": 55, "MX": 52,
}  # fmt: skip
_KNOWN_CALLING_CODES = frozenset(_COUNTRY_CODES.values())


def go_type(value: Any) -> str:
    """The Go type name real Weaviate prints in validation errors for a decoded JSON value."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "map[string]interface {}"
    if isinstance(value, list):
        return "[]interface {}"
    return "<nil>" if value is None else type(value).__name__


def normalize_date(value: Any) -> str:
    """Parse like Go's `time.Parse(time.RFC3339)` and print like `RFC3339Nano` (zero offset as `Z`)."""
    match = _DATE_RE.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError
    year, month, day, hour, minute, second = (int(g) for g in match.group(1, 2, 3, 4, 5, 6))
    dt.datetime(year or 2000, month, day, hour, minute, second)
    fraction = (match.group(7) or "")[:9].rstrip("0")
    zone = match.group(8)
    if zone != "Z":
        off_h, off_m = int(match.group(10)), int(match.group(11))
        if off_h > 23 or off_m > 59:
            raise ValueError
        if off_h == 0 and off_m == 0:
            zone = "Z"
    clock = f"{match.group(4)}:{match.group(5)}:{match.group(6)}"
    frac = f".{fraction}" if fraction else ""
    return f"{match.group(1)}-{match.group(2)}-{match.group(3)}T{clock}{frac}{zone}"


def date_to_ns(value: str) -> int:
    """Nanoseconds since the epoch of a normalised date, for ordering comparisons in filters."""
    match = _DATE_RE.match(value)
    if match is None:
        raise ValueError(value)
    year, *rest = (int(g) for g in match.group(1, 2, 3, 4, 5, 6))
    shift = 0 if year else _FOUR_CENTURIES_S
    seconds = calendar.timegm((year or 400, *rest, 0, 0, 0)) - shift
    if match.group(8) != "Z":
        sign = 1 if match.group(9) == "+" else -1
        seconds -= sign * (int(match.group(10)) * 3600 + int(match.group(11)) * 60)
    fraction = (match.group(7) or "0")[:9].ljust(9, "0")
    return seconds * 1_000_000_000 + int(fraction)


def normalize_uuid(value: Any) -> str:
    if not isinstance(value, str) or len(value) not in (32, 36, 38, 45):
        raise ValueError
    return str(uuid.UUID(value))


def float32(value: float) -> float:
    return struct.unpack("<f", struct.pack("<f", value))[0]


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"not a string, but {go_type(value)}")
    return value


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"requires an integer, the given value is '{value}'")
    if isinstance(value, float) and not value.is_integer():
        raise ValueError(f"requires an integer, the given value is '{value}'")
    return int(float(value))


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"requires a float, the given value is '{value}'")
    return float(value)


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"not a bool, but {go_type(value)}")
    return value


def _date(value: Any) -> str:
    try:
        return normalize_date(value)
    except ValueError:
        raise ValueError(
            f"requires a string with a RFC3339 formatted date, but the given value is '{value}'"
        ) from None


def _uuid(value: Any) -> str:
    try:
        return normalize_uuid(value)
    except ValueError:
        raise ValueError(f"requires a string of UUID format, but the given value is '{value}'") from None


def _geo(value: Any) -> tuple[float, float]:
    if not isinstance(value, Mapping):
        raise ValueError(f"geoCoordinates must be a map, but got: {go_type(value)}")
    for key in ("longitude", "latitude"):
        if key not in value:
            raise ValueError(f"geoCoordinates is missing required field '{key}'")
        coordinate = value[key]
        if isinstance(coordinate, bool) or not isinstance(coordinate, int | float):
            raise ValueError(f"invalid {key}: must be json.Number or float, but got {go_type(coordinate)}")
    return float32(value["latitude"]), float32(value["longitude"])


def _phone(value: Any) -> dict[str, Any]:
    """Approximates libphonenumber for common countries: real Weaviate fills these fields with it."""
    if not isinstance(value, Mapping):
        raise ValueError(f"phoneNumber must be a map, but got: {go_type(value)}")
    raw_input = value.get("input")
    if raw_input is None:
        raise ValueError("phoneNumber is missing required field 'input'")
    if not isinstance(raw_input, str):
        raise ValueError("phoneNumber.input must be a string")
    country = value.get("defaultCountry", "")
    if not isinstance(country, str):
        raise ValueError("phoneNumber.defaultCountry must be a string")
    country = country.upper()
    digits = re.sub(r"\D", "", raw_input)
    if not digits:
        raise ValueError("invalid phone number: the string supplied did not seem to be a phone number")
    if raw_input.strip().startswith("+"):
        code = next((int(digits[:n]) for n in (1, 2, 3) if int(digits[:n]) in _KNOWN_CALLING_CODES), None)
        if code is None:
            raise ValueError("invalid phone number: invalid country code")
        national = digits[len(str(code)) :]
    elif country in _COUNTRY_CODES:
        code = _COUNTRY_CODES[country]
        national = digits.lstrip("0") if code != 1 else digits.removeprefix("1")
    else:
        raise ValueError(
            "invalid phone number: invalid or missing defaultCountry - this field is optional if the "
            "specified number is in the international format, but required if the number is in national "
            "format, use ISO 3166-1 alpha-2"
        )
    return {
        "input": raw_input,
        "defaultCountry": country,
        "countryCode": code,
        "internationalFormatted": f"+{code} {national}",
        "national": int(national or "0"),
        "nationalFormatted": national,
        "valid": 7 <= len(national) <= 12,
    }


def _blob(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"not a blob base64 string, but {go_type(value)}")
    if not _BLOB_RE.match(value):
        raise ValueError("not a valid blob base64 string")
    return value


def _array(item: Callable[[Any], Any], type_name: str) -> Callable[[Any], list[Any]]:
    def validate(value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise ValueError(f"not a {type_name} array, but {go_type(value)}")
        try:
            return [item(v) for v in value]
        except ValueError:
            raise ValueError(f"invalid {type_name} array value: {value}") from None

    return validate


_SCALARS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "text": ("text", _text),
    "int": ("integer", _int),
    "number": ("number", _number),
    "boolean": ("boolean", _boolean),
    "date": ("date", _date),
    "uuid": ("uuid", _uuid),
    "geoCoordinates": ("geoCoordinates", _geo),
    "phoneNumber": ("phoneNumber", _phone),
    "blob": ("blob", _blob),
    "text[]": ("text array", _array(_text, "text")),
    "int[]": ("integer array", _array(_int, "integer")),
    "number[]": ("number array", _array(_number, "integer")),
    "boolean[]": ("boolean array", _array(_boolean, "boolean")),
    "date[]": ("date array", _array(_date, "date")),
    "uuid[]": ("uuid array", _array(_uuid, "uuid")),
}


def validate_properties(
    info: ClassInfo, raw: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, list[Ref]]]:
    """Split an object's raw properties into stored values and references, or raise ServerError."""
    props: dict[str, Any] = {}
    refs: dict[str, list[Ref]] = {}
    for key, value in raw.items():
        if value is None:
            continue
        name = lowercase_first(key)
        prop = info.props.get(name)
        if prop is None:
            raise ServerError(
                f"no such prop with name '{name}' found in class '{info.name}' in the schema. "
                "Check your schema files for which properties in this class are available"
            )
        if prop.is_ref:
            refs[name] = _references(prop, value, info.name)
        else:
            props[name] = _value(prop, value, name, info.name)
    return props, refs


def _value(prop: Prop, value: Any, path: str, class_name: str) -> Any:
    if prop.is_nested:
        try:
            if prop.data_type == "object":
                return _object(prop, value, path, class_name)
            if not isinstance(value, list):
                raise ValueError(f"not an object array, but {go_type(value)}")
            return [_object_item(prop, item, i, path, class_name) for i, item in enumerate(value)]
        except ValueError as exc:
            raise ServerError(
                f"invalid {prop.data_type} property '{path}' on class '{class_name}': {exc}"
            ) from None
    label, validate = _SCALARS[prop.data_type]
    try:
        return validate(value)
    except ValueError as exc:
        raise ServerError(f"invalid {label} property '{path}' on class '{class_name}': {exc}") from None


def _object_item(prop: Prop, item: Any, index: int, path: str, class_name: str) -> dict[str, Any]:
    try:
        return _object(prop, item, path, class_name)
    except ValueError as exc:
        raise ValueError(f"invalid object '{index}' in array: {exc}") from None


def _object(prop: Prop, value: Any, path: str, class_name: str) -> dict[str, Any]:
    """Nested objects keep explicit nulls: real Weaviate stores and returns them as null."""
    if not isinstance(value, Mapping):
        raise ValueError(f"object must be a map, but got: {go_type(value)}")
    out: dict[str, Any] = {}
    for key, item in value.items():
        child_path = f"{path}.{key}"
        child = prop.nested.get(key)
        if child is None:
            raise ValueError(f"unknown property '{child_path}'")
        if item is None:
            out[key] = None
            continue
        try:
            out[key] = _value(child, item, child_path, class_name)
        except ServerError as exc:
            raise ValueError(f"property '{child_path}': {exc.message}") from None
    return out


def _references(prop: Prop, value: Any, class_name: str) -> list[Ref]:
    if isinstance(value, Mapping):
        raise ServerError(f"invalid cref: reference must be an array, but got a map: {value!r}")
    if not isinstance(value, list):
        raise ServerError(f"invalid cref: invalid ref type. Needs to be []map, got {go_type(value)}")
    refs = []
    for item in value:
        if not isinstance(item, Mapping) or not isinstance(item.get("beacon"), str):
            raise ServerError(
                f"invalid cref: multiple references in {class_name}.{prop.name} should be a list of maps"
            )
        target, target_id = parse_beacon(item["beacon"])
        if not target and len(prop.targets) == 1:
            target = prop.targets[0]
        refs.append((target, target_id))
    return refs


def parse_beacon(beacon: str) -> Ref:
    """`weaviate://localhost/<Class>/<uuid>` or the classless `weaviate://localhost/<uuid>`."""
    if not beacon.startswith(BEACON_PREFIX):
        raise ServerError(f"invalid reference: invalid beacon {beacon!r}")
    parts = beacon[len(BEACON_PREFIX) :].split("/")
    if len(parts) not in (1, 2):
        raise ServerError(f"invalid reference: invalid beacon {beacon!r}")
    try:
        target_id = normalize_uuid(parts[-1])
    except ValueError:
        raise ServerError(f"invalid reference: invalid beacon {beacon!r}") from None
    return (parts[0] if len(parts) == 2 else ""), target_id


def beacon(target: str, target_id: str) -> str:
    return f"{BEACON_PREFIX}{target}/{target_id}" if target else f"{BEACON_PREFIX}{target_id}"
