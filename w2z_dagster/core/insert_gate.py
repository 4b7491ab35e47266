"""When a write may be a plain insert instead of an upsert, and how an insert that raced is undone."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from w2z_dagster.core.checkpoint import Checkpoint
from w2z_dagster.core.plan import FieldRole, MigrationPlan
from w2z_dagster.core.sink import MilvusSink
from w2z_dagster.core.transform import primary_key

PROBE_LIMIT = 16_384
"""Most keys one Milvus query returns; more rows than this beyond the start means: upsert that tenant."""
CHECK_KEYS = 5_000
"""Inserted keys re-counted together (one Strong `count(*)`, ~0.5 MB of expression)."""

Batches = Sequence[tuple[str | None, list[dict[str, Any]]]]


class InsertGate:
    """Says whether a write may be a plain insert, which Milvus takes faster than an upsert.

    On a real Milvus an insert of a key the target already holds keeps both rows, so inserts are used
    only where the target provably holds none of the write's keys. Within a tenant the cursor hands out
    keys in increasing order and everything this run writes lies beyond where it started, so one look
    per tenant at what the target holds beyond that point (left by an interrupted run, a restart over a
    finished copy, or anyone else) tells which pages are new: those whose smallest key lies above the
    largest key found. The look counts rows as well as fetching keys: `query(limit=L)` counts duplicate
    rows against the limit before removing them, so fewer keys than rows means it may have been cut
    short, and that tenant is upserted throughout. The first write of every run is an upsert, covering
    a request an interrupted run may still have had in flight.

    A look is only true when it is made: a writer that starts after it (`run_guard` keeps a second w2z
    run of the collection out, but not a lost pod or a foreign tool) could write the same keys. So
    every insert is counted again once it landed, `CHECK_KEYS` at a time and at the end of the stream
    (a Strong read per write would cost a time tick each): if the target holds more rows for those keys
    than there are keys, they are upserted once more, which leaves one copy of each, and the tenant
    goes back to upserts. A crash between an insert and its count leaves the duplicates for
    verification's duplicates check to name and the next sync to repair.
    """

    def __init__(self, sink: MilvusSink, plan: MigrationPlan, start: Checkpoint, enabled: bool) -> None:
        self._sink = sink
        self._plan = plan
        self._start = start
        self._enabled = enabled
        self._pk = plan.field_by_role(FieldRole.ID).name
        self._barriers: dict[str | None, tuple[bool, str | None]] = {}
        self._first = True
        self._inserted: list[tuple[str | None, dict[str, Any]]] = []

    def _barrier(self, tenant: str | None) -> tuple[bool, str | None]:
        """(whether any insert is possible, the largest key already present beyond the start)."""
        if tenant not in self._barriers:
            after = self._start.after if tenant == self._start.tenant else None
            start_key = None if after is None else primary_key(self._plan, after, tenant)
            rows = self._sink.count_after(self._plan, tenant, start_key)
            keys = self._sink.keys_after(self._plan, tenant, start_key, PROBE_LIMIT) if rows else []
            self._barriers[tenant] = (rows < PROBE_LIMIT and len(keys) == rows, max(keys, default=None))
        return self._barriers[tenant]

    def allows(self, batches: Batches) -> bool:
        """Whether one write of these (tenant, rows) batches may be an insert; asked once per write."""
        first, self._first = self._first, False
        if not self._enabled or first:
            return False
        for tenant, rows in batches:
            if not rows:
                continue
            possible, barrier = self._barrier(tenant)
            if not possible or (barrier is not None and min(r[self._pk] for r in rows) <= barrier):
                return False
        return True

    def inserted(self, batches: Batches) -> None:
        """Record a landed insert; its keys are counted again with the next `CHECK_KEYS` of them."""
        self._inserted.extend((tenant, row) for tenant, rows in batches for row in rows)
        if len(self._inserted) >= CHECK_KEYS:
            self.check()

    def check(self) -> None:
        """Upsert again the inserts since the last check if any of their keys is now held twice."""
        pending, self._inserted = self._inserted, []
        if not pending or self._sink.count_keys(self._plan, [row[self._pk] for _, row in pending]) <= len(
            pending
        ):
            return
        for tenant in {tenant for tenant, _ in pending}:
            self._barriers[tenant] = (False, None)
        self._sink.write(self._plan.target, [row for _, row in pending])
