"""Differential sync: bring the target to equality with the source at the cost of what changed.

Both sides are streamed in UUID order and merged (`core.merge`), so memory stays bounded whatever the
collection size: an object only in Weaviate is added, one whose Weaviate last-update time is newer than
the one recorded in its Milvus row is updated, one only in Milvus is deleted, the rest are not re-sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, Field

from w2z_dagster.core.mapping import UPDATED_FIELD, FieldRole, MigrationPlan
from w2z_dagster.core.merge import Side, merge_sorted
from w2z_dagster.core.schema import CollectionSchema
from w2z_dagster.core.sink import MilvusSink
from w2z_dagster.core.source import WeaviateSource
from w2z_dagster.core.stream import tenants_to_read
from w2z_dagster.core.transform import Reject, primary_key, to_rows
from w2z_dagster.core.verification.duplicates import duplicated_keys


class SyncCounts(BaseModel):
    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    repaired: int = 0
    rejects: list[Reject] = Field(default_factory=list)

    def add(self, other: SyncCounts) -> None:
        self.added += other.added
        self.updated += other.updated
        self.deleted += other.deleted
        self.unchanged += other.unchanged
        self.repaired += other.repaired
        self.rejects.extend(other.rejects)


class _Pending:
    """Changed UUIDs and deleted keys of one tenant, flushed a batch at a time."""

    def __init__(
        self,
        source: WeaviateSource,
        sink: MilvusSink,
        schema: CollectionSchema,
        plan: MigrationPlan,
        tenant: str | None,
        batch_size: int,
    ) -> None:
        self.source, self.sink, self.schema, self.plan = source, sink, schema, plan
        self.tenant, self.batch_size = tenant, batch_size
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
        result = to_rows(objects, self.plan)
        refused = {
            row[self.plan.field_by_role(FieldRole.ID).name]: reason
            for row, reason in self.sink.write(self.plan.target, result.rows)
        }
        self.counts.rejects.extend(result.rejects)
        self.counts.rejects.extend(
            Reject(
                uuid=o.uuid,
                tenant=o.tenant,
                reason=f"target refused: {refused[key]}",
                object=o.model_dump(mode="json"),
            )
            for o in objects
            if (key := primary_key(self.plan, o.uuid, o.tenant)) in refused
        )
        self.upserts = []

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

    for merged in merge_sorted(source_ids, target_rows, source_key, target_key, ("weaviate", "milvus")):
        distinct += merged.side is not Side.LEFT
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


def sync(
    source: WeaviateSource, sink: MilvusSink, schema: CollectionSchema, plan: MigrationPlan, batch_size: int
) -> Iterator[tuple[str | None, SyncCounts]]:
    """Yield each readable tenant's counts once it is in step; inactive tenants are left untouched."""
    for tenant in tenants_to_read(schema):
        yield tenant, _tenant_sync(_Pending(source, sink, schema, plan, tenant, batch_size))
