"""`w2z migrate --mode download`: Parquet files for Milvus bulk import, without touching the target."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from w2z_dagster.cli.context import Context, new_table
from w2z_dagster.cli.logs import LOGGER, ProgressDisplay
from w2z_dagster.core.export import MB, ExportError, ExportProgress, export_collection
from w2z_dagster.core.plan import PlanError
from w2z_dagster.core.source import SourceError

log = logging.getLogger(LOGGER)


def command(ctx: Context) -> int:
    args = ctx.args
    output = args.output_dir.resolve()
    rows: list[tuple[str, str, str, str, str, str]] = []
    ok = True
    with ctx.source() as source, ProgressDisplay(ctx.err) as display:
        names = ctx.select(source)
        for i, name in enumerate(names, 1):
            log.info(f"[{i}/{len(names)}] Starting download for collection: {name}")
            display.start(name)
            started = time.perf_counter()
            try:
                schema = source.read_schema(name)
                for tenant in schema.tenants:
                    if not tenant.active:
                        log.warning(f"{name}: tenant '{tenant.name}' is {tenant.status}, not exported")
                total = schema.object_count if args.limit is None else min(args.limit, schema.object_count)
                display.total(total)
                result = export_collection(
                    source,
                    schema,
                    ctx.plan(schema),
                    output,
                    ctx.batch_size,
                    args.limit,
                    args.file_size_mb * MB,
                    _export_progress(display, total),
                )
            except (PlanError, SourceError, ExportError, OSError) as exc:
                ok = False
                log.error(f"✗ {name} failed: {exc}")
                rows.append((name, "", "", f"{time.perf_counter() - started:.1f}", "", f"failed: {exc}"))
                continue
            state = "ok" if not result.rejected else f"{result.rejected} rejected: see rejects/"
            ok = ok and not result.rejected
            log.info(
                f"✓ {name}: {result.rows} documents in {len(result.files)} file(s) under {result.directory}"
            )
            rows.append(
                (
                    name,
                    f"{result.rows:,}",
                    str(len(result.files)),
                    f"{result.seconds:.1f}",
                    result.directory,
                    state,
                )
            )
    table = new_table("Collection", "Rows", "Files", "Seconds", "Directory", "Result", title="Download")
    for row in rows:
        table.add_row(*row)
    ctx.out.print(table)
    return 0 if ok else 1


def _export_progress(display: ProgressDisplay, total: int) -> Callable[[ExportProgress], None]:
    def report(progress: ExportProgress) -> None:
        rejected = f", {progress.rejected} rejected so far" if progress.rejected else ""
        log.info(
            f"✓ Batch {progress.batches} exported: {progress.written} documents written{rejected}. "
            f"Total exported so far: {progress.read}/{total}"
        )
        display.completed(progress.read)

    return report
