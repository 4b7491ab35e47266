"""Slices in the UI, through Dagster's GraphQL API with the mutations the UI sends: the partitions view
of `migrated_slices` shows each slice red or green, re-executing the failed backfill reruns only the
failed slice, and once every slice is green `sliced_copy_sensor` gathers and verifies the collection."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import grpc
import pytest

from w2z_dagster_tests.system.test_ui_graphql import (
    LAUNCH_BACKFILL,
    REEXECUTE_BACKFILL,
    _finished,
    _launched,
)

if TYPE_CHECKING:
    from w2z_dagster_tests.support.stack import Stack

pytestmark = pytest.mark.dagster_dev

COLLECTION = "DemoProducts"
SLICES = [f"{COLLECTION}|{i}" for i in range(3)]
"""The plan's three slices: the five beyond them would only succeed with nothing to do, each a run."""
GATHER_SECONDS = 180

SLICE_STATUSES = """
{
  assetNodeOrError(assetKey: {path: ["migrated_slices"]}) {
    ... on AssetNode {
      assetPartitionStatuses {
        ... on MultiPartitionStatuses {
          primaryDimensionName
          ranges {
            primaryDimStartKey
            primaryDimEndKey
            secondaryDim { ... on DefaultPartitionStatuses { materializedPartitions failedPartitions } }
          }
        }
      }
    }
  }
}
"""

REPORT = """
query Report($partition: String!) {
  assetOrError(assetKey: {path: ["verification_report"]}) {
    ... on Asset {
      assetMaterializations(partitions: [$partition], limit: 1) {
        metadataEntries { label ... on BoolMetadataEntry { boolValue } }
      }
    }
  }
}
"""


def _slices(stack: Stack) -> dict[str, list[str]]:
    """The collection's slices as the partitions view colours them: materialized and failed."""
    keys = stack.partition_keys()
    statuses = stack.graphql(SLICE_STATUSES)["assetNodeOrError"]["assetPartitionStatuses"]
    assert statuses["primaryDimensionName"] == "collection"
    shown: dict[str, list[str]] = {"materialized": [], "failed": []}
    for found in statuses["ranges"]:
        first, last = keys.index(found["primaryDimStartKey"]), keys.index(found["primaryDimEndKey"])
        if first <= keys.index(COLLECTION) <= last:
            shown["materialized"] += found["secondaryDim"]["materializedPartitions"]
            shown["failed"] += found["secondaryDim"]["failedPartitions"]
    return {state: sorted(slices) for state, slices in shown.items()}


def _backfill(stack: Stack, params: dict[str, Any]) -> str:
    return _launched(stack.graphql(LAUNCH_BACKFILL, {"params": params}), "launchPartitionBackfill")


def _verified(stack: Stack) -> bool | None:
    asset = stack.graphql(REPORT, {"partition": COLLECTION})["assetOrError"]
    found = asset["assetMaterializations"]
    if not found:
        return None
    return next(e["boolValue"] for e in found[0]["metadataEntries"] if e["label"] == "w2z/passed")


def test_each_slice_shows_its_status_and_a_failed_one_reruns_alone(dagster_stack: Stack) -> None:
    stack = dagster_stack
    plan = {
        "partitionNames": [COLLECTION],
        "assetSelection": [{"path": [a]} for a in ("source_schema", "zilliz_collection", "slice_plan")],
        "runConfigData": {"ops": {"slice_plan": {"config": {"slices": 3, "min_slice_objects": 60}}}},
    }
    assert _finished(stack, _backfill(stack, plan)) == "COMPLETED_SUCCESS"

    stack.weaviate.faults.fail_next("Search", 1000, grpc.StatusCode.UNKNOWN)
    try:
        failed_id = _backfill(
            stack, {"partitionNames": [SLICES[1]], "assetSelection": [{"path": ["migrated_slices"]}]}
        )
        assert _finished(stack, failed_id) == "COMPLETED_FAILED"
    finally:
        stack.weaviate.faults.clear()
    others = [s for s in SLICES if s != SLICES[1]]
    rest = _backfill(stack, {"partitionNames": others, "assetSelection": [{"path": ["migrated_slices"]}]})
    assert _finished(stack, rest) == "COMPLETED_SUCCESS"

    assert _slices(stack) == {"materialized": sorted(s.split("|")[1] for s in others), "failed": ["1"]}

    retry = {"parentRunId": failed_id, "strategy": "FROM_FAILURE"}
    retry_id = _launched(stack.graphql(REEXECUTE_BACKFILL, {"params": retry}), "reexecutePartitionBackfill")
    assert _finished(stack, retry_id) == "COMPLETED_SUCCESS"

    assert _slices(stack) == {"materialized": ["0", "1", "2"], "failed": []}
    assert stack.poll("sliced_copy_sensor to gather and verify", lambda: _verified(stack), GATHER_SECONDS)
