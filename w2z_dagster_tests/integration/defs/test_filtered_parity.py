"""Filtered-search parity through the real chain, on the test Weaviate and Milvus Lite.

Filters are drawn from the sampled objects' own values, translated by `core/filter_translation.py`, and
run on both sides: the result sets must be equal and a near-vector search under each must find the same
neighbours. A changed value in Milvus shows as the filter that no longer finds its object.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import dagster as dg
import pytest
import weaviate
import weaviate.classes.config as wc
from pymilvus import MilvusClient
from weaviate.classes.data import DataObject
from weaviate.classes.tenants import Tenant

from w2z_dagster.core.retry import RetryPolicy
from w2z_dagster.core.sink import ExpressionRefused, open_sink
from w2z_dagster.core.verification.filtered_parity import MAX_MATCHES
from w2z_dagster_tests.support.seeding import (
    ALL_CHECKS,
    as_written,
    failed,
    migrate,
    mismatches,
    numbers,
    reverify,
    seed_articles,
    uuid_of,
    verdicts,
)

pytestmark = pytest.mark.slow

WORD_REFUSAL = (
    "cannot translate to Milvus: Equal on text property '{0}' (tokenization 'word') (Weaviate matches its "
    "words case-insensitively, Milvus compares whole strings; only 'field' tokenization translates)"
)


def _summary(result: dg.ExecuteInProcessResult) -> str:
    evaluation = next(e for e in result.get_asset_check_evaluations() if e.check_name == "filtered_parity")
    return str(evaluation.metadata["summary"].value)


def test_a_clean_copy_passes_every_drawn_filter_and_names_the_word_matched_text(
    weaviate_client: weaviate.WeaviateClient, instance: dg.DagsterInstance, resources: dict[str, Any]
) -> None:
    seed_articles(weaviate_client, "Articles", n=30)

    result = migrate(instance, resources, "Articles")

    assert verdicts(result) == dict.fromkeys(ALL_CHECKS, True)
    got = numbers(result, "filtered_parity")
    # 10 query objects give 10 filters, plus the id filter; title and tags are word-tokenized.
    assert (got["filters"], got["sets_differing"], got["compared_by_count"], got["recall"]) == (11, 0, 0, 1.0)
    assert got["fields"] == {"default": {"queries": 11, "mean_recall": 1.0, "worst_query_recall": 1.0}}
    assert got["refused"] == [
        f"title: {WORD_REFUSAL.format('title')}",
        f"tags: {WORD_REFUSAL.format('tags')}",
    ]
    expressions = [q["expression"] for q in got["worst_queries"]]
    assert len(expressions) == 5
    assert all(
        q["weaviate"] == q["milvus"] and q["missing"] == q["extra"] == [] for q in got["worst_queries"]
    )
    assert _summary(result).startswith(
        "11 of 11 translated filter(s) drawn from 10 object(s) pass the same objects on both sides "
        "(0 compared by count); filtered recall@10 1.00 (worst field), threshold 1.00; translator refused "
        "2 filter(s) on title, tags; first: title: "
    )


def test_a_value_changed_in_milvus_is_the_filter_that_no_longer_finds_its_object(
    weaviate_client: weaviate.WeaviateClient,
    instance: dg.DagsterInstance,
    resources: dict[str, Any],
    milvus_uri: str,
) -> None:
    seed_articles(weaviate_client, "Articles", n=12)
    assert migrate(instance, resources, "Articles").success
    milvus = MilvusClient(milvus_uri)
    rows = [dict(r) for r in milvus.query("Articles", filter='id != ""', output_fields=["*"], limit=100)]
    milvus.upsert("Articles", [{**as_written(r), "views": r["views"] + 1} for r in rows])

    # One query object: its first equality candidate is views, then the id filter.
    result = reverify(instance, resources, "Articles", {"search_queries": 1, "filtered_queries": 1})

    assert failed(result) == {"content", "filtered_parity"}
    listed = mismatches(result, "filtered_parity")
    query = listed[0]["uuid"]
    views = int(query[-12:]) * 1000  # seed_articles: object i has views i * 1000
    assert [(m["uuid"], m["field"], m["weaviate"], m["milvus"], m["detail"]) for m in listed] == [
        (
            query,
            "views",
            f'{{"operator":"Equal","path":["views"],"valueInt":{views}}}',
            f"views == {views}",
            f"weaviate 1 / milvus 0 object(s); missing in Milvus: {query}",
        ),
        (
            query,
            "default",
            f'{{"operator":"Equal","path":["views"],"valueInt":{views}}}',
            f"views == {views}",
            "filtered recall@10 0.00",
        ),
    ]
    got = numbers(result, "filtered_parity")
    assert (got["filters"], got["sets_differing"], got["recall"], got["failing_fields"]) == (
        2,
        1,
        0.5,
        ["default"],
    )


def _day(i: int) -> dt.datetime:
    return dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=i, microseconds=7 * i)


def test_every_filterable_type_in_every_tenant_passes(
    weaviate_client: weaviate.WeaviateClient, instance: dg.DagsterInstance, resources: dict[str, Any]
) -> None:
    """Field-tokenized text and text[], int, number, boolean, date, uuid and their arrays, two tenants."""
    field = wc.Tokenization.FIELD
    collection = weaviate_client.collections.create(
        "Typed",
        properties=[
            wc.Property(name="label", data_type=wc.DataType.TEXT, tokenization=field),
            wc.Property(name="labels", data_type=wc.DataType.TEXT_ARRAY, tokenization=field),
            wc.Property(name="n", data_type=wc.DataType.INT),
            wc.Property(name="ns", data_type=wc.DataType.INT_ARRAY),
            wc.Property(name="x", data_type=wc.DataType.NUMBER),
            wc.Property(name="b", data_type=wc.DataType.BOOL),
            wc.Property(name="d", data_type=wc.DataType.DATE),
            wc.Property(name="ds", data_type=wc.DataType.DATE_ARRAY),
            wc.Property(name="u", data_type=wc.DataType.UUID),
            wc.Property(name="us", data_type=wc.DataType.UUID_ARRAY),
            wc.Property(name="like", data_type=wc.DataType.INT),
        ],
        vector_config=wc.Configure.Vectors.self_provided(),
        multi_tenancy_config=wc.Configure.multi_tenancy(enabled=True),
    )
    collection.tenants.create([Tenant(name="alpha"), Tenant(name="beta")])
    for shift, tenant in enumerate(("alpha", "beta")):
        collection.with_tenant(tenant).data.insert_many(
            [
                DataObject(
                    properties={
                        "label": f"Label {i % 4}",
                        "labels": [f"l{i % 3}", "all"],
                        "n": i % 5 + shift,
                        "ns": [i, i + 1],
                        "x": i / 3,
                        "b": i % 2 == 0,
                        "d": _day(i),
                        "ds": [_day(i), _day(i + 40)],
                        "u": str(uuid.UUID(int=i % 6)),
                        "us": [str(uuid.UUID(int=i))],
                        "like": -i,
                    },
                    uuid=uuid_of(i),
                    vector=[1.0, float(i), float(i % 3)],
                )
                for i in range(16)
            ]
        )

    result = migrate(instance, resources, "Typed")

    assert verdicts(result) == dict.fromkeys(ALL_CHECKS, True)
    got = numbers(result, "filtered_parity")
    # 10 query objects over both tenants, plus one id filter per tenant; nothing refused.
    assert (got["filters"], got["sets_differing"], got["recall"], got["refused"]) == (12, 0, 1.0, [])
    # Objects 0, 2, ... 8 rotate through the first five equality properties, 1, 3, ... 9 through the
    # four range properties; `like` is a Milvus keyword, so its field is `like_1`.
    assert got["fields_filtered"] == ["b", "d", "id", "label", "labels", "like_1", "n", "ns", "x"]
    assert {q["tenant"] for q in got["worst_queries"]} <= {"alpha", "beta"}
    assert all(q["expression"].startswith('tenant == "') for q in got["worst_queries"])


def test_a_collection_without_filterable_properties_reports_it_in_one_line(
    weaviate_client: weaviate.WeaviateClient, instance: dg.DagsterInstance, resources: dict[str, Any]
) -> None:
    collection = weaviate_client.collections.create(
        "Plain",
        properties=[
            wc.Property(name="body", data_type=wc.DataType.TEXT),
            wc.Property(name="n", data_type=wc.DataType.INT, index_filterable=False),
        ],
        vector_config=wc.Configure.Vectors.self_provided(),
    )
    collection.data.insert_many(
        [
            DataObject(properties={"body": f"body {i}", "n": i}, uuid=uuid_of(i), vector=[1.0, float(i)])
            for i in range(5)
        ]
    )

    result = migrate(instance, resources, "Plain")

    assert verdicts(result) == dict.fromkeys(ALL_CHECKS, True)
    assert _summary(result) == (
        "1 of 1 translated filter(s) drawn from 5 object(s) pass the same objects on both sides "
        "(0 compared by count); filtered recall@10 1.00 (worst field), threshold 1.00; no filterable "
        f"property: only the id filter drawn; translator refused 1 filter(s) on body; first: body: "
        f"{WORD_REFUSAL.format('body')}"
    )


def test_a_filter_broader_than_the_set_bound_is_compared_by_count(
    weaviate_client: weaviate.WeaviateClient, instance: dg.DagsterInstance, resources: dict[str, Any]
) -> None:
    collection = weaviate_client.collections.create(
        "Flags",
        properties=[wc.Property(name="b", data_type=wc.DataType.BOOL)],
        vector_config=wc.Configure.Vectors.self_provided(),
    )
    n = MAX_MATCHES + 50
    collection.data.insert_many(
        [DataObject(properties={"b": True}, uuid=uuid_of(i), vector=[1.0, float(i)]) for i in range(n)]
    )

    assert migrate(instance, resources, "Flags").success
    result = reverify(instance, resources, "Flags", {"search_queries": 1, "filtered_queries": 1})

    got = numbers(result, "filtered_parity")
    assert (got["filters"], got["sets_differing"], got["compared_by_count"], got["recall"]) == (2, 0, 1, 1.0)
    broad = next(q for q in got["worst_queries"] if q["compared"] == "count")
    assert (broad["expression"], broad["weaviate"], broad["milvus"]) == ("b == true", n, n)


def test_exact_duplicate_vectors_under_a_filter_are_ties_not_failures(
    weaviate_client: weaviate.WeaviateClient, instance: dg.DagsterInstance, resources: dict[str, Any]
) -> None:
    """40 objects, two vectors of 20 copies each; `group` filters 20 copies, any 10 of which are nearest."""
    chunks = weaviate_client.collections.create(
        "Chunks",
        properties=[wc.Property(name="group", data_type=wc.DataType.INT)],
        vector_config=wc.Configure.Vectors.self_provided(),
    )
    vectors = [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]]
    chunks.data.insert_many(
        [DataObject(properties={"group": i % 2}, uuid=uuid_of(i), vector=vectors[i % 2]) for i in range(40)]
    )

    result = migrate(instance, resources, "Chunks")

    assert verdicts(result) == dict.fromkeys(ALL_CHECKS, True)
    got = numbers(result, "filtered_parity")
    assert (got["filters"], got["sets_differing"], got["recall"]) == (11, 0, 1.0)


def test_an_expression_milvus_lite_cannot_parse_is_refused_with_its_message(
    weaviate_client: weaviate.WeaviateClient,
    instance: dg.DagsterInstance,
    resources: dict[str, Any],
    milvus_uri: str,
) -> None:
    """What the translator once wrote for a negative array element: the check reports it, not crashes."""
    seed_articles(weaviate_client, "Articles", n=3)
    plan = migrate(instance, resources, "Articles").output_for_node("zilliz_collection")

    with open_sink(milvus_uri, None, "default", RetryPolicy(max_retries=0, delay=0.01)) as sink:
        with pytest.raises(
            ExpressionRefused, match=r"^Milvus refused the expression array_contains\(tags, -1\): "
        ):
            sink.matching(plan, "array_contains(tags, -1)", 10)
        with pytest.raises(
            ExpressionRefused, match=r"^Milvus refused the expression array_contains\(tags, -1\): "
        ):
            sink.search(plan, "default", [0.5] * 8, 3, None, "array_contains(tags, -1)")
        assert sink.count_matching(plan, 'array_contains(tags, "all")') == 3
