"""Failed-partition recovery through Dagster's GraphQL API, with the mutations the UI sends.

The source fails permanently while a backfill runs, so neither step retries nor run retries can hide it:
the partition must show as failed. Once the source is healthy, "Re-execute from failure" on the backfill
must turn it green and leave Milvus holding exactly what Weaviate holds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import grpc
import pytest
from pymilvus import MilvusClient

if TYPE_CHECKING:
    from w2z_dagster_tests.support.stack import Stack

pytestmark = pytest.mark.dagster_dev


COLLECTION = "DemoLegacy"
ASSETS = ["source_schema", "zilliz_collection", "migrated_batches", "verification_report"]
BACKFILL_SECONDS = 240
TERMINAL = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}

LAUNCH_BACKFILL = """
mutation Launch($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
  }
}
"""

REEXECUTE_BACKFILL = """
mutation Reexecute($params: ReexecutionParams!) {
  reexecutePartitionBackfill(reexecutionParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
  }
}
"""

BACKFILL_STATUS = """
query Backfill($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill { status }
    ... on PythonError { message }
  }
}
"""

PARTITION_STATUSES = """
query Statuses($path: [String!]!) {
  assetNodeOrError(assetKey: {path: $path}) {
    ... on AssetNode {
      assetPartitionStatuses {
        ... on DefaultPartitionStatuses {
          materializedPartitions
          failedPartitions
          materializingPartitions
        }
      }
    }
  }
}
"""

CHECK_STATUSES = """
{
  assetNodeOrError(assetKey: {path: ["verification_report"]}) {
    ... on AssetNode {
      assetChecksOrError {
        ... on AssetChecks {
          checks {
            name
            partitionStatuses {
              ... on AssetCheckDefaultPartitionStatuses { succeededPartitions failedPartitions }
            }
          }
        }
      }
    }
  }
}
"""

MATERIALIZATION_TEXT = """
query Latest($path: [String!]!, $partition: String!) {
  assetOrError(assetKey: {path: $path}) {
    ... on Asset {
      assetMaterializations(partitions: [$partition], limit: 1) {
        metadataEntries { label ... on TextMetadataEntry { text } }
      }
    }
  }
}
"""


def _launched(payload: dict[str, Any], field: str) -> str:
    result = payload[field]
    assert result["__typename"] == "LaunchBackfillSuccess", result
    return result["backfillId"]


def _finished(stack: Stack, backfill_id: str) -> str:
    def status() -> str | None:
        backfill = stack.graphql(BACKFILL_STATUS, {"id": backfill_id})["partitionBackfillOrError"]
        assert backfill["__typename"] == "PartitionBackfill", backfill
        return backfill["status"] if backfill["status"] in TERMINAL else None

    return stack.poll(f"backfill {backfill_id} to finish", status, BACKFILL_SECONDS)


def _statuses(stack: Stack) -> dict[str, str]:
    """What the partitions view shows for the collection, per asset."""
    shown = {}
    for asset in ASSETS:
        node = stack.graphql(PARTITION_STATUSES, {"path": [asset]})["assetNodeOrError"]
        statuses = node["assetPartitionStatuses"]
        shown[asset] = next(
            (
                state
                for state in ("failed", "materializing", "materialized")
                if COLLECTION in statuses[f"{state}Partitions"]
            ),
            "missing",
        )
    return shown


def _checks_passed(stack: Stack) -> dict[str, bool]:
    """The verification checks as the catalog's Checks tab lists them, per collection partition."""
    node = stack.graphql(CHECK_STATUSES)["assetNodeOrError"]
    return {
        check["name"]: COLLECTION in check["partitionStatuses"]["succeededPartitions"]
        for check in node["assetChecksOrError"]["checks"]
    }


def _target(stack: Stack) -> str:
    asset = stack.graphql(MATERIALIZATION_TEXT, {"path": ["zilliz_collection"], "partition": COLLECTION})
    entries = asset["assetOrError"]["assetMaterializations"][0]["metadataEntries"]
    return next(e["text"] for e in entries if e["label"] == "w2z/target")


def test_discovery_sensor_listed_every_collection(dagster_stack: Stack) -> None:
    with dagster_stack.weaviate.connect() as client:
        collections = sorted(client.collections.list_all())

    assert sorted(dagster_stack.partition_keys()) == collections
    assert COLLECTION in collections


def test_a_failed_partition_is_shown_failed_and_reexecution_from_failure_completes_it(
    dagster_stack: Stack,
) -> None:
    stack = dagster_stack
    stack.weaviate.faults.fail_next("Search", 1000, grpc.StatusCode.UNKNOWN)
    params = {"partitionNames": [COLLECTION], "assetSelection": [{"path": [a]} for a in ASSETS]}
    try:
        failed_id = _launched(stack.graphql(LAUNCH_BACKFILL, {"params": params}), "launchPartitionBackfill")
        assert _finished(stack, failed_id) == "COMPLETED_FAILED"
    finally:
        stack.weaviate.faults.clear()

    assert _statuses(stack) == dict.fromkeys(ASSETS, "failed")

    retry = {"parentRunId": failed_id, "strategy": "FROM_FAILURE"}
    retry_id = _launched(stack.graphql(REEXECUTE_BACKFILL, {"params": retry}), "reexecutePartitionBackfill")

    assert _finished(stack, retry_id) == "COMPLETED_SUCCESS"
    assert _statuses(stack) == dict.fromkeys(ASSETS, "materialized")
    checks = _checks_passed(stack)
    assert checks and all(checks.values()), checks
    with stack.weaviate.connect() as client:
        source_count = client.collections.get(COLLECTION).aggregate.over_all(total_count=True).total_count
    milvus = MilvusClient(uri=stack.milvus_uri)
    try:
        rows = milvus.query(_target(stack), filter="", output_fields=["count(*)"])
    finally:
        milvus.close()
    assert source_count == 500
    assert rows[0]["count(*)"] == source_count
