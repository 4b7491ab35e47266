"""Adding, replacing and deleting references on stored objects (REST batch and per-object routes).

As in real Weaviate, batch references do not check that a single-tenant target exists (so they can
create dangling references), while the per-object reference routes do.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .class_info import Prop
from .errors import ServerError, not_found
from .objects import now_ms, resolve_ref
from .schema_json import lowercase_first
from .store import Collection, Shard, Store, StoredObject
from .values import BEACON_PREFIX, Ref, parse_beacon


@dataclass(frozen=True, slots=True)
class RefSource:
    collection: str
    object_id: str
    prop: str
    tenant: str


def parse_from(beacon: str, tenant: str) -> RefSource:
    """`weaviate://localhost/<Class>/<uuid>/<property>`, the source side of a batch reference."""
    parts = beacon.removeprefix(BEACON_PREFIX).split("/") if beacon.startswith(BEACON_PREFIX) else []
    if len(parts) != 3:
        raise ServerError(
            f"invalid source beacon {beacon!r}: need weaviate://localhost/<class>/<id>/<property>"
        )
    return RefSource(parts[0], parts[1], parts[2], tenant)


def batch_add(store: Store, body: Any) -> list[dict[str, Any]]:
    """The REST `POST /v1/batch/references` reply: one result per reference, failures inline."""
    if not isinstance(body, list):
        raise ServerError("body must be a list of references")
    results = []
    with store.lock:
        for item in body:
            entry = {"from": item.get("from"), "to": item.get("to")} if isinstance(item, Mapping) else {}
            try:
                if not entry:
                    raise ServerError("reference must be an object with from and to")
                source = parse_from(str(entry["from"]), str(item.get("tenant") or ""))
                add(store, source, str(entry["to"]), check_target=False)
                entry["result"] = {"status": "SUCCESS"}
            except ServerError as exc:
                entry["result"] = {"status": "FAILED", "errors": {"error": [{"message": exc.message}]}}
            results.append(entry)
    return results


def add(store: Store, source: RefSource, beacon: str, *, check_target: bool) -> None:
    coll, prop, shard, key, obj = _source(store, source)
    ref = _target(store, coll, prop, source.tenant, beacon, check_target=check_target)
    _store(shard, key, obj, {**obj.refs, prop.name: [*obj.refs.get(prop.name, []), ref]})


def replace(store: Store, source: RefSource, beacons: Any) -> None:
    if not isinstance(beacons, list):
        raise ServerError("body must be a list of references")
    coll, prop, shard, key, obj = _source(store, source)
    refs = [_target(store, coll, prop, source.tenant, _beacon_of(b), check_target=True) for b in beacons]
    _store(shard, key, obj, {**obj.refs, prop.name: refs})


def delete(store: Store, source: RefSource, beacon: str) -> None:
    _coll, prop, shard, key, obj = _source(store, source)
    target, target_id = parse_beacon(beacon)
    kept = [
        r for r in obj.refs.get(prop.name, []) if r[1] != target_id or (target and r[0] and r[0] != target)
    ]
    _store(shard, key, obj, {**obj.refs, prop.name: kept})


def _beacon_of(item: Any) -> str:
    if not isinstance(item, Mapping) or not isinstance(item.get("beacon"), str):
        raise ServerError("reference must be an object with a beacon")
    return item["beacon"]


def _source(store: Store, source: RefSource) -> tuple[Collection, Prop, Shard, bytes, StoredObject]:
    coll = store.find(source.collection)
    if coll is None:
        raise ServerError(f'source class "{source.collection}" not found in schema')
    prop = coll.info.props.get(lowercase_first(source.prop))
    if prop is None or not prop.is_ref:
        raise ServerError(f"property {source.prop} does not exist for class {coll.info.name}")
    shard = store.shard(coll, source.tenant, write=True)
    try:
        key = uuid.UUID(source.object_id).bytes
    except ValueError:
        raise ServerError(f"invalid source id {source.object_id!r}") from None
    obj = shard.get(key)
    if obj is None:
        raise not_found(f"object with id {source.object_id} not found")
    return coll, prop, shard, key, obj


def _target(
    store: Store, coll: Collection, prop: Prop, tenant: str, beacon: str, *, check_target: bool
) -> Ref:
    target, target_id = parse_beacon(beacon)
    if not target:
        if len(prop.targets) > 1:
            raise ServerError("multi-target references require the class name in the target beacon url")
        target = prop.targets[0]
    target_coll = store.find(target)
    must_exist = check_target or (target_coll is not None and target_coll.info.multi_tenant)
    if must_exist and resolve_ref(store, target, target_id, tenant) is None:
        raise ServerError(f"'cref' {coll.info.name}:{prop.name}: no object with id {target_id} found")
    return target, target_id


def _store(shard: Shard, key: bytes, obj: StoredObject, refs: dict[str, list[Ref]]) -> None:
    updated = StoredObject(obj.props, refs, obj.vector, obj.vectors, obj.created, now_ms())
    shard.put(key, updated)
