"""Counts: Weaviate's aggregate per tenant against Milvus `count(*)`, never collection stats.

A tenant deleted in Weaviate is no longer among the tenants compared one by one, so the target's
collection-wide count is checked too: every row must belong to a tenant Weaviate still lists.
"""

from __future__ import annotations

from itertools import islice

from w2z_dagster.core.plan import MigrationPlan
from w2z_dagster.core.schema import CollectionSchema
from w2z_dagster.core.sink import MilvusSink
from w2z_dagster.core.source import WeaviateSource
from w2z_dagster.core.tenants import tenants_to_read
from w2z_dagster.core.verification.report import COUNTS, CheckResult

NAMED_STALE_TENANTS = 20


def check_counts(
    source: WeaviateSource, sink: MilvusSink, schema: CollectionSchema, plan: MigrationPlan
) -> CheckResult:
    """Weaviate's aggregate count against Milvus `count(*)`, per tenant and for the tenant set."""
    mismatches = []
    source_total = target_total = 0
    for tenant in tenants_to_read(schema):
        expected = source.count(schema.name, tenant)
        actual = sink.count(plan, tenant)
        source_total += expected
        target_total += actual
        if expected != actual:
            mismatches.append(
                {"tenant": tenant or "", "weaviate": expected, "milvus": actual, "detail": "count differs"}
            )
    known = [t.name for t in schema.tenants]
    stale_rows = sink.count_outside(plan, known) if schema.multi_tenant else 0
    stale = list(islice(sink.tenants_outside(plan, known), NAMED_STALE_TENANTS)) if stale_rows else []
    mismatches.extend(
        {
            "tenant": tenant,
            "weaviate": 0,
            "milvus": sink.count(plan, tenant),
            "detail": "tenant no longer in Weaviate: the next sync deletes its rows",
        }
        for tenant in stale
    )
    unread = [t.name for t in schema.tenants if not t.active]
    differing = len(mismatches) - len(stale)
    passed = not mismatches
    summary = f"weaviate {source_total} / milvus {target_total}"
    if differing:
        summary += f", {differing} tenant(s) differ" if schema.multi_tenant else ", differ"
    if stale_rows:
        summary += (
            f"; {stale_rows} row(s) of tenant(s) Weaviate no longer has ({', '.join(stale)}"
            f"{', ...' if len(stale) == NAMED_STALE_TENANTS else ''})"
        )
    if unread:
        summary += f"; {len(unread)} inactive tenant(s) not verified"
    return CheckResult(
        name=COUNTS,
        passed=passed,
        summary=summary,
        numbers={
            "weaviate": source_total,
            "milvus": target_total,
            "difference": target_total - source_total,
            "tenants_differing": differing,
            "milvus_rows_of_deleted_tenants": stale_rows,
            "inactive_tenants_not_verified": len(unread),
        },
        mismatches=mismatches,
    )
