"""Checks that prove a copy: each has a name, a verdict and the numbers behind it.

Both ends are read through the same source and sink the migration used, never through a side channel,
and memory stays bounded on any collection size: id sets are merged as two UUID-ordered streams, and
only a fixed-size sample is ever fetched whole. Every check fails loudly on a difference; none of them
turns a mismatch into a warning.
"""

from __future__ import annotations

from upath import UPath

from w2z_dagster.core.plan import MigrationPlan
from w2z_dagster.core.schema import CollectionSchema
from w2z_dagster.core.sink import MilvusSink
from w2z_dagster.core.source import WeaviateSource
from w2z_dagster.core.tenants import tenants_to_read
from w2z_dagster.core.verification.content import check_content
from w2z_dagster.core.verification.counts import check_counts
from w2z_dagster.core.verification.duplicates import check_duplicates
from w2z_dagster.core.verification.filtered_parity import check_filtered_parity
from w2z_dagster.core.verification.hybrid_parity import check_hybrid_parity
from w2z_dagster.core.verification.identity import scan_identity
from w2z_dagster.core.verification.keyword_parity import check_keyword_parity
from w2z_dagster.core.verification.rejects import check_rejects, dead_letters_in
from w2z_dagster.core.verification.report import (
    CHECKS,
    COUNTS,
    DEFAULT_OPTIONS,
    CheckResult,
    VerificationReport,
    VerifyOptions,
)
from w2z_dagster.core.verification.schema_check import check_schema
from w2z_dagster.core.verification.search_parity import check_search_parity


def verify_empty_source(source: WeaviateSource, schema: CollectionSchema) -> VerificationReport:
    """No target was created for an empty source; the copy is right only while the source stays empty."""
    now = sum(source.count(schema.name, tenant) for tenant in tenants_to_read(schema))
    counts = CheckResult(
        name=COUNTS,
        passed=now == 0,
        summary="weaviate 0 / milvus 0 (empty source, no target)"
        if now == 0
        else f"weaviate now has {now} objects but no target exists: materialize the whole chain again",
        numbers={"weaviate": now, "milvus": 0},
    )
    others = [
        CheckResult(name=name, passed=True, summary="empty source: nothing to compare")
        for name in CHECKS
        if name != COUNTS
    ]
    return VerificationReport(collection=schema.name, checks=[counts, *others])


def verify(
    source: WeaviateSource,
    sink: MilvusSink,
    schema: CollectionSchema,
    plan: MigrationPlan,
    options: VerifyOptions = DEFAULT_OPTIONS,
    dead_letters: UPath | None = None,
) -> VerificationReport:
    """Run every check in CHECKS; `dead_letters` is the folder of the objects the last migration rejected."""
    target = sink.describe(plan.target) if sink.exists(plan.target) else None
    identity, sample = scan_identity(source, sink, schema, plan, options)
    content, queries = check_content(source, sink, schema, plan, sample, dead_letters, options)
    counts = check_counts(source, sink, schema, plan)
    checks = [
        counts,
        identity,
        content,
        check_schema(
            schema,
            plan,
            target,
            sink.describe_indexes(plan.target) if target is not None else None,
            sink.describe_functions(plan.target) if target is not None else (),
        ),
        check_search_parity(source, sink, schema, plan, queries, target, options),
        check_keyword_parity(source, sink, schema, plan, queries, options),
        check_hybrid_parity(source, sink, schema, plan, queries, options),
        check_rejects(dead_letters_in(dead_letters), options.listed),
        check_duplicates(
            sink, schema, plan, counts.numbers["milvus"], identity.numbers["milvus"], options.listed
        ),
        check_filtered_parity(source, sink, schema, plan, queries, target, options),
    ]
    return VerificationReport(collection=schema.name, checks=checks)
