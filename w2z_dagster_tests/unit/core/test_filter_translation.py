"""The translation text per operator and type, and the one-line errors for what Milvus cannot express."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from weaviate.classes.query import Filter, GeoCoordinate

from w2z_dagster.core.filter_translation import (
    FilterError,
    UnsupportedFilter,
    literal,
    tokenization_of,
    translate_filter,
)
from w2z_dagster.core.mapping import build_plan
from w2z_dagster.core.plan import MigrationPlan
from w2z_dagster.core.profiles import TargetProfile
from w2z_dagster.core.schema import CollectionSchema, PropertySpec, VectorSpec, WeaviateType

U0 = uuid.UUID(int=1)
TYPES = {
    "title": WeaviateType.TEXT,
    "body": WeaviateType.TEXT,
    "tags": WeaviateType.TEXT_ARRAY,
    "n": WeaviateType.INT,
    "ns": WeaviateType.INT_ARRAY,
    "x": WeaviateType.NUMBER,
    "b": WeaviateType.BOOLEAN,
    "d": WeaviateType.DATE,
    "ds": WeaviateType.DATE_ARRAY,
    "u": WeaviateType.UUID,
    "geo": WeaviateType.GEO,
    "meta": WeaviateType.OBJECT,
    "items": WeaviateType.OBJECT_ARRAY,
    "picture": WeaviateType.BLOB,
    "and": WeaviateType.INT,
}
TOKENS = {"title": "field", "tags": "field", "body": "word"}


def _plan(multi_tenant: bool = False) -> MigrationPlan:
    properties = [PropertySpec(name=n, data_type=t) for n, t in TYPES.items()]
    properties.append(
        PropertySpec(name="author", data_type=WeaviateType.REFERENCE, reference_targets=("Person",))
    )
    schema = CollectionSchema(
        name="Doc",
        properties=tuple(properties),
        vectors=(VectorSpec(name="default", legacy=True, dimension=4),),
        multi_tenant=multi_tenant,
    )
    return build_plan(schema, TargetProfile.LITE)


PLAN = _plan()
P = Filter.by_property

TEXT_CASES: list[tuple[str, Any, str]] = [
    ("text equal", P("title").equal('a "b" \\ c'), 'title == "a \\"b\\" \\\\ c"'),
    ("text not equal", P("title").not_equal("a"), '(title is null or title != "a")'),
    ("line break", P("title").equal("a\nb\tc"), 'title == "a\\nb\\tc"'),
    ("unicode kept", P("title").equal("Zürich ✓"), 'title == "Zürich ✓"'),
    ("like", P("title").like("a*b?%_"), 'title like "a%b_\\\\%\\\\_"'),
    ("text range", P("title").greater_or_equal("m"), 'title >= "m"'),
    ("text contains any", P("title").contains_any(["a", "b"]), 'title in ["a", "b"]'),
    ("text contains all", P("title").contains_all(["a", "b"]), 'title == "a" and title == "b"'),
    ("text contains none", P("title").contains_none(["a"]), '(title is null or title not in ["a"])'),
    ("text[] equal", P("tags").equal("a"), 'array_contains(tags, "a")'),
    ("text[] not equal", P("tags").not_equal("a"), '(tags is null or not array_contains(tags, "a"))'),
    ("text[] contains all", P("tags").contains_all(["a", "b"]), 'array_contains_all(tags, ["a", "b"])'),
    ("int[] contains any", P("ns").contains_any([1, 2]), "array_contains_any(ns, [1, 2])"),
    ("int[] equal a negative", P("ns").equal(-3), "array_contains(ns, (-3))"),
    ("int less", P("n").less_than(3), "n < 3"),
    ("int from an integral float", P("n").equal(3.0), "n == 3"),
    ("number from an int", P("x").greater_than(1), "x > 1.0"),
    ("boolean", P("b").equal(False), "b == false"),
    (
        "date in UTC",
        P("d").greater_than(
            dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2)))
        ),
        'd > "2024-05-06T05:08:09.123456Z"',
    ),
    ("naive date is UTC", P("d").equal(dt.datetime(2024, 1, 1)), 'd == "2024-01-01T00:00:00.000000Z"'),
    (
        "date[]",
        P("ds").contains_any([dt.datetime(2024, 1, 1, tzinfo=dt.UTC)]),
        'array_contains_any(ds, ["2024-01-01T00:00:00.000000Z"])',
    ),
    ("uuid lower-cased", P("u").equal(str(U0).upper()), f'u == "{U0}"'),
    ("renamed field", P("and").equal(1), "and_1 == 1"),
    ("is null", P("title").is_none(True), "title is null"),
    ("is not null", P("title").is_none(False), "title is not null"),
    ("word text is null", P("body").is_none(True), "body is null"),
    ("empty array is null", P("tags").is_none(True), "(tags is null or array_length(tags) == 0)"),
    ("json is null", P("geo").is_none(True), "geo is null"),
    ("reference is null", P("author").is_none(True), "(author is null or array_length(author) == 0)"),
    (
        "reference count",
        Filter.by_ref_count("author").greater_than(1),
        "(author is not null and array_length(author) > 1)",
    ),
    (
        "reference count zero",
        Filter.by_ref_count("author").equal(0),
        "(author is null or array_length(author) == 0)",
    ),
    ("array length", P("ns", length=True).less_than(2), "(ns is null or array_length(ns) < 2)"),
    (
        "array length contains",
        P("ns", length=True).contains_any([1, 2]),
        "(ns is not null and array_length(ns) in [1, 2])",
    ),
    ("id", Filter.by_id().contains_none([U0]), f'id not in ["{U0}"]'),
    (
        "update time",
        Filter.by_update_time().less_than(dt.datetime(2024, 1, 1, tzinfo=dt.UTC)),
        "w2z_updated_ms < 1704067200000",
    ),
    ("and", P("n").equal(1) & P("b").equal(True), "n == 1 and b == true"),
    (
        "or of and",
        (P("n").equal(1) & P("b").equal(True)) | P("x").equal(2.0),
        "(n == 1 and b == true) or x == 2.0",
    ),
    (
        "not pushed down",
        Filter.not_(P("n").equal(1) | P("tags").contains_any(["a"])),
        '(n is null or n != 1) and (tags is null or not array_contains_any(tags, ["a"]))',
    ),
    ("not of not", Filter.not_(Filter.not_(P("n").greater_than(1))), "n > 1"),
    ("not of a range", Filter.not_(P("n").greater_than(1)), "(n is null or n <= 1)"),
    ("not of is null", Filter.not_(P("tags").is_none(True)), "(tags is not null and array_length(tags) > 0)"),
]


@pytest.mark.parametrize(("flt", "expected"), [c[1:] for c in TEXT_CASES], ids=[c[0] for c in TEXT_CASES])
def test_translation_text(flt: Any, expected: str) -> None:
    translation = translate_filter(flt, PLAN, tokenization=TOKENS)
    assert (translation.expression, translation.tenant_condition, translation.filter) == (
        expected,
        None,
        expected,
    )


def test_where_json_text_and_dict_translate_alike() -> None:
    where = (
        '{"operator": "And", "operands": [{"operator": "Equal", "path": ["title"], "valueText": "a"},'
        ' {"operator": "GreaterThan", "path": ["d"], "valueDate": "2024-01-01T00:00:00+01:00"}]}'
    )
    expected = 'title == "a" and d > "2023-12-31T23:00:00.000000Z"'
    assert translate_filter(where, PLAN, tokenization=TOKENS).expression == expected
    assert translate_filter({"operator": "Equal", "path": ["n"], "valueInt": 4}, PLAN).expression == "n == 4"


def test_tenant_condition_on_a_multi_tenant_plan() -> None:
    translation = translate_filter(Filter.by_id().equal(U0), _plan(multi_tenant=True), tenant='t"1')
    assert translation.expression == f'uuid == "{U0}"'
    assert translation.tenant_condition == 'tenant == "t\\"1"'
    assert translation.filter == f'tenant == "t\\"1" and (uuid == "{U0}")'


def test_tokenization_of_class_json() -> None:
    class_json = {
        "properties": [
            {"name": "title", "dataType": ["text"], "tokenization": "field"},
            {"name": "body", "dataType": ["text"]},
            {"name": "n", "dataType": ["int"]},
        ]
    }
    assert tokenization_of(class_json) == {"title": "field", "body": "word"}


def test_literals() -> None:
    assert [literal(True), literal(3), literal(0.1), literal("a\\b")] == ["true", "3", "0.1", '"a\\\\b"']


UNSUPPORTED: list[tuple[str, Any, str]] = [
    (
        "word text equal",
        P("body").equal("x"),
        "Equal on text property 'body' (tokenization 'word') (Weaviate matches its words case-insensitively, Milvus compares whole strings; only 'field' tokenization translates)",
    ),
    (
        "untokenized default is word",
        P("title").like("x*"),
        "Like on text property 'title' (tokenization 'word')",
    ),
    (
        "geo range",
        P("geo").within_geo_range(GeoCoordinate(latitude=1.0, longitude=2.0), 1000.0),
        "WithinGeoRange on property 'geo' (w2z stores geoCoordinates as JSON and Milvus expressions have no distance function)",
    ),
    (
        "creation time",
        Filter.by_creation_time().greater_than(dt.datetime(2024, 1, 1, tzinfo=dt.UTC)),
        "GreaterThan on the creation time (w2z does not store Weaviate's creation time)",
    ),
    (
        "text length",
        P("title", length=True).equal(3),
        "Equal on the length of property 'title' (Milvus expressions have no string length)",
    ),
    (
        "array range",
        P("ns").greater_than(1),
        "GreaterThan on property 'ns' (Weaviate compares any element; Milvus compares array elements only by position)",
    ),
    ("boolean range", P("b").less_than(True), "LessThan on property 'b' (booleans have no order in Milvus)"),
    (
        "through a reference",
        Filter.by_ref("author").by_property("name").equal("x"),
        "Equal through reference 'author' (Milvus has no joins; the migrated field holds only the target UUIDs)",
    ),
    (
        "nested property",
        P("meta.a").equal("x"),
        "Equal on 'meta.a' (nested object properties are not filterable)",
    ),
    (
        "object",
        P("meta").equal("x"),
        "Equal on property 'meta' (Weaviate cannot filter object values by Equal)",
    ),
    (
        "object[] is null",
        P("items").is_none(True),
        "IsNull on property 'items' (Weaviate counts an empty object[] as null; Milvus cannot measure a JSON array)",
    ),
    (
        "skipped blob",
        P("picture").is_none(True),
        "filter on 'picture' (not migrated: blob skipped (blobs='skip'))",
    ),
    ("like on a number", P("n").like("1*"), "Like on property 'n' (Like applies to text)"),
]


@pytest.mark.parametrize(("flt", "piece"), [c[1:] for c in UNSUPPORTED], ids=[c[0] for c in UNSUPPORTED])
def test_unsupported_piece_is_named(flt: Any, piece: str) -> None:
    with pytest.raises(UnsupportedFilter) as raised:
        translate_filter(
            flt, PLAN, tokenization=TOKENS if "'word')" not in piece or "body" in piece else None
        )
    assert str(raised.value).startswith("cannot translate to Milvus: " + piece)
    assert "\n" not in str(raised.value)


def test_every_unsupported_piece_in_one_line() -> None:
    flt = P("n").equal(1) & (
        P("body").equal("x") | Filter.not_(Filter.by_creation_time().equal(dt.datetime(2024, 1, 1)))
    )
    with pytest.raises(UnsupportedFilter) as raised:
        translate_filter(flt, PLAN, tokenization=TOKENS)
    assert raised.value.pieces == (
        "Equal on text property 'body' (tokenization 'word') (Weaviate matches its words case-insensitively, "
        "Milvus compares whole strings; only 'field' tokenization translates)",
        "Equal on the creation time (w2z does not store Weaviate's creation time)",
    )
    assert str(raised.value) == "cannot translate to Milvus: " + "; ".join(raised.value.pieces)


BAD: list[tuple[str, Any, str]] = [
    (
        "unknown property",
        {"operator": "Equal", "path": ["nope"], "valueInt": 1},
        "collection 'Doc' has no property 'nope' (properties: title, body, tags,",
    ),
    (
        "wrong value type",
        {"operator": "Equal", "path": ["n"], "valueText": "one"},
        "filter value 'one' for property 'n' is not a int",
    ),
    (
        "no value",
        {"operator": "Equal", "path": ["n"]},
        "filter 'Equal' on ['n'] has no value; give one of valueText, valueInt, ...",
    ),
    (
        "two values",
        {"operator": "Equal", "path": ["n"], "valueInt": 1, "valueText": "1"},
        "filter 'Equal' on ['n'] has 2 values (valueText, valueInt); give one",
    ),
    (
        "unknown operator",
        {"operator": "Near", "path": ["n"], "valueInt": 1},
        "unknown filter operator 'Near' (operators: Equal, NotEqual,",
    ),
    (
        "unknown key",
        {"operator": "Equal", "path": ["n"], "valueInteger": 1},
        "invalid where filter at valueInteger: Extra inputs are not permitted",
    ),
    ("not json", "{operator", "invalid where filter at the filter: Invalid JSON"),
    ("no operands", {"operator": "And", "operands": []}, "filter 'And' has no operands"),
    (
        "bad date",
        {"operator": "Equal", "path": ["d"], "valueDate": "yesterday"},
        "filter value 'yesterday' for property 'd' is not a date",
    ),
    (
        "bad uuid",
        {"operator": "Equal", "path": ["id"], "valueText": "x"},
        "filter value 'x' for the object id is not a UUID",
    ),
    (
        "is null of id",
        {"operator": "IsNull", "path": ["id"], "valueBoolean": True},
        "IsNull does not apply to the object id, which every object has",
    ),
    (
        "several values for equal",
        {"operator": "Equal", "path": ["n"], "valueIntArray": [1, 2]},
        "Equal on property 'n' takes one value; use ContainsAny for several",
    ),
]


@pytest.mark.parametrize(("where", "message"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_filter_is_one_line(where: Any, message: str) -> None:
    with pytest.raises(FilterError) as raised:
        translate_filter(where, PLAN, tokenization=TOKENS)
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def test_tenant_is_required_exactly_on_multi_tenant_plans() -> None:
    with pytest.raises(
        FilterError, match=r"^collection 'Doc' is multi-tenant: name the tenant the query runs in"
    ):
        translate_filter(P("n").equal(1), _plan(multi_tenant=True))
    with pytest.raises(FilterError, match=r"^collection 'Doc' is not multi-tenant; drop the tenant 'A'$"):
        translate_filter(P("n").equal(1), PLAN, tenant="A")
