"""`w2z migrate`: one Dagster run per collection, and the summary table of those runs."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from w2z_dagster.cli import download, dry_run, runs
from w2z_dagster.cli.context import Context, check_target, new_table, open_instance
from w2z_dagster.cli.logs import LOGGER, ProgressDisplay
from w2z_dagster.core.slices import SliceSettings

if TYPE_CHECKING:
    import dagster as dg

    from w2z_dagster.cli.runs import RunSummary

log = logging.getLogger(LOGGER)


def command(ctx: Context) -> int:
    args = ctx.args
    if args.dry_run:
        return dry_run.command(ctx)
    if args.mode == "download":
        return download.command(ctx)
    with ctx.source() as source:
        names = ctx.select(source)
    if not names:
        return 0
    check_target(ctx)
    config = {"batch_size": ctx.batch_size, "limit": args.limit, "restart": args.restart}
    assets = runs.ASSETS if args.limit is None else runs.ASSETS[:-1]
    if args.limit is not None:
        log.info(f"--limit {args.limit}: verification is skipped, a partial copy cannot match the source")
    with open_instance() as instance:
        added = runs.register_partitions(instance, names)
        if added:
            log.info(f"Registered {len(added)} new collection partition(s): {', '.join(added)}")
        summaries = run_each(
            ctx,
            instance,
            names,
            "Starting migration for collection",
            config,
            assets,
            SliceSettings(slices=args.slices, min_slice_objects=args.min_slice_objects),
        )
    _print_run_table(ctx, summaries)
    return 0 if all(s.ok for s, _ in summaries) else 1


def run_each(
    ctx: Context,
    instance: dg.DagsterInstance,
    names: Sequence[str],
    verb: str,
    config: dict[str, object] | None,
    assets: Sequence[dg.AssetsDefinition],
    slices: SliceSettings | None = None,
) -> list[tuple[RunSummary, float]]:
    """One run per collection, in order; an exception in one is recorded and the next one still runs.

    With more than one slice allowed, a collection's slice runs (`runs.copy_slices`) come before its chain's run;
    the first failed one is the collection's summary.
    """
    limit = (config or {}).get("limit")
    summaries = []
    with ProgressDisplay(ctx.err) as display:
        for i, name in enumerate(names, 1):
            log.info(f"[{i}/{len(names)}] {verb}: {name}")
            display.start(name)
            watcher = runs.RunWatcher(
                lambda total: display.total(total if limit is None else min(total, limit)), display.completed
            )
            started = time.perf_counter()
            try:
                sliced = slices is not None and slices.slices > 1
                failed = None
                if sliced and slices is not None:
                    failed = runs.copy_slices(
                        ctx.definitions, instance, name, slices, config or {}, watcher, runs.CLI_TAGS
                    )
                # the slices restarted already; the chain's run only gathers them and verifies
                chain = {**config, "restart": False} if sliced and config else config
                result = failed or runs.materialize_collection(
                    ctx.definitions, instance, name, chain, assets, on_event=watcher, tags=runs.CLI_TAGS
                )
                summary = runs.summarize(name, result)
            except Exception as exc:
                log.exception(f"{name}: the run could not start")
                summary = runs.RunSummary(
                    collection=name, run_id="", success=False, error=f"{type(exc).__name__}: {exc}"
                )
            seconds = time.perf_counter() - started
            _log_outcome(summary, seconds)
            summaries.append((summary, seconds))
    return summaries


def _log_outcome(summary: RunSummary, seconds: float) -> None:
    objects = "" if summary.objects is None else f", {summary.objects} objects"
    took = f"{objects} in {seconds:.1f} s (run {summary.run_id})"
    if summary.ok:
        verified = "" if summary.verification is None else ", verification PASS"
        log.info(f"✓ {summary.collection}: done{verified}{took}")
    else:
        log.error(f"✗ {summary.collection}: {summary.outcome}{took}")


def verdict(summary: RunSummary) -> str:
    if summary.verification is None:
        return "—"
    return "PASS" if summary.verification else "FAIL"


def _print_run_table(ctx: Context, summaries: list[tuple[RunSummary, float]]) -> None:
    table = new_table(
        "Collection", "Objects", "Rejected", "Seconds", "Verification", "Result", title="Summary"
    )
    for summary, seconds in summaries:
        table.add_row(
            summary.collection,
            "" if summary.objects is None else f"{summary.objects:,}",
            "" if summary.rejected is None else f"{summary.rejected:,}",
            f"{seconds:.1f}",
            verdict(summary),
            summary.outcome,
        )
    ctx.out.print(table)
