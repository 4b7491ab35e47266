"""The write path shared by gRPC `BatchObjects`, the REST object routes and the demo seed.

Each object is validated on its own (tenant, properties, vectors, reference targets) so one bad
object gets its own error while the rest of a batch is stored, as in real Weaviate. A batch is
validated completely before anything is written, so references to objects created in the same
batch fail as they do there.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from weaviate.proto.v1 import base_pb2, batch_pb2

from .class_info import LEGACY_VECTOR, ClassInfo
from .errors import ServerError
from .filters import Predicate
from .property_split import add_reference_beacons, split_to_raw
from .store import Collection, Shard, Store, StoredObject
from .values import Ref, validate_properties
from .vectorizer import vectorize
from .vectors import check_multi, check_single, pack_single

DEFAULT_VECTOR = "default"
"""Name under which the client transports a legacy vector through the named-vector API."""
MAX_DELETE = 10000
"""Real Weaviate deletes at most QUERY_MAXIMUM_RESULTS objects per batch delete."""


@dataclass(slots=True)
class ObjectInput:
    collection: str
    tenant: str
    uuid: str
    raw: dict[str, Any]
    vector: bytes | None = None
    vectors: dict[str, tuple[bytes, bool]] = field(default_factory=dict)
    """Named vectors as (wire bytes, is multi-vector)."""


@dataclass(slots=True)
class Prepared:
    shard: Shard
    key: bytes
    obj: StoredObject


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def from_batch_object(store: Store, msg: batch_pb2.BatchObject) -> ObjectInput:
    """Decode one gRPC BatchObject; raises ServerError for this object only."""
    coll = store.find(msg.collection)
    if coll is None:
        raise ServerError(f"class '{msg.collection}' not present in schema")
    raw = split_to_raw(msg.properties)
    add_reference_beacons(msg.properties, coll.info, raw)
    vector = msg.vector_bytes or (pack_single(list(msg.vector)) if msg.vector else None)
    multi = base_pb2.Vectors.VECTOR_TYPE_MULTI_FP32
    vectors = {v.name: (v.vector_bytes, v.type == multi) for v in msg.vectors}
    return ObjectInput(coll.info.name, msg.tenant, msg.uuid, raw, vector, vectors)


def object_key(object_id: str) -> bytes:
    try:
        return uuid.UUID(object_id).bytes
    except (ValueError, AttributeError, TypeError):
        raise ServerError(f"invalid UUID {object_id!r}") from None


def prepare(store: Store, inp: ObjectInput, *, vectorize_missing: bool = True) -> Prepared:
    """Validate one object against the schema and state; call with the store lock held.

    Vector spaces with a vectorizer module that the object brings no vector for get the stand-in
    embedding, as the module would fill them on import.
    """
    coll = store.collection(inp.collection)
    key = object_key(inp.uuid)
    shard = store.shard(coll, inp.tenant, write=True)
    props, refs = validate_properties(coll.info, inp.raw)
    legacy, named = _vectors(coll.info, inp.vector, dict(inp.vectors))
    _check_refs(store, coll, inp.tenant, refs)
    obj = StoredObject(props, refs, legacy, named, 0, 0)
    if vectorize_missing:
        fill_module_vectors(coll.info, obj)
    return Prepared(shard, key, obj)


def fill_module_vectors(info: ClassInfo, obj: StoredObject) -> None:
    """Give every module-vectorized space the object has no vector for its stand-in embedding."""
    if obj.vector is None and info.legacy is not None and info.legacy.module is not None:
        obj.vector = vectorize(info, info.legacy, obj.props)
    missing = [
        s for n, s in info.named.items() if n not in obj.vectors and s.module is not None and not s.multi
    ]
    if missing:
        obj.vectors = {**obj.vectors, **{s.name: vectorize(info, s, obj.props) for s in missing}}


def commit(coll: Collection, prepared: Prepared, created: int | None = None) -> None:
    """Store a prepared object; the vector length check happens here, at index insert, as in Weaviate."""
    obj, shard = prepared.obj, prepared.shard
    lengths: dict[str, int] = {}
    if obj.vector:
        lengths[LEGACY_VECTOR] = check_single(obj.vector)
    for name, data in obj.vectors.items():
        lengths[name] = check_multi(data) if coll.info.named[name].multi else check_single(data)
    for name, length in lengths.items():
        existing = shard.dims.get(name)
        if existing is not None and existing != length:
            raise ServerError(
                f"insert to vector index: new node has a vector with length {length}. "
                f"Existing nodes have vectors with length {existing}"
            )
    for name, length in lengths.items():
        shard.dims.setdefault(name, length)
    obj.updated = now_ms()
    obj.created = obj.updated if created is None else created
    shard.put(prepared.key, obj)


def put_batch(store: Store, inputs: list[tuple[int, ObjectInput]]) -> dict[int, str]:
    """Validate every object, then store the valid ones; returns error messages by request index."""
    errors: dict[int, str] = {}
    with store.lock:
        ready: list[tuple[int, Collection, Prepared]] = []
        for index, inp in inputs:
            try:
                ready.append((index, store.collection(inp.collection), prepare(store, inp)))
            except ServerError as exc:
                errors[index] = exc.message
        for index, coll, prepared in ready:
            try:
                commit(coll, prepared)
            except ServerError as exc:
                errors[index] = exc.message
    return errors


def _vectors(
    info: ClassInfo, vector: bytes | None, vectors: dict[str, tuple[bytes, bool]]
) -> tuple[bytes | None, dict[str, bytes]]:
    """Map incoming vectors onto the class's vector indexes (`vector_validation.go`)."""
    if DEFAULT_VECTOR in vectors and info.legacy is not None:
        data, multi = vectors.pop(DEFAULT_VECTOR)
        if multi:
            raise ServerError(f"vector {DEFAULT_VECTOR} has to be a float32 array")
        vector = data
    if info.legacy is None and vector:
        if len(info.named) != 1:
            raise ServerError(f"collection {info.name} configuration does not have single vector index")
        vectors = {next(iter(info.named)): (vector, False)}
        vector = None
    named: dict[str, bytes] = {}
    for name, (data, multi) in vectors.items():
        spec = info.named.get(name)
        if spec is None:
            raise ServerError(f"collection {info.name} does not have configuration for vector {name}")
        if not data:
            if spec.multi:
                raise ServerError(
                    f'vector "{name}" in collection "{info.name}": multi-vector cannot be empty'
                )
            continue
        if spec.multi and not multi:
            raise ServerError(
                f'vector "{name}" in collection "{info.name}" is configured as multi-vector: '
                "expected an array of token vectors, got a single vector"
            )
        if multi and not spec.multi:
            raise ServerError(
                f'vector "{name}" in collection "{info.name}" is not configured as multi-vector, '
                "but a multi-vector was provided"
            )
        if multi:
            check_multi(data)
        else:
            check_single(data)
        named[name] = data
    if vector:
        check_single(vector)
    return vector or None, named


def _check_refs(store: Store, coll: Collection, tenant: str, refs: dict[str, list[Ref]]) -> None:
    """Reference targets must exist when the object is written (`ValidateExistence`)."""
    for prop_name, targets in refs.items():
        for target, target_id in targets:
            if resolve_ref(store, target, target_id, tenant) is None:
                raise ServerError(
                    f"invalid cref: 'cref' {coll.info.name}:{prop_name}: no object with id {target_id} found"
                )


def resolve_ref(store: Store, target: str, target_id: str, tenant: str) -> tuple[str, StoredObject] | None:
    """The object a reference points at, or None when it is dangling or unreadable."""
    key = uuid.UUID(target_id).bytes
    candidates = [store.find(target)] if target else list(store.collections.values())
    for coll in candidates:
        if coll is None:
            continue
        shard = store.shard_if_active(coll, tenant)
        obj = shard.get(key) if shard is not None else None
        if obj is not None:
            return coll.info.name, obj
    return None


def delete_matching(
    store: Store, collection: str, tenant: str, predicate: Predicate, *, dry_run: bool
) -> list[bytes]:
    """Delete (or with `dry_run` only find) matching objects, at most QUERY_MAXIMUM_RESULTS of them."""
    with store.lock:
        coll = store.collection(collection)
        shard = store.shard(coll, tenant, write=True)
        matches = [k for k, o in shard.in_order() if predicate(k, o)][:MAX_DELETE]
        if not dry_run:
            for key in matches:
                shard.delete(key)
    return matches
