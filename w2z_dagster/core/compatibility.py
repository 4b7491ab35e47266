"""Whether an existing Milvus field can take what the plan writes into it.

One rule serves two questions: may `zilliz_collection` reuse a target (and the dry run predict it), and
does verification find the target as planned. Larger VARCHAR/ARRAY sizes and extra nullability in the
target are compatible (every planned value fits); a size the target does not report (None) is not held
against it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from enum import StrEnum
from typing import Any, NamedTuple

from w2z_dagster.core.plan import FunctionPlan, MigrationPlan, MilvusField

EXACT = (
    "data_type",
    "element_type",
    "dim",
    "is_primary",
    "is_partition_key",
    "enable_analyzer",
    "analyzer_params",
)
AT_LEAST = ("max_length", "max_capacity")


class Gap(StrEnum):
    MISSING = "missing"
    DIFFERS = "differs"
    SMALLER = "smaller"
    NOT_NULLABLE = "not nullable"


class FieldDifference(NamedTuple):
    gap: Gap
    aspect: str
    planned: Any
    actual: Any


def field_differences(planned: MilvusField, actual: MilvusField | None) -> Iterator[FieldDifference]:
    """What keeps `actual` from holding every value the plan writes into `planned`."""
    if actual is None:
        yield FieldDifference(Gap.MISSING, "field", planned.type_text, None)
        return
    for aspect in EXACT:
        want, have = getattr(planned, aspect), getattr(actual, aspect)
        if want != have:
            yield FieldDifference(Gap.DIFFERS, aspect, want, have)
    for aspect in AT_LEAST:
        want, have = getattr(planned, aspect), getattr(actual, aspect)
        if want is not None and have is not None and have < want:
            yield FieldDifference(Gap.SMALLER, aspect, want, have)
    if planned.nullable and not actual.nullable:
        yield FieldDifference(Gap.NOT_NULLABLE, "nullable", True, False)


def _sentence(field: str, d: FieldDifference) -> str:
    if d.gap is Gap.MISSING:
        return f"field '{field}' ({d.planned}) is missing from the target"
    if d.gap is Gap.NOT_NULLABLE:
        return f"field '{field}' is not nullable in the target, planned nullable"
    have, want = (d.actual, d.planned) if d.gap is Gap.SMALLER else (repr(d.actual), repr(d.planned))
    return f"field '{field}': {d.aspect} is {have} in the target, planned {want}"


def missing_functions(plan: MigrationPlan, described: Sequence[FunctionPlan]) -> list[FunctionPlan]:
    """Planned BM25 functions the target lacks (by input and output field: their names are ours)."""
    have = {(f.input_field, f.output_field) for f in described}
    return [f for f in plan.functions if (f.input_field, f.output_field) not in have]


def plan_matches(
    plan: MigrationPlan, described: Sequence[MilvusField], functions: Sequence[FunctionPlan] = ()
) -> list[str]:
    """Why an existing target cannot take this plan's rows (or fill its keyword search); empty when it can."""
    target = {f.name: f for f in described}
    problems = [
        _sentence(planned.name, d)
        for planned in plan.fields
        for d in field_differences(planned, target.get(planned.name))
    ]
    planned_names = {f.name for f in plan.fields}
    problems += [
        f"the target has field '{n}' that the plan does not" for n in target if n not in planned_names
    ]
    problems += [
        f"the target has no BM25 function from '{f.input_field}' into '{f.output_field}'"
        for f in missing_functions(plan, functions)
    ]
    return problems
