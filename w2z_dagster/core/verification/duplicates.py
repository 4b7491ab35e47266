"""Duplicates: rows Milvus holds twice or more under one primary key.

A real Milvus keeps both rows when a key is inserted again, and every read but `count(*)` returns one of
them (the oldest), so identity and content cannot see a duplicate: only `count(*)` against the number of
distinct keys can. Milvus Lite overwrites instead, so this check is proven on the real engine.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import islice
from typing import NamedTuple

from w2z_dagster.core.plan import FieldRole, MigrationPlan
from w2z_dagster.core.schema import CollectionSchema
from w2z_dagster.core.sink import EVENTUALLY, MilvusSink
from w2z_dagster.core.tenants import tenants_to_read
from w2z_dagster.core.verification.report import DUPLICATES, CheckResult, Listed

KEYS_PER_COUNT = 1000
"""Keys counted in one `count(*)` while looking for the duplicated ones (an expression of ~40 KB)."""


REPAIR = "materialize migrated_batches again (`w2z migrate`): its sync upserts every duplicated key once"


class Duplicate(NamedTuple):
    key: str
    rows: int


def _split(sink: MilvusSink, plan: MigrationPlan, keys: Sequence[str], rows: int) -> Iterator[Duplicate]:
    """Bisect a key list holding `rows` rows down to the keys held more than once.

    The list was counted Strong, so its rows are visible to the query nodes: the halves are counted
    without waiting for another time tick each.
    """
    if rows <= len(keys):
        return
    if len(keys) == 1:
        yield Duplicate(keys[0], rows)
        return
    half = len(keys) // 2
    for part in (keys[:half], keys[half:]):
        yield from _split(sink, plan, part, sink.count_keys(plan, part, EVENTUALLY))


def _chunks(keys: Iterator[str], size: int) -> Iterator[list[str]]:
    while chunk := list(islice(keys, size)):
        yield chunk


def duplicated_keys(sink: MilvusSink, plan: MigrationPlan, tenant: str | None) -> Iterator[Duplicate]:
    """Every key of `tenant` held more than once, with its number of rows: one count per 1,000 keys."""
    keys = (row[plan.field_by_role(FieldRole.ID).name] for row in sink.ids(plan, tenant))
    for chunk in _chunks(keys, KEYS_PER_COUNT):
        yield from _split(sink, plan, chunk, sink.count_keys(plan, chunk))


def _distinct(sink: MilvusSink, plan: MigrationPlan, tenant: str | None) -> int:
    return sum(1 for _ in sink.ids(plan, tenant))


def check_duplicates(
    sink: MilvusSink,
    schema: CollectionSchema,
    plan: MigrationPlan,
    rows_counted: int | None = None,
    keys_streamed: int | None = None,
    listed: int = 20,
) -> CheckResult:
    """`count(*)` against the distinct keys, per tenant; the duplicated keys are looked up only if they differ.

    `rows_counted` and `keys_streamed` are what the counts and identity checks already read over the
    readable tenants (`count(*)` and distinct keys): when they agree nothing is duplicated and nothing
    more is read. Otherwise each tenant is counted and streamed again, which also tells a duplicate
    from a write that landed between those two checks.
    """
    found = Listed(listed)
    extra_rows = 0
    clean = rows_counted is not None and rows_counted == keys_streamed
    for tenant in () if clean else tenants_to_read(schema):
        excess = sink.count(plan, tenant) - _distinct(sink, plan, tenant)
        if excess <= 0:
            continue
        extra_rows += excess
        for duplicate in duplicated_keys(sink, plan, tenant):
            uuid = duplicate.key.rpartition(":")[2] if plan.multi_tenant else duplicate.key
            found.add(
                {
                    "tenant": tenant or "",
                    "uuid": uuid,
                    "milvus": f"{duplicate.rows} rows",
                    "detail": "key held more than once",
                }
            )
            if len(found.rows) >= listed:
                break
    return CheckResult(
        name=DUPLICATES,
        passed=extra_rows == 0,
        summary=f"{extra_rows} rows duplicated"
        + (f" (e.g. {', '.join(r['uuid'] for r in found.rows[:3])}): {REPAIR}" if extra_rows else ""),
        numbers={"duplicated_rows": extra_rows, "listed_keys": len(found.rows)},
        mismatches=found.rows,
    )
