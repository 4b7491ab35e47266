"""How w2z's models look in the Dagster catalog: tables, markdown and numbers, never secrets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dagster as dg

from w2z_dagster.core.checkpoint import Checkpoint
from w2z_dagster.core.dead_letters import DeadLetters
from w2z_dagster.core.plan import MigrationPlan
from w2z_dagster.core.preview import mapping_rows
from w2z_dagster.core.schema import CollectionSchema
from w2z_dagster.core.stream import BatchOutcome
from w2z_dagster.core.sync import SyncCounts
from w2z_dagster.core.verification.report import CheckResult, VerificationReport

MISMATCH_COLUMNS = ("check", "tenant", "uuid", "field", "weaviate", "milvus", "detail")


def table(rows: Sequence[dict[str, object]], columns: Sequence[str]) -> dg.TableMetadataValue:
    """Rows as a catalog table of text columns, so every cell shows as the model had it."""
    return dg.MetadataValue.table(
        records=[dg.TableRecord({c: str(r.get(c, "")) for c in columns}) for r in rows],
        schema=dg.TableSchema(columns=[dg.TableColumn(c, "string") for c in columns]),
    )


def schema_metadata(schema: CollectionSchema) -> dict[str, dg.RawMetadataValue]:
    properties = [
        {"name": p.name, "type": p.data_type.value, "targets": ", ".join(p.reference_targets)}
        for p in schema.properties
    ]
    vectors = [
        {
            "name": v.name,
            "dimension": v.dimension or "",
            "distance": v.distance,
            "index": v.index_type,
            "multi": v.multi,
        }
        for v in schema.vectors
    ]
    tenants = [
        {"name": t.name, "status": t.status, "objects": schema.counts_by_tenant.get(t.name, "")}
        for t in schema.tenants
    ]
    return {
        "object_count": dg.MetadataValue.int(schema.object_count),
        "properties": table(properties, ["name", "type", "targets"]),
        "vectors": table(vectors, ["name", "dimension", "distance", "index", "multi"]),
        "tenants": table(tenants, ["name", "status", "objects"]),
        "multi_tenant": schema.multi_tenant,
    }


def plan_metadata(plan: MigrationPlan) -> dict[str, dg.RawMetadataValue]:
    rows = mapping_rows(plan)
    columns = list(rows[0]) if rows else ["weaviate_property"]
    return {
        "target": plan.target,
        "profile": plan.profile.value,
        "mapping": table(rows, columns),
        "notes": dg.MetadataValue.md("\n".join(f"- {n}" for n in plan.notes) or "none"),
    }


def progress_line(outcome: BatchOutcome, source_total: int) -> str:
    """The older script's progress lines, so people who tailed its log recognise the run."""
    cp = outcome.checkpoint
    tenant = f" [tenant {cp.tenant}]" if cp.tenant else ""
    return (
        f"✓ Batch {cp.batches}{tenant} completed: {outcome.written} documents uploaded"
        f"{f', {len(outcome.rejects)} rejected' if outcome.rejects else ''}. "
        f"Total migrated so far: {cp.objects}/{source_total}"
    )


def migration_metadata(
    checkpoint: Checkpoint, seconds: float, dead_letters: DeadLetters, skipped_tenants: list[str]
) -> dict[str, dg.RawMetadataValue]:
    written = checkpoint.objects - checkpoint.rejected
    rejects = [{"uuid": r.uuid, "tenant": r.tenant or "", "reason": r.reason} for r in dead_letters.first]
    return {
        "objects": dg.MetadataValue.int(written),
        "batches": dg.MetadataValue.int(checkpoint.batches),
        "rejected": dg.MetadataValue.int(checkpoint.rejected),
        "seconds": dg.MetadataValue.float(round(seconds, 3)),
        "objects_per_second": dg.MetadataValue.float(round(written / seconds, 1) if seconds > 0 else 0.0),
        "dead_letter_folder": dg.MetadataValue.path(str(dead_letters.folder)) if dead_letters.count else "",
        "first_rejects": table(rejects, ["uuid", "tenant", "reason"]),
        "inactive_tenants_skipped": ", ".join(skipped_tenants),
    }


def sync_line(tenant: str | None, counts: SyncCounts) -> str:
    where = f" [tenant {tenant}]" if tenant else ""
    return (
        f"✓ Sync{where}: {counts.added} added, {counts.updated} updated, {counts.deleted} deleted, "
        f"{counts.unchanged} unchanged{f', {len(counts.rejects)} rejected' if counts.rejects else ''}"
        f"{f', {counts.repaired} duplicated key(s) repaired' if counts.repaired else ''}"
    )


def sync_metadata(
    totals: SyncCounts, seconds: float, dead_letters: DeadLetters, skipped_tenants: list[str]
) -> dict[str, dg.RawMetadataValue]:
    rejects = [{"uuid": r.uuid, "tenant": r.tenant or "", "reason": r.reason} for r in dead_letters.first]
    return {
        "mode": "sync",
        "added": dg.MetadataValue.int(totals.added),
        "updated": dg.MetadataValue.int(totals.updated),
        "deleted": dg.MetadataValue.int(totals.deleted),
        "unchanged": dg.MetadataValue.int(totals.unchanged),
        "rejected": dg.MetadataValue.int(len(totals.rejects)),
        "seconds": dg.MetadataValue.float(round(seconds, 3)),
        "first_rejects": table(rejects, ["uuid", "tenant", "reason"]),
        "inactive_tenants_skipped": ", ".join(skipped_tenants),
    }


def empty_source_metadata() -> dict[str, dg.RawMetadataValue]:
    return {
        "mode": "empty source",
        "objects": dg.MetadataValue.int(0),
        "batches": dg.MetadataValue.int(0),
        "rejected": dg.MetadataValue.int(0),
    }


def report_metadata(report: VerificationReport) -> dict[str, dg.RawMetadataValue]:
    """The verdict first, then one row per check, then what differed: readable without opening a log."""
    failed = report.failed
    verdict = (
        f"**Safe to cut over**: all {len(report.checks)} checks passed."
        if not failed
        else f"**NOT safe to cut over**: {len(failed)} of {len(report.checks)} checks failed "
        f"({', '.join(failed)})."
    )
    lines = [verdict, "", "| check | result | numbers |", "| --- | --- | --- |"]
    lines += [
        f"| {c.name} | {'✅ PASS' if c.passed else '❌ FAIL'} | {c.summary.replace('|', '/')} |"
        for c in report.checks
    ]
    mismatches = [{"check": c.name, **m} for c in report.checks for m in c.mismatches]
    return {
        "passed": dg.MetadataValue.bool(report.passed),
        "checks_failed": dg.MetadataValue.int(len(failed)),
        "summary": dg.MetadataValue.md("\n".join(lines)),
        "mismatches": table(mismatches, MISMATCH_COLUMNS),
        "numbers": dg.MetadataValue.json({c.name: c.numbers for c in report.checks}),
    }


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
            "mismatches": table([{"check": check.name, **m} for m in check.mismatches], MISMATCH_COLUMNS),
        },
    )


def check_results(report: VerificationReport) -> list[dg.AssetCheckResult]:
    return [check_result(c) for c in report.checks]
