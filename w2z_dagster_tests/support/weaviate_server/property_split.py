"""Reassemble the client's gRPC property split into one JSON-like dict, as the Go server does.

The client sends scalars in a `Struct` (every number as a double), arrays in typed lists and
references as uuid lists (weaviate-wire.md §7). Turning them back into one map first lets REST and
gRPC share a single validator (`values.validate_properties`).
"""

from __future__ import annotations

import struct
from typing import Any

from google.protobuf import struct_pb2
from weaviate.proto.v1 import base_pb2, batch_pb2

from .class_info import ClassInfo, Prop
from .errors import ServerError
from .schema_json import lowercase_first, uppercase_first
from .values import beacon

PropertiesMessage = batch_pb2.BatchObject.Properties | base_pb2.ObjectPropertiesValue


def struct_value(value: struct_pb2.Value) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return value.string_value
    if kind == "number_value":
        return value.number_value
    if kind == "bool_value":
        return value.bool_value
    if kind == "struct_value":
        return {k: struct_value(v) for k, v in value.struct_value.fields.items()}
    if kind == "list_value":
        return [struct_value(v) for v in value.list_value.values]
    return None


def split_to_raw(props: PropertiesMessage) -> dict[str, Any]:
    raw: dict[str, Any] = {k: struct_value(v) for k, v in props.non_ref_properties.fields.items()}
    for arr in props.boolean_array_properties:
        raw[arr.prop_name] = list(arr.values)
    for arr in props.number_array_properties:
        if arr.values_bytes:
            raw[arr.prop_name] = list(struct.unpack(f"<{len(arr.values_bytes) // 8}d", arr.values_bytes))
        else:
            raw[arr.prop_name] = list(arr.values)
    for arr in props.text_array_properties:
        raw[arr.prop_name] = list(arr.values)
    for arr in props.int_array_properties:
        raw[arr.prop_name] = list(arr.values)
    for obj in props.object_properties:
        raw[obj.prop_name] = split_to_raw(obj.value)
    for obj_arr in props.object_array_properties:
        raw[obj_arr.prop_name] = [split_to_raw(v) for v in obj_arr.values]
    for name in props.empty_list_props:
        raw[name] = []
    return raw


def add_reference_beacons(
    props: batch_pb2.BatchObject.Properties, info: ClassInfo, raw: dict[str, Any]
) -> None:
    """Turn the reference uuid lists into beacons, checking single versus multi target like Weaviate."""
    for single in props.single_target_ref_props:
        prop = _ref_prop(info, single.prop_name)
        if len(prop.targets) > 1:
            raise ServerError(f"target is a multi-target reference, need single target {list(prop.targets)}")
        raw[single.prop_name] = [{"beacon": beacon(prop.targets[0], u)} for u in single.uuids]
    for multi in props.multi_target_ref_props:
        prop = _ref_prop(info, multi.prop_name)
        if len(prop.targets) < 2:
            raise ServerError(f"target is a single-target reference, need multi-target {list(prop.targets)}")
        target = uppercase_first(multi.target_collection)
        beacons = [{"beacon": beacon(target, u)} for u in multi.uuids]
        raw.setdefault(multi.prop_name, []).extend(beacons)


def _ref_prop(info: ClassInfo, name: str) -> Prop:
    prop = info.props.get(lowercase_first(name))
    if prop is None:
        raise ServerError(
            f"no such prop with name '{name}' found in class '{info.name}' in the schema. "
            "Check your schema files for which properties in this class are available"
        )
    if not prop.is_ref:
        raise ServerError(f"property '{name}' of class '{info.name}' is not a reference property")
    return prop
