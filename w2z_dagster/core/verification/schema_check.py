"""Schema: every Weaviate property and vector has its planned Milvus field, type, size and metric."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from w2z_dagster.core.compatibility import Gap, field_differences, missing_functions
from w2z_dagster.core.plan import FieldRole, FunctionPlan, IndexPlan, MigrationPlan, MilvusField
from w2z_dagster.core.schema import CollectionSchema, WeaviateType
from w2z_dagster.core.verification.report import SCHEMA, CheckResult

_DETAILS = {
    Gap.MISSING: "missing",
    Gap.DIFFERS: "{aspect} differs",
    Gap.SMALLER: "{aspect} smaller than planned",
    Gap.NOT_NULLABLE: "cannot hold Weaviate's missing values",
}


def _field_problems(planned: MilvusField, actual: MilvusField | None) -> Iterator[dict[str, Any]]:
    for d in field_differences(planned, actual):
        detail = _DETAILS[d.gap].format(aspect=d.aspect)
        if d.gap is Gap.MISSING:
            yield {"field": planned.name, "weaviate": d.planned, "milvus": "absent", "detail": detail}
        else:
            yield {
                "field": planned.name,
                "weaviate": f"{d.aspect} {d.planned}",
                "milvus": f"{d.aspect} {d.actual}",
                "detail": detail,
            }


def _unmapped(schema: CollectionSchema, plan: MigrationPlan) -> Iterator[dict[str, Any]]:
    """Weaviate properties and vectors the plan lost: a plan recorded before the schema changed."""
    skipped = {s.source for s in plan.skipped}
    for prop in schema.properties:
        role = FieldRole.REFERENCE if prop.data_type is WeaviateType.REFERENCE else FieldRole.PROPERTY
        if prop.name not in skipped and plan.field_for(role, prop.name) is None:
            yield {"field": "", "weaviate": f"property {prop.name}", "milvus": "", "detail": "not mapped"}
    for vector in schema.vectors:
        field = plan.field_for(FieldRole.VECTOR, vector.name) or plan.field_for(
            FieldRole.MULTI_VECTOR, vector.name
        )
        if field is None:
            yield {"field": "", "weaviate": f"vector {vector.name}", "milvus": "", "detail": "not mapped"}
        elif vector.dimension is not None and field.dim is not None and field.dim != vector.dimension:
            yield {
                "field": field.name,
                "weaviate": f"dim {vector.dimension}",
                "milvus": f"planned dim {field.dim}",
                "detail": "plan disagrees with Weaviate",
            }


def _index_problems(planned: IndexPlan, actual: IndexPlan | None) -> Iterator[dict[str, Any]]:
    """Metric, type (unless the plan left it to AUTOINDEX) and the BM25 parameters the target reports."""
    if actual is None:
        yield {
            "field": planned.field,
            "weaviate": planned.text,
            "milvus": "no index",
            "detail": "index missing",
        }
        return
    if actual.metric != planned.metric:
        yield {
            "field": planned.field,
            "weaviate": f"metric {planned.metric}",
            "milvus": f"metric {actual.metric or 'none'}",
            "detail": "metric differs",
        }
    if planned.index_type != "AUTOINDEX" and actual.index_type != planned.index_type:
        yield {
            "field": planned.field,
            "weaviate": f"index {planned.index_type}",
            "milvus": f"index {actual.index_type}",
            "detail": "index type differs",
        }
    for key, value in actual.params.items():
        want = planned.params.get(key)
        if key.startswith("bm25_") and want is not None and float(value) != float(want):
            yield {
                "field": planned.field,
                "weaviate": f"{key} {want}",
                "milvus": f"{key} {value}",
                "detail": f"{key} differs",
            }


def check_schema(
    schema: CollectionSchema,
    plan: MigrationPlan,
    target: Sequence[MilvusField] | None,
    indexes: Sequence[IndexPlan] | None = None,
    functions: Sequence[FunctionPlan] = (),
) -> CheckResult:
    """Every Weaviate property and vector has its planned Milvus field, with the planned type and size,
    analyzer, index and BM25 function.

    `indexes` are the target's indexes; when the sink cannot describe them they are reported as not
    checked rather than assumed right.
    """
    problems = list(_unmapped(schema, plan))
    if target is None:
        problems.append({"field": "", "milvus": plan.target, "detail": "target collection does not exist"})
    else:
        actual = {f.name: f for f in target}
        for planned in plan.fields:
            problems.extend(_field_problems(planned, actual.get(planned.name)))
        if indexes is not None:
            described = {i.field: i for i in indexes}
            for planned_index in plan.indexes:
                problems.extend(_index_problems(planned_index, described.get(planned_index.field)))
        problems.extend(
            {
                "field": f.output_field,
                "weaviate": f"keyword search on {', '.join(f.sources)}",
                "milvus": "no BM25 function",
                "detail": f"BM25 function from '{f.input_field}' missing",
            }
            for f in missing_functions(plan, functions)
        )
    passed = not problems
    metric = "checked" if indexes is not None else "not checked"
    return CheckResult(
        name=SCHEMA,
        passed=passed,
        summary=f"{len(plan.fields)} field(s) checked, {len(problems)} problem(s); indexes {metric}",
        numbers={
            "weaviate_properties": len(schema.properties),
            "weaviate_vectors": len(schema.vectors),
            "fields_checked": len(plan.fields),
            "problems": len(problems),
            "metric_checked": indexes is not None,
            "indexes_checked": len(plan.indexes) if indexes is not None else 0,
            "functions_checked": len(plan.functions),
        },
        mismatches=problems,
    )
