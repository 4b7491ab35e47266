"""`w2z verify`: verification_report again for collections this DAGSTER_HOME migrated."""

from __future__ import annotations

import logging
import os

from w2z_dagster.cli import runs
from w2z_dagster.cli.context import Context, UsageError, check_target, new_table, open_instance
from w2z_dagster.cli.logs import LOGGER
from w2z_dagster.cli.migrate import run_each, verdict

log = logging.getLogger(LOGGER)


def command(ctx: Context) -> int:
    if not os.environ.get("DAGSTER_HOME"):
        raise UsageError(
            "w2z verify reads what `w2z migrate` recorded: set DAGSTER_HOME to the instance the migration used"
        )
    with ctx.source() as source:
        names = ctx.select(source)
    check_target(ctx)
    with open_instance() as instance:
        if ctx.args.collections:
            problems = [m for m in (runs.missing_record_message(instance, n) for n in names) if m]
            if problems:
                raise UsageError("; ".join(problems))
        else:
            names = [n for n in names if runs.missing_record_message(instance, n) is None]
            if not names:
                log.warning("No migrated collection to verify with this DAGSTER_HOME")
        summaries = run_each(ctx, instance, names, "Verifying collection", None, [runs.verification_report])
    table = new_table("Collection", "Verification", "Result", "Run", title="Verification")
    for summary, _ in summaries:
        table.add_row(summary.collection, verdict(summary), summary.outcome, summary.run_id)
    ctx.out.print(table)
    return 0 if all(s.ok for s, _ in summaries) else 1
