"""What a migration would do, worked out without writing anything: the dry run's plan and size estimate.

Everything here is pure: the caller reads the source schema and describes the target (both read-only),
and this module decides what would be created, reused or refused, and how large the copy would be.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from pydantic import BaseModel

from w2z_dagster.core.compatibility import plan_matches
from w2z_dagster.core.plan import FieldRole, FunctionPlan, MigrationPlan, MilvusField
from w2z_dagster.core.schema import CollectionSchema

# Declared VARCHAR and JSON sizes are limits, not sizes (text fields are declared at 65,535 bytes), so
# variable-length values are estimated at a typical size, never above their declared limit.
VARCHAR_ESTIMATE = 256
JSON_ESTIMATE = 256
ARRAY_ELEMENTS_ESTIMATE = 8
MULTI_VECTOR_TOKENS_ESTIMATE = 32
FLOAT32_BYTES = 4
SCALAR_BYTES = {"BOOL": 1, "INT8": 1, "INT16": 2, "INT32": 4, "INT64": 8, "FLOAT": 4, "DOUBLE": 8}


class TargetState(StrEnum):
    CREATE = "create"
    REUSE = "reuse"
    CONFLICT = "conflict"


class TenantPreview(BaseModel):
    name: str
    status: str
    objects: int | None
    """None for a tenant that is not readable now (not ACTIVE): it would be skipped."""


class CollectionPreview(BaseModel):
    collection: str
    target: str
    profile: str
    source_objects: int
    objects: int
    tenants: list[TenantPreview]
    mapping: list[dict[str, str]]
    indexes: list[str]
    notes: list[str]
    target_state: TargetState
    differences: list[str]
    row_bytes: int
    estimated_bytes: int

    @property
    def ok(self) -> bool:
        return self.target_state is not TargetState.CONFLICT


def _varchar(max_length: int | None) -> int:
    return min(max_length or VARCHAR_ESTIMATE, VARCHAR_ESTIMATE)


def field_bytes(field: MilvusField, plan: MigrationPlan) -> int:
    """Estimated stored bytes of one value: exact for vectors and fixed-width scalars."""
    if field.data_type == "FLOAT_VECTOR":
        return (field.dim or 0) * FLOAT32_BYTES
    if field.role is FieldRole.MULTI_VECTOR:
        dim = plan.dimensions.get(field.source or "", 0)
        return dim * FLOAT32_BYTES * MULTI_VECTOR_TOKENS_ESTIMATE or JSON_ESTIMATE
    if field.data_type in SCALAR_BYTES:
        return SCALAR_BYTES[field.data_type]
    if field.data_type == "VARCHAR":
        return _varchar(field.max_length)
    if field.data_type == "ARRAY":
        element = SCALAR_BYTES.get(field.element_type or "") or _varchar(field.max_length)
        return element * ARRAY_ELEMENTS_ESTIMATE
    return JSON_ESTIMATE


def row_bytes(plan: MigrationPlan) -> int:
    return sum(field_bytes(f, plan) for f in plan.fields)


def _tenants(schema: CollectionSchema) -> list[TenantPreview]:
    if not schema.multi_tenant:
        return [TenantPreview(name="", status="", objects=schema.object_count)]
    return [
        TenantPreview(name=t.name, status=t.status, objects=schema.counts_by_tenant.get(t.name))
        for t in schema.tenants
    ]


def preview(
    schema: CollectionSchema,
    plan: MigrationPlan,
    target_fields: Sequence[MilvusField] | None,
    limit: int | None = None,
    target_functions: Sequence[FunctionPlan] = (),
) -> CollectionPreview:
    """The plan for one collection; `target_fields` (and its BM25 functions) is the existing target's
    schema, None when absent."""
    if target_fields is None:
        state, differences = TargetState.CREATE, []
    else:
        differences = plan_matches(plan, list(target_fields), target_functions)
        state = TargetState.CONFLICT if differences else TargetState.REUSE
    objects = schema.object_count if limit is None else min(limit, schema.object_count)
    per_row = row_bytes(plan)
    return CollectionPreview(
        collection=schema.name,
        target=plan.target,
        profile=plan.profile.value,
        source_objects=schema.object_count,
        objects=objects,
        tenants=_tenants(schema),
        mapping=mapping_rows(plan),
        indexes=[f"{i.field}: {i.text}" for i in plan.indexes],
        notes=list(plan.notes),
        target_state=state,
        differences=differences,
        row_bytes=per_row,
        estimated_bytes=per_row * objects,
    )


def format_bytes(size: float) -> str:
    units = ("B", "KB", "MB", "GB", "TB")
    step = 0
    while size >= 1024 and step < len(units) - 1:
        size /= 1024
        step += 1
    return f"{size:.0f} B" if step == 0 else f"{size:.1f} {units[step]}"


def mapping_rows(plan: MigrationPlan) -> list[dict[str, str]]:
    """The plan as a reader checks it: one row per Milvus field, then each property left out, with why."""
    rows = []
    for f in plan.fields:
        flags = [
            flag
            for flag, on in (
                ("primary key", f.is_primary),
                ("partition key", f.is_partition_key),
                ("nullable", f.nullable),
            )
            if on
        ]
        index = plan.index_for(f.name)
        if index is not None:
            flags.append(f"index {index.text}")
        if f.note:
            flags.append(f.note)
        rows.append(
            {
                "weaviate_property": f.source or "",
                "weaviate_type": f.source_type,
                "milvus_field": f.name,
                "milvus_type": f.type_text,
                "notes": "; ".join(flags),
            }
        )
    for s in plan.skipped:
        rows.append(
            {
                "weaviate_property": s.source,
                "weaviate_type": s.source_type,
                "milvus_field": "",
                "milvus_type": "",
                "notes": s.reason,
            }
        )
    return rows
