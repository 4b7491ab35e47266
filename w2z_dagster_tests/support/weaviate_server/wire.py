"""Search replies written straight as protobuf bytes rather than built as messages.

Building a reply as protobuf messages cost this server about 16 µs of Python per object (a `Value` per
property, and every sub-message copied into its parent), as much as the migrating client spends parsing
it. Real Weaviate answers from Go for a fraction of that, and on the benchmark's two shared cores the
difference would be charged to w2z. So results are written as bytes: metadata always, properties
whenever no references are requested (references still go through `search_reply.properties`). A test
holds both ways to the same parsed reply.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

# Private by name: protobuf's varint encoder (protobuf 6), the exact bytes a real server writes.
from google.protobuf.internal.encoder import _VarintBytes
from weaviate.proto.v1 import base_pb2

from .class_info import ClassInfo
from .search_reply import MetaPlan
from .store import StoredObject
from .value_encoding import Encoder

ValueBytes = Callable[[Any], bytes]

_VARINT, _FIXED64, _DELIMITED, _FIXED32 = 0, 1, 2, 5


_ONE_BYTE = [bytes((n,)) for n in range(0x80)]


def varint(n: int) -> bytes:
    """protobuf's varint, with the one- and two-byte lengths that make up most of a reply done inline;
    a negative int64 as its two's complement, ten bytes, as protobuf writes it."""
    if 0 <= n < 0x80:
        return _ONE_BYTE[n]
    if 0 < n < 0x4000:
        return bytes((n & 0x7F | 0x80, n >> 7))
    return _VarintBytes(n & 0xFFFFFFFFFFFFFFFF)


def tag(field: int, wire_type: int) -> bytes:
    return varint(field << 3 | wire_type)


def delimited(field_tag: bytes, data: bytes) -> bytes:
    return field_tag + varint(len(data)) + data


def _text(field_tag: bytes) -> ValueBytes:
    return lambda v: delimited(field_tag, v.encode())


_NUMBER, _BOOL, _INT = tag(1, _FIXED64), tag(3, _VARINT), tag(8, _VARINT)
_SCALAR: dict[str, ValueBytes] = {
    "text": _text(tag(13, _DELIMITED)),
    "date": _text(tag(6, _DELIMITED)),
    "uuid": _text(tag(7, _DELIMITED)),
    "int": lambda v: _INT + varint(v),
    "number": lambda v: _NUMBER + struct.pack("<d", v),
    "boolean": lambda v: _BOOL + (b"\x01" if v else b"\x00"),
}
NULL = tag(12, _VARINT) + b"\x00"
"""`Value{null_value: NULL_VALUE}`: a oneof member is written even when it holds its default."""


def value_bytes(data_type: str, encode: Encoder) -> ValueBytes:
    """Plain scalars by hand; every other type through its message encoder, serialized."""
    return _SCALAR.get(data_type) or (lambda v: encode(v).SerializeToString())


_ENTRY, _KEY, _VALUE = tag(1, _DELIMITED), tag(1, _DELIMITED), tag(2, _DELIMITED)
_COLLECTION, _NON_REF = tag(3, _DELIMITED), tag(11, _DELIMITED)


def map_key(name: str) -> bytes:
    """The key half of one `Properties.fields` entry, written once per request and property."""
    return delimited(_KEY, name.encode())


def properties_result(
    info: ClassInfo, values: dict[str, Any], fields: list[tuple[tuple[str, bytes], ValueBytes]]
) -> bytes:
    """`PropertiesResult` without references: selected properties (null when absent), the class name."""
    entries = b"".join(
        delimited(_ENTRY, key + delimited(_VALUE, NULL if (v := values.get(name)) is None else enc(v)))
        for (name, key), enc in fields
    )
    out = delimited(_COLLECTION, info.name.encode())
    return out + delimited(_NON_REF, entries) if entries else out


_MULTI, _SINGLE = base_pb2.Vectors.VECTOR_TYPE_MULTI_FP32, base_pb2.Vectors.VECTOR_TYPE_SINGLE_FP32
_ID, _ID_BYTES, _LEGACY = tag(1, _DELIMITED), tag(20, _DELIMITED), tag(19, _DELIMITED)
_VECTORS, _VECTOR_NAME, _VECTOR_DATA, _VECTOR_TYPE = (
    tag(23, _DELIMITED),
    tag(1, _DELIMITED),
    tag(3, _DELIMITED),
    tag(4, _VARINT),
)
_UUID_TEXT_LENGTH, _UUID_LENGTH = varint(36), varint(16)
_CREATED, _UPDATED = tag(3, _VARINT), tag(5, _VARINT)
_CREATED_SET, _UPDATED_SET, _SCORE_SET, _EXPLAIN_SET = (
    tag(4, _VARINT) + b"\x01",
    tag(6, _VARINT) + b"\x01",
    tag(12, _VARINT) + b"\x01",
    tag(14, _VARINT) + b"\x01",
)
_SCORE, _EXPLAIN = tag(11, _FIXED32), tag(13, _DELIMITED)
_DISTANCE, _DISTANCE_SET = tag(7, _FIXED32), tag(8, _VARINT) + b"\x01"
_CERTAINTY, _CERTAINTY_SET = tag(9, _FIXED32), tag(10, _VARINT) + b"\x01"


def metadata_result(
    info: ClassInfo,
    key: bytes,
    obj: StoredObject,
    plan: MetaPlan,
    distance: float | None,
    score: float | None = None,
    explain: str | None = None,
) -> bytes:
    """`MetadataResult` with exactly the fields `search_reply.metadata` sets."""
    out = []
    if plan.uuid:
        h = key.hex()
        text = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
        out += [_ID, _UUID_TEXT_LENGTH, text.encode(), _ID_BYTES, _UUID_LENGTH, key]
    if plan.legacy_vector and obj.vector:
        out.append(delimited(_LEGACY, obj.vector))
    for name in plan.vectors:
        data = obj.vectors.get(name)
        if data:
            kind = _MULTI if info.named[name].multi else _SINGLE
            vector = delimited(_VECTOR_NAME, name.encode()) + delimited(_VECTOR_DATA, data)
            out.append(delimited(_VECTORS, vector + _VECTOR_TYPE + varint(kind)))
    if plan.creation:
        out += [_CREATED, varint(obj.created), _CREATED_SET]
    if plan.update:
        out += [_UPDATED, varint(obj.updated), _UPDATED_SET]
    if plan.score:
        if score:
            out += [_SCORE, struct.pack("<f", score)]
        out.append(_SCORE_SET)
    if plan.explain_score:
        if explain:
            out.append(delimited(_EXPLAIN, explain.encode()))
        out.append(_EXPLAIN_SET)
    if distance is not None and plan.distance:
        out += [_DISTANCE, struct.pack("<f", distance), _DISTANCE_SET]
    if distance is not None and plan.certainty:
        out += [_CERTAINTY, struct.pack("<f", 1 - distance / 2), _CERTAINTY_SET]
    return b"".join(out)


_PROPERTIES, _METADATA = tag(1, _DELIMITED), tag(2, _DELIMITED)
_TOOK, _RESULT = tag(1, _FIXED32), tag(2, _DELIMITED)


def search_result(properties: bytes, metadata: bytes) -> bytes:
    return delimited(_PROPERTIES, properties) + delimited(_METADATA, metadata)


def search_reply(took: float, results: list[bytes]) -> bytes:
    """`SearchReply` with `took` (a float32) and the results in order."""
    return _TOOK + struct.pack("<f", took) + b"".join(delimited(_RESULT, r) for r in results)
