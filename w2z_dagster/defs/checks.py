"""The verification checks as Dagster asset checks: one result per check, per collection partition.

They are evaluated inside `verification_report` (one read of both databases serves all seven) and carry
the partitions definition, so the catalog keeps a verdict per collection instead of only the latest one.
Counts, identity and duplicates are blocking: a copy with missing, extra or doubled objects fails its run.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import dagster as dg

from w2z_dagster.core.verification.report import (
    CHECKS,
    CONTENT,
    COUNTS,
    DUPLICATES,
    IDENTITY,
    REJECTS,
    SCHEMA,
    SEARCH_PARITY,
    CheckResult,
    VerificationReport,
)
from w2z_dagster.defs.partitions import collections_partitions

REPORT_ASSET = "verification_report"
BLOCKING = frozenset({COUNTS, IDENTITY, DUPLICATES})
MISMATCH_COLUMNS = ("check", "tenant", "uuid", "field", "weaviate", "milvus", "detail")

DESCRIPTIONS = {
    COUNTS: "Weaviate's object count per tenant equals an exact Milvus count(*) (strong consistency), "
    "and Milvus holds no rows of tenants Weaviate no longer lists.",
    IDENTITY: "The UUID sets are equal: both sides streamed in UUID order and merged; missing/extra counted.",
    CONTENT: "A deterministic sample, plus every dead-lettered object, is equal field by field; vectors "
    "bit-exact at float32.",
    SCHEMA: "Every Weaviate property and vector has its planned Milvus field with the planned type and size.",
    SEARCH_PARITY: "Top-k neighbours of sampled vectors agree between Weaviate and Milvus at the minimum "
    "recall.",
    REJECTS: "No object was dead-lettered by the last migration.",
    DUPLICATES: "Milvus count(*) equals the number of distinct keys per tenant: no key is held twice "
    "(a real Milvus keeps both rows of a re-inserted key; every other read shows one).",
}

# Partitioned asset checks are a preview API in Dagster 1.13, chosen knowingly (a verdict per collection);
# its warning would reach every CLI user's stderr and every code-server log without telling them anything.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.PreviewWarning)
    CHECK_SPECS = [
        dg.AssetCheckSpec(
            name,
            asset=REPORT_ASSET,
            description=DESCRIPTIONS[name],
            blocking=name in BLOCKING,
            partitions_def=collections_partitions,
        )
        for name in CHECKS
    ]


def mismatch_table(rows: Sequence[dict[str, Any]]) -> dg.TableMetadataValue:
    return dg.MetadataValue.table(
        records=[dg.TableRecord({c: str(r.get(c, "")) for c in MISMATCH_COLUMNS}) for r in rows],
        schema=dg.TableSchema(columns=[dg.TableColumn(c, "string") for c in MISMATCH_COLUMNS]),
    )


def _number(value: Any) -> dg.RawMetadataValue:
    """Scalars stay plottable in the catalog; nested numbers go as JSON."""
    if isinstance(value, bool):
        return dg.MetadataValue.bool(value)
    if value is None:
        return "none"
    if isinstance(value, int):
        return dg.MetadataValue.int(value)
    if isinstance(value, float):
        return dg.MetadataValue.float(value)
    if isinstance(value, str):
        return value
    return dg.MetadataValue.json(value)


def check_result(check: CheckResult) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=check.name,
        passed=check.passed,
        description=check.summary,
        metadata={
            "summary": check.summary,
            **{key: _number(value) for key, value in check.numbers.items()},
            "mismatches": mismatch_table([{"check": check.name, **m} for m in check.mismatches]),
        },
    )


def check_results(report: VerificationReport) -> list[dg.AssetCheckResult]:
    return [check_result(c) for c in report.checks]
