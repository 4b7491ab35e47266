"""Server state: collections, tenants and per-shard objects with a sorted cursor index.

A shard keeps a dict (uuid bytes -> object) plus a sorted list of the 16-byte keys, so a cursor page
is a `bisect` and a slice: O(page + log N), never a sort of the collection. New keys are appended
to a pending list and merged by one timsort (a merge of two runs) before the next read, so writes
stay O(1); deleted keys stay in the list as stale entries until they are a large share of it.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

from .class_info import ClassInfo
from .errors import ServerError
from .modules import DEFAULT_MODULES
from .schema_json import uppercase_first
from .values import Ref

ACTIVE = "HOT"
NO_REFS: Mapping[str, list[Ref]] = MappingProxyType({})
NO_VECTORS: Mapping[str, bytes] = MappingProxyType({})
"""Shared empty mappings keep the per-object overhead down; stored objects are never mutated in place."""


class StoredObject:
    """One object as stored: typed properties, references, raw float32 vector bytes and times."""

    __slots__ = ("created", "doc_id", "props", "refs", "updated", "vector", "vectors")

    def __init__(
        self,
        props: dict[str, Any],
        refs: Mapping[str, list[Ref]],
        vector: bytes | None,
        vectors: Mapping[str, bytes],
        created: int,
        updated: int,
    ) -> None:
        self.props = props
        self.refs = refs or NO_REFS
        self.vector = vector
        self.vectors = vectors or NO_VECTORS
        self.created = created
        self.updated = updated
        self.doc_id = 0


class Shard:
    """The objects of one tenant, or of a whole single-tenant collection."""

    __slots__ = (
        "_next_doc_id",
        "_pending",
        "_sorted",
        "_stale",
        "cache",
        "dims",
        "keys_examined",
        "objects",
        "version",
    )

    def __init__(self) -> None:
        self.objects: dict[bytes, StoredObject] = {}
        self._sorted: list[bytes] = []
        self._pending: list[bytes] = []
        self._stale: set[bytes] = set()
        self._next_doc_id = 0
        self.dims: dict[str, int] = {}
        """Vector length per vector name, fixed by the first insert as a real vector index does."""
        self.version = 0
        """Bumped on every write so derived caches (vector matrices) know when to rebuild."""
        self.cache: dict[str, Any] = {}
        self.keys_examined = 0
        """Keys looked at by cursor pages; lets tests prove a page does not scan the collection."""

    def __len__(self) -> int:
        return len(self.objects)

    def get(self, key: bytes) -> StoredObject | None:
        return self.objects.get(key)

    def put(self, key: bytes, obj: StoredObject) -> None:
        if key not in self.objects:
            if key in self._stale:
                self._stale.discard(key)
            else:
                self._pending.append(key)
        self._next_doc_id += 1
        obj.doc_id = self._next_doc_id
        self.objects[key] = obj
        self.version += 1

    def delete(self, key: bytes) -> StoredObject | None:
        obj = self.objects.pop(key, None)
        if obj is None:
            return None
        self._merge()
        self._stale.add(key)
        self.version += 1
        if len(self._stale) > 1024 and 2 * len(self._stale) > len(self._sorted):
            self._sorted = [k for k in self._sorted if k in self.objects]
            self._stale.clear()
        return obj

    def page(self, after: bytes, limit: int) -> list[tuple[bytes, StoredObject]]:
        """Up to `limit` objects with keys strictly greater than `after` (b"" = from the start)."""
        self._merge()
        keys, objects = self._sorted, self.objects
        start = i = bisect_right(keys, after) if after else 0
        out: list[tuple[bytes, StoredObject]] = []
        end = len(keys)
        while i < end and len(out) < limit:
            obj = objects.get(keys[i])
            if obj is not None:
                out.append((keys[i], obj))
            i += 1
        self.keys_examined += i - start
        return out

    def in_order(self) -> Iterator[tuple[bytes, StoredObject]]:
        self._merge()
        objects = self.objects
        for key in self._sorted:
            obj = objects.get(key)
            if obj is not None:
                yield key, obj

    def _merge(self) -> None:
        if self._pending:
            self._sorted.extend(self._pending)
            self._pending.clear()
            self._sorted.sort()


class Collection:
    __slots__ = ("info", "json", "shards", "tenants")

    def __init__(self, class_json: dict[str, Any]) -> None:
        self.json = class_json
        self.info = ClassInfo.from_json(class_json)
        self.tenants: dict[str, str] = {}
        self.shards: dict[str, Shard] = {} if self.info.multi_tenant else {"": Shard()}


class Store:
    """All collections behind one lock; handlers hold it while they read or change state."""

    def __init__(self, modules: frozenset[str] = DEFAULT_MODULES) -> None:
        self.lock = threading.RLock()
        self.collections: dict[str, Collection] = {}
        self.modules = modules
        """Enabled module names: listed by `/v1/meta`, the only ones a class config may name."""
        self.objects_read = 0
        """Objects returned on the wire by gRPC Search (ids-only results included) and REST GET object:
        what a sync's cost is measured in. Tests reset it by assigning 0 (under `lock`)."""

    def find(self, name: str) -> Collection | None:
        return self.collections.get(uppercase_first(name))

    def collection(self, name: str) -> Collection:
        coll = self.find(name)
        if coll is None:
            raise ServerError(f"could not find class {uppercase_first(name)} in schema", http_status=404)
        return coll

    def shard(self, coll: Collection, tenant: str, *, write: bool = False) -> Shard:
        """The shard a request addresses, with real Weaviate's multi-tenancy errors.

        Writes may create a missing tenant (autoTenantCreation); reads and writes may activate an
        inactive one (autoTenantActivation); otherwise only active tenants can be used.
        """
        info = coll.info
        if not info.multi_tenant:
            if tenant:
                raise ServerError(
                    f"class {info.name} has multi-tenancy disabled, but request was with tenant"
                )
            return coll.shards[""]
        if not tenant:
            raise ServerError(f"class {info.name} has multi-tenancy enabled, but request was without tenant")
        status = coll.tenants.get(tenant)
        if status is None and write and info.auto_tenant_creation:
            self.set_tenant(coll, tenant, ACTIVE)
            status = ACTIVE
        if status is None:
            raise ServerError(f'tenant not found: "{tenant}"')
        if status != ACTIVE:
            if not info.auto_tenant_activation:
                raise ServerError(f"tenant not active: '{tenant}'")
            coll.tenants[tenant] = ACTIVE
        return coll.shards[tenant]

    def shard_if_active(self, coll: Collection, tenant: str) -> Shard | None:
        """The shard a reference into `coll` resolves in, or None where the target is unreadable."""
        if not coll.info.multi_tenant:
            return coll.shards[""]
        return coll.shards.get(tenant) if coll.tenants.get(tenant) == ACTIVE else None

    @staticmethod
    def set_tenant(coll: Collection, name: str, status: str) -> None:
        coll.tenants[name] = status
        coll.shards.setdefault(name, Shard())
