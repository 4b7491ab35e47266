"""How filtered parity draws its filters: deterministic, from the objects' own values, only indexed ones."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from w2z_dagster.core.mapping import build_plan
from w2z_dagster.core.profiles import TargetProfile
from w2z_dagster.core.schema import CollectionSchema, PropertySpec, SourceObject, VectorSpec, WeaviateType
from w2z_dagster.core.sink import ExpressionRefused
from w2z_dagster.core.verification.content import Query
from w2z_dagster.core.verification.filtered_parity import (
    DrawnFilter,
    candidates,
    check_filtered_parity,
    draw_filters,
)
from w2z_dagster.core.verification.report import VerifyOptions

T = WeaviateType
SCHEMA = CollectionSchema(
    name="Docs",
    properties=(
        PropertySpec(name="title", data_type=T.TEXT),
        PropertySpec(name="code", data_type=T.TEXT),
        PropertySpec(name="views", data_type=T.INT),
        PropertySpec(name="score", data_type=T.NUMBER),
        PropertySpec(name="when", data_type=T.DATE),
        PropertySpec(name="hidden", data_type=T.INT),
        PropertySpec(name="ranked", data_type=T.NUMBER),
    ),
    vectors=(VectorSpec(name="default", dimension=2),),
)
PLAN = build_plan(SCHEMA, TargetProfile.LITE)
CLASS_JSON: dict[str, Any] = {
    "properties": [
        {"name": "title", "dataType": ["text"], "tokenization": "word"},
        {"name": "code", "dataType": ["text"], "tokenization": "field"},
        {"name": "views", "dataType": ["int"]},
        {"name": "score", "dataType": ["number"]},
        {"name": "when", "dataType": ["date"]},
        {"name": "hidden", "dataType": ["int"], "indexFilterable": False},
        {"name": "ranked", "dataType": ["number"], "indexFilterable": False, "indexRangeFilters": True},
    ]
}


def _object(i: int, tenant: str | None = None, **props: Any) -> SourceObject:
    return SourceObject(uuid=f"00000000-0000-0000-0000-{i:012d}", tenant=tenant, properties=props)


def test_only_indexed_properties_are_candidates_and_word_text_is_set_apart() -> None:
    found = candidates(PLAN, CLASS_JSON)

    assert [f.name for f in found.equality] == ["code", "views", "when"]
    assert [f.name for f in found.ranges] == ["views", "score", "when", "ranked"]
    assert [f.name for f in found.word_text] == ["title"]


def test_a_field_the_target_lacks_is_left_to_the_schema_check() -> None:
    found = candidates(PLAN, CLASS_JSON, present={"id", "views", "default"})

    assert (found.equality, found.ranges, found.word_text) == (
        [PLAN.field("views")],
        [PLAN.field("views")],
        [],
    )


def test_filters_alternate_equality_and_range_rotating_through_the_properties() -> None:
    when = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    objects = [
        _object(0, code="a", views=10, score=0.5, when=when, title="Hello"),
        _object(1, views=20, score=1.5),
        _object(2, views=30),
        _object(3, score=-1.0),
    ]

    drawn = draw_filters(PLAN, CLASS_JSON, objects)

    assert drawn == [
        DrawnFilter(None, objects[0].uuid, "code", {"operator": "Equal", "path": ["code"], "valueText": "a"}),
        DrawnFilter(
            None,
            objects[1].uuid,
            "views",
            {
                "operator": "And",
                "operands": [
                    {"operator": "GreaterThanEqual", "path": ["views"], "valueInt": 20},
                    {"operator": "LessThanEqual", "path": ["views"], "valueInt": 30},
                ],
            },
        ),
        # Object 2 rotates to `views` for its equality (position 2 // 2 = 1).
        DrawnFilter(None, objects[2].uuid, "views", {"operator": "Equal", "path": ["views"], "valueInt": 30}),
        # Object 3 rotates to `score` (3 // 2 = 1); the next larger score among its peers is 0.5.
        DrawnFilter(
            None,
            objects[3].uuid,
            "score",
            {
                "operator": "And",
                "operands": [
                    {"operator": "GreaterThanEqual", "path": ["score"], "valueNumber": -1.0},
                    {"operator": "LessThanEqual", "path": ["score"], "valueNumber": 0.5},
                ],
            },
        ),
        DrawnFilter(
            None,
            objects[0].uuid,
            "id",
            {"operator": "ContainsAny", "path": ["id"], "valueTextArray": [o.uuid for o in objects]},
        ),
        DrawnFilter(
            None, objects[0].uuid, "title", {"operator": "Equal", "path": ["title"], "valueText": "Hello"}
        ),
    ]
    assert draw_filters(PLAN, CLASS_JSON, objects) == drawn


def test_each_tenant_gets_its_own_id_filter_and_ranges_stay_within_the_tenant() -> None:
    objects = [_object(0, "a", views=1), _object(1, "b", views=2), _object(2, "a", views=5)]

    drawn = draw_filters(PLAN, CLASS_JSON, objects)

    assert [(d.tenant, d.field, d.where["operator"]) for d in drawn] == [
        ("a", "views", "Equal"),
        ("b", "views", "And"),
        ("a", "views", "Equal"),
        ("a", "id", "ContainsAny"),
        ("b", "id", "ContainsAny"),
    ]
    assert drawn[1].where["operands"][1]["valueInt"] == 2


def test_a_date_is_drawn_in_its_rfc3339_form() -> None:
    when = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    objects = [_object(0, when=when)]

    (equality, _) = draw_filters(PLAN, CLASS_JSON, objects)

    assert equality.where == {
        "operator": "Equal",
        "path": ["when"],
        "valueDate": "2024-05-06T07:08:09.123456+00:00",
    }


class _Source:
    """Weaviate as the check sees it: every filter finds exactly its query object, nearest of all."""

    def __init__(self, objects: list[SourceObject]) -> None:
        self.objects = {o.uuid: o for o in objects}

    def class_json(self, name: str) -> dict[str, Any]:
        return CLASS_JSON

    def fetch(self, schema: CollectionSchema, tenant: str | None, uuids: list[str]) -> list[SourceObject]:
        return [self.objects[u] for u in uuids]

    def matching(self, name: str, tenant: str | None, where: dict[str, Any], limit: int) -> list[str]:
        return [o.uuid for o in self.objects.values() if _where_holds(where, o)]

    def near_vector(
        self, name: str, tenant: str | None, vector: Any, target: str, k: int, where: Any
    ) -> list:
        return [(u, 0.0) for u in self.matching(name, tenant, where, k)]


def _where_holds(where: dict[str, Any], obj: SourceObject) -> bool:
    if where["path"] == ["id"]:
        return obj.uuid in where["valueTextArray"]
    return obj.properties.get(where["path"][0]) == where["valueInt"]


class _Sink:
    """Milvus refusing every expression on `views`, answering the id filter like Weaviate."""

    def __init__(self, source: _Source) -> None:
        self.source = source

    def matching(self, plan: Any, expression: str, limit: int) -> list[str]:
        if expression.startswith("views"):
            raise ExpressionRefused(f"Milvus refused the expression {expression}: cannot parse")
        return list(self.source.objects)

    def search(self, plan: Any, field: str, vector: Any, k: int, tenant: Any, expression: str) -> list:
        return [{"id": u} for u in self.matching(plan, expression, k)]


def test_an_expression_milvus_refuses_fails_the_check_with_its_message_and_the_rest_is_compared() -> None:
    obj = _object(0, views=10)
    source = _Source([obj])
    queries = [Query(None, obj.uuid, {"default": [1.0, 0.0]}, obj.properties)]

    result = check_filtered_parity(
        source,
        _Sink(source),
        SCHEMA,
        PLAN,
        queries,
        PLAN.fields,
        VerifyOptions(),
    )

    refusal = "Milvus refused the expression views == 10: cannot parse"
    assert not result.passed
    assert (result.numbers["filters"], result.numbers["milvus_refused"]) == (1, [refusal])
    assert result.mismatches == [{"tenant": "", "uuid": obj.uuid, "field": "views", "detail": refusal}]
    assert f"Milvus refused 1 expression(s); first: {refusal}" in result.summary
