"""Stored values out again: as gRPC `properties_pb2.Value` for searches and as REST JSON.

Encoders are built once per request and property so the per-object loop is one call per field.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from typing import Any

from weaviate.proto.v1 import properties_pb2 as pp

from .class_info import Prop
from .values import Ref, beacon

Encoder = Callable[[Any], pp.Value]
NestedSelection = Mapping[str, "NestedSelection | None"]
"""Selected nested fields: name -> sub-selection (None = the whole field)."""

NULL = pp.Value(null_value=0)


def _list(**kind: Any) -> pp.Value:
    return pp.Value(list_value=pp.ListValue(**kind))


_SCALAR: dict[str, Encoder] = {
    "text": lambda v: pp.Value(text_value=v),
    "int": lambda v: pp.Value(int_value=v),
    "number": lambda v: pp.Value(number_value=v),
    "boolean": lambda v: pp.Value(bool_value=v),
    "date": lambda v: pp.Value(date_value=v),
    "uuid": lambda v: pp.Value(uuid_value=v),
    "blob": lambda v: pp.Value(blob_value=v),
    "geoCoordinates": lambda v: pp.Value(geo_value=pp.GeoCoordinate(latitude=v[0], longitude=v[1])),
    "phoneNumber": lambda v: pp.Value(
        phone_value=pp.PhoneNumber(
            country_code=v["countryCode"],
            default_country=v["defaultCountry"],
            input=v["input"],
            international_formatted=v["internationalFormatted"],
            national=v["national"],
            national_formatted=v["nationalFormatted"],
            valid=v["valid"],
        )
    ),
    "text[]": lambda v: _list(text_values=pp.TextValues(values=v)),
    "int[]": lambda v: _list(int_values=pp.IntValues(values=struct.pack(f"<{len(v)}q", *v))),
    "number[]": lambda v: _list(number_values=pp.NumberValues(values=struct.pack(f"<{len(v)}d", *v))),
    "boolean[]": lambda v: _list(bool_values=pp.BoolValues(values=v)),
    "date[]": lambda v: _list(date_values=pp.DateValues(values=v)),
    "uuid[]": lambda v: _list(uuid_values=pp.UuidValues(values=v)),
}


def encoder(prop: Prop, selection: NestedSelection | None = None) -> Encoder:
    """An encoder for one property; `selection` limits the fields of nested objects."""
    if not prop.is_nested:
        return _SCALAR[prop.data_type]
    fields = _nested_fields(prop, selection)

    def properties(obj: Mapping[str, Any]) -> pp.Properties:
        return pp.Properties(
            fields={
                name: NULL if obj[name] is None else enc(obj[name]) for name, enc in fields if name in obj
            }
        )

    if prop.data_type == "object":
        return lambda v: pp.Value(object_value=properties(v))
    return lambda v: _list(object_values=pp.ObjectValues(values=[properties(o) for o in v]))


def _nested_fields(prop: Prop, selection: NestedSelection | None) -> list[tuple[str, Encoder]]:
    """Nested fields to return; a whole object leaves out nested blobs, as real Weaviate does."""
    if selection is None:
        return [(c.name, encoder(c)) for c in prop.nested.values() if c.data_type != "blob"]
    return [(name, encoder(prop.nested[name], sub)) for name, sub in selection.items() if name in prop.nested]


def to_json(prop: Prop, value: Any) -> Any:
    """The REST form of a stored value (geo as an object, nested values recursively)."""
    if value is None:
        return None
    if prop.data_type == "geoCoordinates":
        return {"latitude": value[0], "longitude": value[1]}
    if prop.data_type == "object":
        return _object_json(prop, value)
    if prop.data_type == "object[]":
        return [_object_json(prop, v) for v in value]
    return value


def _object_json(prop: Prop, value: Mapping[str, Any]) -> dict[str, Any]:
    return {k: to_json(prop.nested[k], v) for k, v in value.items() if k in prop.nested}


def refs_to_json(refs: list[Ref]) -> list[dict[str, str]]:
    return [
        {
            "beacon": beacon(target, target_id),
            "href": f"/v1/objects/{target + '/' if target else ''}{target_id}",
        }
        for target, target_id in refs
    ]
