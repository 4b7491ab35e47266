"""Differential sync: bring the target to equality with the source at the cost of what changed.

Two ways to find the changes of a tenant:
- **by time** (the collection has `indexTimestamps` and the last sync left a watermark): only the
  objects Weaviate updated since the watermark, less the safety margin, are read (`core/watermark.py`);
  each is upserted unless its row already carries its update time. Deletions leave no timestamp, so
  then both sides are counted (Weaviate's aggregate, Milvus's Strong `count(*)`): only a tenant whose
  counts disagree is merged in full, which finds the deleted rows (and duplicated keys, which `count(*)`
  counts too).
- **by merge** (otherwise): both sides are streamed in UUID order and merged (`core.merge`), so memory
  stays bounded whatever the collection size: an object only in Weaviate is added, one whose Weaviate
  last-update time is newer than the one recorded in its Milvus row is updated, one only in Milvus is
  deleted, the rest are not re-sent.
The rows of a tenant Weaviate no longer has are deleted too; an inactive tenant is left as it is.
Writes obey the copy's limits: requests within the byte budget, the rate cap, splits on "too large".
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from w2z_dagster.core.handoff import RateCap
from w2z_dagster.core.merge import Side, merge_sorted
from w2z_dagster.core.plan import UPDATED_FIELD, FieldRole, MigrationPlan
from w2z_dagster.core.schema import CollectionSchema, SourceObject, to_millis
from w2z_dagster.core.sink import MilvusSink
from w2z_dagster.core.source import WeaviateSource
from w2z_dagster.core.tenants import tenants_to_read
from w2z_dagster.core.transform import Reject, primary_key, target_refused, to_rows
from w2z_dagster.core.verification.duplicates import duplicated_keys
from w2z_dagster.core.watermark import TooDense, changed_pages
from w2z_dagster.core.write_budget import DEFAULT_WRITE_BYTES, rows_bytes, split_rows


class SyncCounts(BaseModel):
    """What one sync did; `read` is every object and id Weaviate returned, `merged` the tenants merged."""

    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    repaired: int = 0
    read: int = 0
    merged: int = 0
    rejects: list[Reject] = Field(default_factory=list)

    def add(self, other: SyncCounts) -> None:
        self.added += other.added
        self.updated += other.updated
        self.deleted += other.deleted
        self.unchanged += other.unchanged
        self.repaired += other.repaired
        self.read += other.read
        self.merged += other.merged
        self.rejects.extend(other.rejects)


class Window(BaseModel):
    """The time range a sync reads by time: [since_ms, until_ms) of Weaviate's last-update times."""

    since_ms: int
    until_ms: int


@dataclass
class _Limits:
    """What one write may carry and how fast writes may go, shared by every tenant of one sync."""

    batch_size: int
    write_bytes: int
    rate: RateCap


class _Pending:
    """Changed UUIDs and deleted keys of one tenant, flushed a batch at a time."""

    def __init__(
        self,
        source: WeaviateSource,
        sink: MilvusSink,
        schema: CollectionSchema,
        plan: MigrationPlan,
        tenant: str | None,
        limits: _Limits,
    ) -> None:
        self.source, self.sink, self.schema, self.plan = source, sink, schema, plan
        self.tenant, self.limits, self.batch_size = tenant, limits, limits.batch_size
        self.upserts: list[str] = []
        self.deletes: list[str] = []
        self.counts = SyncCounts()

    def upsert(self, uuid: str) -> None:
        self.upserts.append(uuid)
        if len(self.upserts) >= self.batch_size:
            self._write()

    def delete(self, key: str) -> None:
        self.deletes.append(key)
        if len(self.deletes) >= self.batch_size:
            self._delete()

    def _write(self) -> None:
        objects = self.source.fetch(self.schema, self.tenant, self.upserts)
        self.counts.read += len(objects)
        self.send(objects)
        self.upserts = []

    def send(self, objects: list[SourceObject]) -> None:
        result = to_rows(objects, self.plan)
        pk = self.plan.field_by_role(FieldRole.ID).name
        refused: dict[str, str] = {}
        if result.rows:
            for rows, nbytes in split_rows(
                result.rows, rows_bytes(result.rows), self.batch_size, self.limits.write_bytes
            ):
                self.limits.rate.wait(nbytes)
                refused.update((row[pk], reason) for row, reason in self.sink.write(self.plan.target, rows))
        self.counts.rejects.extend(result.rejects)
        self.counts.rejects.extend(target_refused(objects, refused, self.plan))

    def _delete(self) -> None:
        self.sink.delete(self.plan, self.deletes)
        self.counts.deleted += len(self.deletes)
        self.deletes = []

    def flush(self) -> SyncCounts:
        if self.upserts:
            self._write()
        if self.deletes:
            self._delete()
        return self.counts


def _tenant_sync(pending: _Pending) -> SyncCounts:
    plan, tenant = pending.plan, pending.tenant
    pk = plan.field_by_role(FieldRole.ID).name
    rows_before = pending.sink.count(plan, tenant)
    distinct = 0
    source_ids = pending.source.ids(pending.schema.name, tenant)
    target_rows = pending.sink.ids(plan, tenant, fields=[UPDATED_FIELD])

    def source_key(item: tuple[str, int]) -> str:
        return primary_key(plan, item[0], tenant)

    def target_key(row: dict[str, Any]) -> str:
        return row[pk]

    pending.counts.merged += 1
    for merged in merge_sorted(source_ids, target_rows, source_key, target_key, ("weaviate", "milvus")):
        distinct += merged.side is not Side.LEFT
        pending.counts.read += merged.side is not Side.RIGHT
        if merged.side is Side.LEFT:
            pending.counts.added += 1
            pending.upsert(merged.left[0])
        elif merged.side is Side.RIGHT:
            pending.delete(merged.key)
        elif merged.left[1] > (merged.right.get(UPDATED_FIELD) or 0):
            pending.counts.updated += 1
            pending.upsert(merged.left[0])
        else:
            pending.counts.unchanged += 1
    if rows_before > distinct:
        _repair_duplicates(pending)
    return pending.flush()


def _repair_duplicates(pending: _Pending) -> None:
    """Upsert once more every key the target holds twice (an insert raced another writer's row).

    The merge sees one row per key, as every Milvus read but `count(*)` does, so the duplicates are
    looked up only when the tenant's `count(*)` exceeds the keys streamed. An upsert deletes every copy
    and writes one; keys gone from Weaviate were deleted by the merge already, copies and all.
    """
    for duplicate in duplicated_keys(pending.sink, pending.plan, pending.tenant):
        pending.counts.repaired += 1
        uuid = duplicate.key.rpartition(":")[2] if pending.plan.multi_tenant else duplicate.key
        if uuid not in pending.upserts:
            pending.upsert(uuid)


def _changes_sync(pending: _Pending, window: Window) -> SyncCounts:
    """Upsert what changed in `window`, then merge the tenant in full only if the counts disagree."""
    plan, tenant = pending.plan, pending.tenant
    try:
        for objects in changed_pages(
            pending.source, pending.schema, tenant, window.since_ms, window.until_ms, pending.batch_size
        ):
            pending.counts.read += len(objects)
            pending.send(_newer(pending, objects))
    except TooDense:
        return _tenant_sync(pending)
    if pending.source.count(pending.schema.name, tenant) != pending.sink.count(plan, tenant):
        return _tenant_sync(pending)
    return pending.flush()


def _newer(pending: _Pending, objects: list[SourceObject]) -> list[SourceObject]:
    """The objects whose row is missing or older: the margin re-reads objects already in step."""
    plan, tenant = pending.plan, pending.tenant
    keys = {primary_key(plan, o.uuid, tenant): o for o in objects}
    held = pending.sink.updated_times(plan, list(keys))
    newer = []
    for key, obj in keys.items():
        if key not in held:
            pending.counts.added += 1
        elif to_millis(obj.updated) > held[key]:
            pending.counts.updated += 1
        else:
            pending.counts.unchanged += 1
            continue
        newer.append(obj)
    return newer


def sync(
    source: WeaviateSource,
    sink: MilvusSink,
    schema: CollectionSchema,
    plan: MigrationPlan,
    batch_size: int,
    *,
    window: Window | None = None,
    write_batch_bytes: int = DEFAULT_WRITE_BYTES,
    max_write_mb_per_s: float | None = None,
) -> Iterator[tuple[str | None, SyncCounts]]:
    """Yield each readable tenant's counts once it is in step, then each deleted tenant's once emptied.

    With a `window` (only where the schema has `indexTimestamps`) changes are found by time, otherwise by
    the full merge. Inactive tenants are left untouched; a tenant is deleted only once Weaviate lists it
    neither active nor inactive. `write_batch_bytes` and `max_write_mb_per_s` are the copy's request
    budget and rate cap.
    """
    limits = _Limits(batch_size, write_batch_bytes, RateCap(max_write_mb_per_s, threading.Event()))
    for tenant in tenants_to_read(schema):
        pending = _Pending(source, sink, schema, plan, tenant, limits)
        if window is not None and schema.index_timestamps:
            yield tenant, _changes_sync(pending, window)
        else:
            yield tenant, _tenant_sync(pending)
    if schema.multi_tenant:
        for gone in sink.tenants_outside(plan, [t.name for t in schema.tenants]):
            rows = sink.count(plan, gone)
            sink.delete_tenant(plan, gone)
            yield gone, SyncCounts(deleted=rows)
