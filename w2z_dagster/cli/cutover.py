"""`w2z cutover`: the final sync, full verification, and the cut-over report, per collection.

One Dagster run of the whole chain per collection (the same run the UI's `cutover_job` makes), then
the report from what that run recorded, written as JSON and Markdown to `--report-dir`
(W2Z_CUTOVER_DIR). The report is written whatever the verdict: a failed check must be on the ticket.
Exit 0 only when every collection's run succeeded and every blocking check passed.
"""

from __future__ import annotations

import logging
from pathlib import Path

from w2z_dagster.cli import runs
from w2z_dagster.cli.context import Context, check_target, new_table, open_instance
from w2z_dagster.cli.logs import LOGGER
from w2z_dagster.cli.migrate import run_each
from w2z_dagster.core.cutover import write_report
from w2z_dagster.lib.cutover import build_report

log = logging.getLogger(LOGGER)


def command(ctx: Context) -> int:
    with ctx.source() as source:
        names = ctx.select(source)
    if not names:
        return 0
    check_target(ctx)
    folder = Path(ctx.args.report_dir or ctx.settings.cutover_dir)
    config = {"batch_size": ctx.batch_size}
    table = new_table("Collection", "Verdict", "Failures", "Report", "Run", title="Cut-over")
    go = True
    with open_instance() as instance:
        runs.register_partitions(instance, names)
        summaries = run_each(ctx, instance, names, "Cutting over collection", config, runs.ASSETS)
        for summary, _ in summaries:
            report = build_report(
                instance, summary.run_id, summary.collection, summary.success, summary.error
            )
            json_path, md_path = write_report(report, folder)
            go = go and report.go
            verdict = "GO" if report.go else "NO GO"
            log.info(f"{summary.collection}: {verdict}; report {json_path} and {md_path}")
            table.add_row(
                summary.collection, verdict, "; ".join(report.failures), str(md_path), summary.run_id
            )
    ctx.out.print(table)
    return 0 if go else 1
