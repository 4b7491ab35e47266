"""The metadata w2z records in the catalog, as namespaced sets (`w2z/<field>`), one per kind of record.

Readers (the CLI's run summary, the tests, anything built on the catalog) extract a set instead of
matching raw key strings, as `dagster_dbt`'s `DbtMetadataSet` and `dagster_airbyte`'s
`AirbyteMetadataSet` do; a field renamed here is renamed for every reader at once.
"""

from __future__ import annotations

import dagster as dg

# Dagster's own base for integration metadata sets (dagster_dbt, dagster_airbyte), not re-exported from
# `dagster` in 1.13; the dagster pin in pyproject.toml keeps this path.
from dagster._core.definitions.metadata import NamespacedMetadataSet


class W2zMetadataSet(NamespacedMetadataSet):
    @classmethod
    def namespace(cls) -> str:
        return "w2z"


class ValueMetadataSet(W2zMetadataSet):
    """An asset's value as the next asset loads it (`CatalogIOManager`); null: nothing to create."""

    value: dg.JsonMetadataValue | dg.NullMetadataValue | None = None


class SchemaMetadataSet(W2zMetadataSet):
    """`source_schema`: the collection as Weaviate reports it."""

    object_count: int | None = None
    multi_tenant: bool | None = None
    properties: dg.TableMetadataValue | None = None
    vectors: dg.TableMetadataValue | None = None
    tenants: dg.TableMetadataValue | None = None


class PlanMetadataSet(W2zMetadataSet):
    """`zilliz_collection`: the target and how every property maps onto it."""

    created: bool | None = None
    target: str | None = None
    profile: str | None = None
    consistency_level: str | None = None
    mapping: dg.TableMetadataValue | None = None
    vectorizers: dg.TableMetadataValue | None = None
    notes: dg.MarkdownMetadataValue | None = None


class CheckpointMetadataSet(W2zMetadataSet):
    """An observation of `migrated_batches`: where the copy stands; the latest is where a run resumes."""

    checkpoint: dg.JsonMetadataValue | None = None
    tenant: str | None = None
    after_uuid: str | None = None
    objects: int | None = None
    batches: int | None = None
    status: str | None = None


class CopyMetadataSet(W2zMetadataSet):
    """`migrated_batches`: what a full copy, a resume, a sync or an empty source did."""

    mode: str | None = None
    objects: int | None = None
    batches: int | None = None
    rejected: int | None = None
    added: int | None = None
    updated: int | None = None
    deleted: int | None = None
    unchanged: int | None = None
    repaired: int | None = None
    seconds: float | None = None
    objects_per_second: float | None = None
    dead_letter_folder: dg.PathMetadataValue | None = None
    first_rejects: dg.TableMetadataValue | None = None
    inactive_tenants_skipped: str | None = None
    changes_found_by: str | None = None
    why_full_merge: str | None = None
    objects_read: int | None = None
    tenants_merged: int | None = None
    watermark: str | None = None
    watermark_ms: int | None = None
    lag_seconds: float | None = None
    behind_seconds: float | None = None


class ReportMetadataSet(W2zMetadataSet):
    """`verification_report`: the verdict, one row per check, and what differed."""

    passed: bool | None = None
    checks_failed: int | None = None
    summary: dg.MarkdownMetadataValue | None = None
    mismatches: dg.TableMetadataValue | None = None
    numbers: dg.JsonMetadataValue | None = None


class SliceMetadataSet(W2zMetadataSet):
    """`slice_plan` and `migrated_slices`: how a collection is cut, and which cut a slice's record is of."""

    cut: str | None = None
    slice: int | None = None
    method: str | None = None
    slices: dg.TableMetadataValue | None = None
    max_write_mb_per_s: float | None = None
