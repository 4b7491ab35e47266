"""When a write may be a plain insert instead of an upsert, decided from what the target already holds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from w2z_dagster.core.checkpoint import Checkpoint
from w2z_dagster.core.mapping import FieldRole, MigrationPlan
from w2z_dagster.core.sink import MilvusSink
from w2z_dagster.core.transform import primary_key

PROBE_LIMIT = 16_384
"""Most keys one Milvus query returns; more keys than this beyond the start means: upsert that tenant."""


class InsertGate:
    """Says whether a write may be a plain insert, which Milvus takes faster than an upsert.

    An insert duplicates a key the target already holds, so it is only used where the target provably
    holds none of the write's keys. Within a tenant the cursor hands out keys in increasing order, and
    everything this run writes lies beyond where the run started; so one query per tenant for the keys
    the target already holds beyond that point (left by an earlier, interrupted run, by a restart over a
    finished copy, or by anyone else) tells which pages are new: those whose smallest key lies above the
    largest such key. The first write of every run is an upsert regardless, covering a request an
    interrupted run may still have had in flight, and a failed insert is never retried as an insert.
    """

    def __init__(self, sink: MilvusSink, plan: MigrationPlan, start: Checkpoint, enabled: bool) -> None:
        self._sink = sink
        self._plan = plan
        self._start = start
        self._enabled = enabled
        self._pk = plan.field_by_role(FieldRole.ID).name
        self._barriers: dict[str | None, tuple[bool, str | None]] = {}
        self._first = True

    def _barrier(self, tenant: str | None) -> tuple[bool, str | None]:
        """(whether any insert is possible, the largest key already present beyond the start)."""
        if tenant not in self._barriers:
            after = self._start.after if tenant == self._start.tenant else None
            start_key = None if after is None else primary_key(self._plan, after, tenant)
            keys = self._sink.keys_after(self._plan, tenant, start_key, PROBE_LIMIT)
            self._barriers[tenant] = (len(keys) < PROBE_LIMIT, max(keys) if keys else None)
        return self._barriers[tenant]

    def allows(self, batches: Sequence[tuple[str | None, list[dict[str, Any]]]]) -> bool:
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
