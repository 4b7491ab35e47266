"""Tenant management (REST) and TenantsGet (gRPC) with real Weaviate's status vocabulary.

Real Weaviate stores HOT/COLD/FROZEN and accepts ACTIVE/INACTIVE/OFFLOADED as input only. Offloading
needs the offload module, which this server (like a default Weaviate) does not have.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from weaviate.proto.v1 import tenants_pb2

from .errors import ServerError
from .store import Collection, Store

_NAME_RE = re.compile(r"^[A-Za-z0-9\-_]{1,64}$")
_INPUT_STATUS = {"HOT": "HOT", "ACTIVE": "HOT", "COLD": "COLD", "INACTIVE": "COLD"}
_OFFLOADED = frozenset({"FROZEN", "OFFLOADED"})
_GRPC_STATUS = {
    "HOT": tenants_pb2.TENANT_ACTIVITY_STATUS_HOT,
    "COLD": tenants_pb2.TENANT_ACTIVITY_STATUS_COLD,
    "FROZEN": tenants_pb2.TENANT_ACTIVITY_STATUS_FROZEN,
}


def _mt_collection(store: Store, name: str) -> Collection:
    coll = store.collection(name)
    if not coll.info.multi_tenant:
        raise ServerError(f'multi-tenancy is not enabled for class "{coll.info.name}"')
    return coll


def _parse(body: Any) -> list[tuple[str, str]]:
    if not isinstance(body, list):
        raise ServerError("body must be a list of tenants", http_status=422)
    out = []
    for item in body:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise ServerError("each tenant needs a name")
        name = item["name"]
        if not _NAME_RE.match(name):
            raise ServerError(f"tenant name '{name}' is not valid: it must match {_NAME_RE.pattern}")
        status = str(item.get("activityStatus") or "HOT").upper()
        if status in _OFFLOADED:
            raise ServerError("can't offload tenants, because the offload-s3 module is not enabled")
        if status not in _INPUT_STATUS:
            raise ServerError(f"invalid activity status '{status}' for tenant '{name}'")
        out.append((name, _INPUT_STATUS[status]))
    return out


def list_tenants(store: Store, collection: str) -> list[dict[str, str]]:
    with store.lock:
        coll = _mt_collection(store, collection)
        return [{"name": n, "activityStatus": s} for n, s in sorted(coll.tenants.items())]


def get_tenant(store: Store, collection: str, name: str) -> dict[str, str] | None:
    with store.lock:
        coll = _mt_collection(store, collection)
        status = coll.tenants.get(name)
        return None if status is None else {"name": name, "activityStatus": status}


def add_tenants(store: Store, collection: str, body: Any) -> list[dict[str, str]]:
    """Existing tenants are left untouched, as in real Weaviate."""
    with store.lock:
        coll = _mt_collection(store, collection)
        parsed = _parse(body)
        for name, status in parsed:
            if name not in coll.tenants:
                store.set_tenant(coll, name, status)
        return [{"name": n, "activityStatus": s} for n, s in parsed]


def update_tenants(store: Store, collection: str, body: Any) -> list[dict[str, str]]:
    with store.lock:
        coll = _mt_collection(store, collection)
        parsed = _parse(body)
        for name, _ in parsed:
            if name not in coll.tenants:
                raise ServerError(f'tenant "{name}" not found')
        for name, status in parsed:
            coll.tenants[name] = status
        return [{"name": n, "activityStatus": s} for n, s in parsed]


def remove_tenants(store: Store, collection: str, names: Iterable[Any]) -> None:
    """Removing a tenant deletes its data; unknown names are ignored."""
    with store.lock:
        coll = _mt_collection(store, collection)
        for name in names:
            coll.tenants.pop(name, None)
            coll.shards.pop(name, None)


def tenants_get(store: Store, req: tenants_pb2.TenantsGetRequest) -> tenants_pb2.TenantsGetReply:
    if not req.collection:
        raise ServerError("get tenants: missing collection ")
    with store.lock:
        try:
            coll = _mt_collection(store, req.collection)
        except ServerError as exc:
            raise ServerError(f"get tenants: {exc.message}") from None
        if req.HasField("names"):
            if not req.names.values:
                raise ServerError("get tenants: must specify at least one tenant name")
            names = [n for n in req.names.values if n in coll.tenants]
        else:
            names = sorted(coll.tenants)
        tenants = [tenants_pb2.Tenant(name=n, activity_status=_GRPC_STATUS[coll.tenants[n]]) for n in names]
    return tenants_pb2.TenantsGetReply(tenants=tenants)
