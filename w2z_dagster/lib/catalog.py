"""How w2z's models look in the Dagster catalog: tables, markdown and numbers, never secrets."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
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
from w2z_dagster.core.watermark import Lag
from w2z_dagster.lib.metadata import (
    CopyMetadataSet,
    PlanMetadataSet,
    ReportMetadataSet,
    SchemaMetadataSet,
)

MISMATCH_COLUMNS = ("check", "tenant", "uuid", "field", "weaviate", "milvus", "detail")


def table(rows: Sequence[dict[str, object]], columns: Sequence[str]) -> dg.TableMetadataValue:
    """Rows as a catalog table of text columns, so every cell shows as the model had it."""
    return dg.MetadataValue.table(
        records=[dg.TableRecord({c: str(r.get(c, "")) for c in columns}) for r in rows],
        schema=dg.TableSchema(columns=[dg.TableColumn(c, "string") for c in columns]),
    )


def schema_metadata(schema: CollectionSchema) -> SchemaMetadataSet:
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
    return SchemaMetadataSet(
        object_count=schema.object_count,
        multi_tenant=schema.multi_tenant,
        properties=table(properties, ["name", "type", "targets"]),
        vectors=table(vectors, ["name", "dimension", "distance", "index", "multi"]),
        tenants=table(tenants, ["name", "status", "objects"]),
    )


def plan_metadata(plan: MigrationPlan, created: bool, consistency_level: str) -> PlanMetadataSet:
    rows = mapping_rows(plan)
    columns = list(rows[0]) if rows else ["weaviate_property"]
    return PlanMetadataSet(
        created=created,
        target=plan.target,
        profile=plan.profile.value,
        consistency_level=consistency_level,
        mapping=table(rows, columns),
        vectorizers=table(
            [
                {
                    "weaviate_vector": v.name,
                    "module": v.vectorizer or "none (vectors from the app)",
                    "model": v.model or "",
                }
                for v in plan.source_schema.vectors
            ],
            ["weaviate_vector", "module", "model"],
        ),
        notes=dg.MetadataValue.md("\n".join(f"- {n}" for n in plan.notes) or "none"),
    )


def progress_line(outcome: BatchOutcome, source_total: int) -> str:
    """The older script's progress lines, so people who tailed its log recognise the run."""
    cp = outcome.checkpoint
    tenant = f" [tenant {cp.tenant}]" if cp.tenant else ""
    return (
        f"✓ Batch {cp.batches}{tenant} completed: {outcome.written} documents uploaded"
        f"{f', {len(outcome.rejects)} rejected' if outcome.rejects else ''}. "
        f"Total migrated so far: {cp.objects}/{source_total}"
    )


def _first_rejects(dead_letters: DeadLetters) -> dg.TableMetadataValue:
    rejects = [{"uuid": r.uuid, "tenant": r.tenant or "", "reason": r.reason} for r in dead_letters.first]
    return table(rejects, ["uuid", "tenant", "reason"])


def migration_metadata(
    mode: str,
    checkpoint: Checkpoint,
    seconds: float,
    dead_letters: DeadLetters,
    skipped_tenants: list[str],
    lag: Lag | None = None,
) -> CopyMetadataSet:
    written = checkpoint.objects - checkpoint.rejected
    return CopyMetadataSet(
        **(lag_fields(lag) if lag else {}),
        mode=mode,
        objects=written,
        batches=checkpoint.batches,
        rejected=checkpoint.rejected,
        seconds=round(seconds, 3),
        objects_per_second=round(written / seconds, 1) if seconds > 0 else 0.0,
        dead_letter_folder=dg.MetadataValue.path(str(dead_letters.folder)) if dead_letters.count else None,
        first_rejects=_first_rejects(dead_letters),
        inactive_tenants_skipped=", ".join(skipped_tenants),
    )


def sync_line(tenant: str | None, counts: SyncCounts) -> str:
    where = f" [tenant {tenant}]" if tenant else ""
    return (
        f"✓ Sync{where}: {counts.added} added, {counts.updated} updated, {counts.deleted} deleted, "
        f"{counts.unchanged} unchanged{f', {len(counts.rejects)} rejected' if counts.rejects else ''}"
        f"{f', {counts.repaired} duplicated key(s) repaired' if counts.repaired else ''}"
        f"; {counts.read} read from Weaviate{' (ids merged)' if counts.merged else ''}"
    )


WHY_FULL_MERGE_NO_TIMESTAMPS = (
    "the collection has no `indexTimestamps`, so Weaviate cannot list what changed since a time: every "
    "sync reads all ids of both sides. Enable it with `invertedIndexConfig.indexTimestamps: true` "
    "(weaviate-client: `Configure.inverted_index(index_timestamps=True)`) on a new collection and "
    "re-import into it; Weaviate cannot turn it on for an existing one"
)
WHY_FULL_MERGE_NO_WATERMARK = "the last complete run recorded no watermark; this sync records one"


def sync_metadata(
    totals: SyncCounts,
    seconds: float,
    dead_letters: DeadLetters,
    skipped_tenants: list[str],
    lag: Lag,
    why_full_merge: str | None,
) -> CopyMetadataSet:
    return CopyMetadataSet(
        mode="sync",
        added=totals.added,
        updated=totals.updated,
        deleted=totals.deleted,
        unchanged=totals.unchanged,
        repaired=totals.repaired,
        rejected=len(totals.rejects),
        seconds=round(seconds, 3),
        first_rejects=_first_rejects(dead_letters),
        inactive_tenants_skipped=", ".join(skipped_tenants),
        changes_found_by="merge" if why_full_merge else "time",
        why_full_merge=why_full_merge or "",
        objects_read=totals.read,
        tenants_merged=totals.merged,
        **lag_fields(lag),
    )


def lag_fields(lag: Lag) -> dict[str, Any]:
    moment = datetime.fromtimestamp(lag.watermark_ms / 1000, UTC)
    behind = None if lag.previous_ms is None else round((lag.watermark_ms - lag.previous_ms) / 1000, 3)
    return {
        "watermark": moment.isoformat(timespec="milliseconds"),
        "watermark_ms": lag.watermark_ms,
        "lag_seconds": lag.seconds,
        "behind_seconds": behind,
    }


def empty_source_metadata() -> CopyMetadataSet:
    return CopyMetadataSet(mode="empty source", objects=0, batches=0, rejected=0)


INLINE_MARKDOWN = 1000
"""The Dagster UI shows Markdown metadata inline only below this many characters, else behind a link."""


def _fit(text: str, width: int) -> str:
    """Each check's whole summary is its asset check's description; the table keeps the verdict inline."""
    return text if len(text) <= width else text[: max(width - 1, 0)].rstrip() + "…"


def report_metadata(report: VerificationReport) -> ReportMetadataSet:
    """The verdict first, then one row per check, then what differed: readable without opening a log."""
    failed = report.failed
    verdict = (
        f"**Safe to cut over**: all {len(report.checks)} checks passed."
        if not failed
        else f"**NOT safe to cut over**: {len(failed)} of {len(report.checks)} checks failed "
        f"({', '.join(failed)})."
    )
    lines = [verdict, "", "| check | result | numbers |", "| --- | --- | --- |"]
    width = (INLINE_MARKDOWN - len(verdict) - 60) // max(len(report.checks), 1) - 40
    lines += [
        f"| {c.name} | {'✅ PASS' if c.passed else '❌ FAIL'} | {_fit(c.summary.replace('|', '/'), width)} |"
        for c in report.checks
    ]
    mismatches = [{"check": c.name, **m} for c in report.checks for m in c.mismatches]
    return ReportMetadataSet(
        passed=report.passed,
        checks_failed=len(failed),
        summary=dg.MetadataValue.md("\n".join(lines)),
        mismatches=table(mismatches, MISMATCH_COLUMNS),
        numbers=dg.MetadataValue.json({c.name: c.numbers for c in report.checks}),
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
            "mismatches": table([{"check": check.name, **m} for m in check.mismatches], MISMATCH_COLUMNS),
        },
    )


def check_results(report: VerificationReport) -> list[dg.AssetCheckResult]:
    return [check_result(c) for c in report.checks]
