"""Counts: Weaviate's aggregate per tenant against Milvus `count(*)`, never collection stats."""

from __future__ import annotations

from w2z_dagster.core.mapping import MigrationPlan
from w2z_dagster.core.schema import CollectionSchema
from w2z_dagster.core.sink import MilvusSink
from w2z_dagster.core.source import WeaviateSource
from w2z_dagster.core.stream import tenants_to_read
from w2z_dagster.core.verification.report import COUNTS, CheckResult


def check_counts(
    source: WeaviateSource, sink: MilvusSink, schema: CollectionSchema, plan: MigrationPlan
) -> CheckResult:
    """Weaviate's aggregate count against Milvus `count(*)`, per tenant; never collection stats."""
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
    unread = [t.name for t in schema.tenants if not t.active]
    passed = not mismatches
    return CheckResult(
        name=COUNTS,
        passed=passed,
        summary=f"weaviate {source_total} / milvus {target_total}"
        + ("" if passed else f", {len(mismatches)} tenant(s) differ" if schema.multi_tenant else ", differ")
        + (f"; {len(unread)} inactive tenant(s) not verified" if unread else ""),
        numbers={
            "weaviate": source_total,
            "milvus": target_total,
            "difference": target_total - source_total,
            "tenants_differing": len(mismatches),
            "inactive_tenants_not_verified": len(unread),
        },
        mismatches=mismatches,
    )
