"""The nightly sync: every known collection is brought back in step with Weaviate once a day."""

import dagster as dg

from w2z_dagster.core.selection import is_selected
from w2z_dagster.defs.jobs import migrate_collection_job
from w2z_dagster.defs.partitions import collections_partitions


def nightly_sync_schedule(cron: str, followed: str | None = None) -> dg.ScheduleDefinition:
    """The schedule at `cron` (W2Z_SYNC_CRON, UTC), built with the rest of the definitions.

    `followed` (W2Z_FOLLOW_COLLECTIONS, when W2Z_FOLLOW_INTERVAL is set) names the collections the
    follow sensor syncs instead; the night leaves them alone.
    """

    @dg.schedule(
        name="nightly_sync_schedule",
        job=migrate_collection_job,
        cron_schedule=cron,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )
    def schedule(context: dg.ScheduleEvaluationContext) -> dg.SkipReason | list[dg.RunRequest]:
        """One run per collection so a failing collection fails alone and shows red in the partitions view.

        The run key carries the scheduled day: a tick evaluated twice (daemon restart) launches nothing
        new, while the next night launches again.
        """
        collections = collections_partitions.get_partition_keys(dynamic_partitions_store=context.instance)
        if not collections:
            return dg.SkipReason("no collections discovered yet")
        if followed is not None:
            collections = [c for c in collections if not is_selected(c, followed)]
            if not collections:
                return dg.SkipReason(f"every collection is followed (W2Z_FOLLOW_COLLECTIONS={followed!r})")
        day = context.scheduled_execution_time.strftime("%Y-%m-%d")
        return [dg.RunRequest(run_key=f"{day}:{c}", partition_key=c) for c in collections]

    return schedule
