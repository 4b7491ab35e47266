"""The cut-over report from what one Dagster run recorded: its materializations and asset checks.

Read from the instance's event log, not from the run's Python objects, so the CLI (after its run) and
the `cutover_report` asset (inside the UI's run) build the same report from the same records, and every
check any asset of the run evaluates is in it, whoever added that check.

A cut-over is stricter than a run: every check of `verification_report` blocks it, not only those
Dagster marks blocking (a content or search-parity failure must stop the switch as surely as a missing
object); checks of other assets (the copy's `lag`) block only when marked so.
"""

from __future__ import annotations

from typing import Any

import dagster as dg

from w2z_dagster.core.cutover import CutoverCheck, CutoverReport
from w2z_dagster.core.plan import MigrationPlan
from w2z_dagster.core.preview import mapping_rows
from w2z_dagster.defs.checks import REPORT_ASSET
from w2z_dagster.defs.io_managers import MissingRecordError, recorded
from w2z_dagster.lib.metadata import CopyMetadataSet

COPY_ASSET = dg.AssetKey("migrated_batches")
PLAN_ASSET = dg.AssetKey("zilliz_collection")


def plain(value: Any) -> Any:
    """A metadata value as JSON-ready Python: tables as lists of rows, the rest as their value."""
    if isinstance(value, dg.TableMetadataValue):
        return [dict(record.data) for record in value.records]
    return getattr(value, "value", value)


def _events(instance: dg.DagsterInstance, run_id: str, kind: dg.DagsterEventType) -> list[Any]:
    return [e.dagster_event for e in instance.all_logs(run_id, of_type=kind) if e.dagster_event]


def build_report(
    instance: dg.DagsterInstance, run_id: str, collection: str, succeeded: bool, error: str | None = None
) -> CutoverReport:
    copy: dict[str, Any] = {}
    for event in _events(instance, run_id, dg.DagsterEventType.ASSET_MATERIALIZATION):
        if event.asset_key == COPY_ASSET:
            copy = dict(event.step_materialization_data.materialization.metadata)
    checks = []
    for event in _events(instance, run_id, dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = event.event_specific_data
        blocking = bool(evaluation.blocking) or evaluation.asset_key == REPORT_ASSET
        checks.append(
            CutoverCheck(
                name=evaluation.check_name,
                asset=evaluation.asset_key.to_user_string(),
                passed=evaluation.passed,
                blocking=blocking,
                summary=evaluation.description or "",
                numbers={k: plain(v) for k, v in evaluation.metadata.items() if k != "summary"},
            )
        )
    sync = CopyMetadataSet.extract(copy)
    try:
        plan: MigrationPlan | None = recorded(instance, PLAN_ASSET, collection, MigrationPlan)
    except MissingRecordError:
        plan = None
    numbers = {
        k: plain(v) for k, v in sync if v is not None and k not in ("first_rejects", "dead_letter_folder")
    }
    return CutoverReport(
        collection=collection,
        target=plan.target if plan else None,
        run_id=run_id,
        run_succeeded=succeeded,
        run_error=error,
        sync=numbers,
        checks=checks,
        plan=mapping_rows(plan) if plan else [],
        rejects=plain(sync.first_rejects) if sync.first_rejects else [],
        dead_letter_folder=plain(sync.dead_letter_folder) if sync.dead_letter_folder else None,
    )
