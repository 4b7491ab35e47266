"""`w2z migrate --dry-run`: the plan for each collection, read from the source and target only."""

from __future__ import annotations

from contextlib import ExitStack

from rich.console import Console

from w2z_dagster.cli.context import Context, new_table
from w2z_dagster.core.plan import PlanError
from w2z_dagster.core.preview import CollectionPreview, TargetState, format_bytes, preview
from w2z_dagster.core.source import SourceError


def command(ctx: Context) -> int:
    previews: list[CollectionPreview] = []
    failures: list[tuple[str, str]] = []
    with ExitStack() as stack:
        source = stack.enter_context(ctx.source())
        names = ctx.select(source)
        sink = None if ctx.target_absent() or not names else stack.enter_context(ctx.sink())
        for name in names:
            try:
                schema = source.read_schema(name)
                plan = ctx.plan(schema)
            except (PlanError, SourceError) as exc:
                failures.append((name, str(exc)))
                continue
            existing = sink is not None and sink.exists(plan.target)
            described = sink.describe(plan.target) if existing else None
            functions = sink.describe_functions(plan.target) if existing else ()
            previews.append(preview(schema, plan, described, ctx.args.limit, functions))
    for item in previews:
        _print_preview(ctx.out, item, ctx.batch_size)
    for name, problem in failures:
        ctx.out.print(f"[bold]{name}[/]: cannot be migrated: {problem}", highlight=False, soft_wrap=True)
    total = sum(p.estimated_bytes for p in previews)
    ctx.out.print(
        f"Dry run: {len(previews) + len(failures)} collection(s), "
        f"{sum(p.objects for p in previews):,} objects, about {format_bytes(total)} on the target; "
        "nothing was written.",
        highlight=False,
    )
    return 0 if not failures and all(p.ok for p in previews) else 1


_STATE_TEXT = {
    TargetState.CREATE: "does not exist: would be created",
    TargetState.REUSE: "exists with a matching schema: would be reused (upserts by UUID)",
    TargetState.CONFLICT: "exists with a different schema: the migration would fail",
}


def _print_preview(out: Console, item: CollectionPreview, batch_size: int) -> None:
    out.rule(f"{item.collection} → {item.target}")
    limited = "" if item.objects == item.source_objects else f" (--limit: {item.objects:,} would be copied)"
    out.print(f"Objects: {item.source_objects:,}{limited}; batches of {batch_size}", highlight=False)
    if any(t.name for t in item.tenants):
        tenants = new_table("Tenant", "Status", "Objects")
        for t in item.tenants:
            tenants.add_row(
                t.name, t.status, "not readable, skipped" if t.objects is None else f"{t.objects:,}"
            )
        out.print(tenants)
    out.print(
        f"Target collection '{item.target}' ({item.profile}): {_STATE_TEXT[item.target_state]}",
        highlight=False,
    )
    for difference in item.differences:
        out.print(f"  - {difference}", highlight=False)
    mapping = new_table("Weaviate property", "Weaviate type", "Milvus field", "Milvus type", "Notes")
    for row in item.mapping:
        mapping.add_row(*row.values())
    out.print(mapping)
    for index in item.indexes:
        out.print(f"Index {index}", highlight=False)
    for note in item.notes:
        out.print(f"Note: {note}", highlight=False)
    out.print(
        f"Estimated size: {item.objects:,} × {format_bytes(item.row_bytes)} ≈ {format_bytes(item.estimated_bytes)}",
        highlight=False,
    )
