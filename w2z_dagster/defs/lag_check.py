"""The `lag` check of `migrated_batches`: how far the copy trails Weaviate, against W2Z_MAX_LAG_SECONDS.

Lag is a property of the copy, not of the verification, so the check belongs to `migrated_batches` and
is evaluated by it at the end of every run from the watermark the run records. It is not blocking: a
run that catches up late still leaves the target better than it found it; the failed check is what
the catalog (and an alert on it) shows.
"""

from __future__ import annotations

import warnings

import dagster as dg

from w2z_dagster.core.watermark import Lag
from w2z_dagster.defs.partitions import collections_partitions

LAG = "lag"
COPY_ASSET = dg.AssetKey("migrated_batches")

with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.PreviewWarning)
    LAG_CHECK = dg.AssetCheckSpec(
        LAG,
        asset=COPY_ASSET,
        description="Now minus the watermark the last run recorded is at most W2Z_MAX_LAG_SECONDS.",
        partitions_def=collections_partitions,
    )


def lag_result(lag: Lag, max_lag_seconds: float) -> dg.AssetCheckResult:
    passed = lag.seconds <= max_lag_seconds
    return dg.AssetCheckResult(
        check_name=LAG,
        asset_key=COPY_ASSET,
        passed=passed,
        description=f"lag {lag.seconds:.3f} s {'<=' if passed else '>'} {max_lag_seconds:g} s "
        "(W2Z_MAX_LAG_SECONDS)",
        metadata={"lag_seconds": lag.seconds, "max_lag_seconds": float(max_lag_seconds)},
    )
