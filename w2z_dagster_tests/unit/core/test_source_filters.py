"""`where` JSON back to the v4 client's `Filter`, as verification sends its drawn filters to Weaviate."""

from __future__ import annotations

import json
from typing import Any

import pytest

from w2z_dagster.core.filter_translation import where_from_filter
from w2z_dagster.core.source import filter_from_where

DATE = "2024-05-06T07:08:09.123456+00:00"
ID = "00000000-0000-0000-0000-000000000001"

WHERES: list[dict[str, Any]] = [
    {"operator": "Equal", "path": ["views"], "valueInt": 3},
    {"operator": "Equal", "path": ["flag"], "valueBoolean": False},
    {"operator": "NotEqual", "path": ["title"], "valueText": "a"},
    {"operator": "Like", "path": ["title"], "valueText": "a*"},
    {"operator": "IsNull", "path": ["title"], "valueBoolean": True},
    {"operator": "ContainsAny", "path": ["id"], "valueTextArray": [ID]},
    {"operator": "ContainsAll", "path": ["ns"], "valueIntArray": [1, 2]},
    {"operator": "ContainsNone", "path": ["xs"], "valueNumberArray": [0.5]},
    {"operator": "Equal", "path": ["published"], "valueDate": DATE},
    {
        "operator": "And",
        "operands": [
            {"operator": "GreaterThanEqual", "path": ["score"], "valueNumber": 0.5},
            {"operator": "LessThan", "path": ["published"], "valueDate": DATE},
        ],
    },
    {
        "operator": "Or",
        "operands": [
            {"operator": "GreaterThan", "path": ["views"], "valueInt": 1},
            {"operator": "LessThanEqual", "path": ["views"], "valueInt": -1},
        ],
    },
    {"operator": "Not", "operands": [{"operator": "Equal", "path": ["id"], "valueText": ID}]},
]


@pytest.mark.parametrize("where", WHERES, ids=[str(i) for i in range(len(WHERES))])
def test_a_where_filter_becomes_the_client_filter_it_came_from(where: dict[str, Any]) -> None:
    # The client names the object id `_id`; Weaviate and the translator take both.
    expected = json.loads(json.dumps(where).replace('["id"]', '["_id"]'))
    assert where_from_filter(filter_from_where(where)) == expected
