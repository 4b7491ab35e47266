"""`cutover_report`: the cut-over as a job in the UI, the same report `w2z cutover` writes.

It runs after `verification_report` in `cutover_job` (the whole chain: a final sync, then every check)
and builds the report from what its own run recorded. A failed blocking check stops the run before
this asset, so in the UI the failed check is the verdict; `w2z cutover` writes the report then too.
"""

from pathlib import Path

import dagster as dg

from w2z_dagster.core.cutover import write_report
from w2z_dagster.defs.assets import OWNERS, verification_report
from w2z_dagster.defs.jobs import CUTOVER_REPORT
from w2z_dagster.defs.partitions import collections_partitions
from w2z_dagster.lib.cutover import build_report


def cutover_report_asset(report_dir: str) -> dg.AssetsDefinition:
    """Built with the definitions, so the folder is W2Z_CUTOVER_DIR as the code location read it."""

    @dg.asset(
        key=CUTOVER_REPORT,
        partitions_def=collections_partitions,
        deps=[verification_report],
        group_name="cutover",
        kinds={"json", "markdown"},
        owners=OWNERS,
    )
    def cutover_report(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        """The cut-over report of this run (JSON and Markdown in W2Z_CUTOVER_DIR): every check, the
        final sync's numbers, the plan, the rejects and the run id, for the change ticket."""
        report = build_report(context.instance, context.run_id, context.partition_key, succeeded=True)
        json_path, md_path = write_report(report, Path(report_dir))
        context.log.info(f"{'GO' if report.go else 'NO GO'}: report {json_path}, {md_path}")
        return dg.MaterializeResult(
            metadata={
                "w2z/go": report.go,
                "w2z/failures": "; ".join(report.failures),
                "w2z/report_json": dg.MetadataValue.path(str(json_path)),
                "w2z/report_markdown": dg.MetadataValue.path(str(md_path)),
            }
        )

    return cutover_report
