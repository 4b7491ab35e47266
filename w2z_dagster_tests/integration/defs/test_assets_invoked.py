"""Each asset called directly with its inputs and resources, as a unit, outside any run."""

from __future__ import annotations

from typing import Any

import dagster as dg
import weaviate
from pymilvus import MilvusClient

from w2z_dagster.core.plan import MigrationPlan
from w2z_dagster.core.schema import CollectionSchema
from w2z_dagster.defs.assets import (
    MigrationConfig,
    VerificationConfig,
    migrated_batches,
    source_schema,
    verification_report,
    zilliz_collection,
)
from w2z_dagster.lib.metadata import CheckpointMetadataSet, CopyMetadataSet, ReportMetadataSet
from w2z_dagster_tests.support.seeding import seed_articles


def _context(instance: dg.DagsterInstance) -> dg.AssetExecutionContext:
    return dg.build_asset_context(partition_key="Articles", instance=instance)


def test_the_chain_runs_by_direct_invocation_with_each_assets_inputs(
    weaviate_client: weaviate.WeaviateClient,
    instance: dg.DagsterInstance,
    resources: dict[str, Any],
    milvus_uri: str,
) -> None:
    seed_articles(weaviate_client, "Articles", n=12)
    weaviate, zilliz = resources["weaviate"], resources["zilliz"]

    schema = source_schema(_context(instance), weaviate=weaviate).value
    plan = zilliz_collection(_context(instance), schema=schema, zilliz=zilliz).value
    batches = list(
        migrated_batches(
            _context(instance),
            config=MigrationConfig(batch_size=5),
            plan=plan,
            weaviate=weaviate,
            zilliz=zilliz,
        )
    )
    report = verification_report(
        _context(instance),
        config=VerificationConfig(),
        schema=schema,
        plan=plan,
        weaviate=weaviate,
        zilliz=zilliz,
    )

    assert isinstance(schema, CollectionSchema) and schema.object_count == 12
    assert isinstance(plan, MigrationPlan) and plan.source_schema == schema
    assert (
        MilvusClient(milvus_uri).query("Articles", filter="", output_fields=["count(*)"])[0]["count(*)"] == 12
    )
    observations = [b for b in batches if isinstance(b, dg.AssetObservation)]
    assert [CheckpointMetadataSet.extract(o.metadata).objects for o in observations] == [5, 12]
    materialized, lag = batches[-2:]
    assert isinstance(materialized, dg.MaterializeResult)
    assert CopyMetadataSet.extract(materialized.metadata).objects == 12
    assert isinstance(lag, dg.AssetCheckResult) and (lag.check_name, lag.passed) == ("lag", True)
    assert ReportMetadataSet.extract(report.metadata).passed is True
    assert {c.check_name: c.passed for c in report.check_results}["counts"] is True


def test_an_empty_source_plans_no_target_and_verifies_as_empty(
    weaviate_client: weaviate.WeaviateClient, instance: dg.DagsterInstance, resources: dict[str, Any]
) -> None:
    weaviate_client.collections.create("Articles")
    weaviate, zilliz = resources["weaviate"], resources["zilliz"]

    schema = source_schema(_context(instance), weaviate=weaviate).value
    plan = zilliz_collection(_context(instance), schema=schema, zilliz=zilliz).value
    report = verification_report(
        _context(instance),
        config=VerificationConfig(),
        schema=schema,
        plan=plan,
        weaviate=weaviate,
        zilliz=zilliz,
    )

    assert plan is None
    assert ReportMetadataSet.extract(report.metadata).passed is True
