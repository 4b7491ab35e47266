"""Issue 14 on a real C++ Milvus engine: what Milvus Lite hides (duplicates, consistency, auto_id).

On the real engine an insert of a key it already holds keeps both rows (`count(*)` counts 2, every
other read returns one), `query(limit=L)` counts duplicates before removing them, and a collection's
own consistency level (Zilliz Cloud's default is Bounded) applies to reads that name none. Lite
overwrites and has no lag, so these tests run on the `milvus` 2.3.5 embedded server (`real_milvus`).
It predates nullable fields, so each test creates its own target through `MilvusSink` from a plan
whose fields are all non-nullable (the seeded objects have every property).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import weaviate
import weaviate.classes.config as wc
from pymilvus import DataType, MilvusClient
from weaviate.classes.data import DataObject

from w2z_dagster.core.checkpoint import Checkpoint, now_ms
from w2z_dagster.core.insert_gate import InsertGate
from w2z_dagster.core.mapping import build_plan
from w2z_dagster.core.plan import MappingOptions, MigrationPlan
from w2z_dagster.core.profiles import profile_for_uri
from w2z_dagster.core.retry import RetryPolicy
from w2z_dagster.core.schema import CollectionSchema
from w2z_dagster.core.sink import MilvusSink, SinkError, open_sink
from w2z_dagster.core.source import WeaviateSource, open_source
from w2z_dagster.core.stream import migrate
from w2z_dagster.core.sync import Window, sync
from w2z_dagster.core.transform import to_rows
from w2z_dagster.core.verification import verify
from w2z_dagster.core.verification.duplicates import check_duplicates
from w2z_dagster.core.verification.report import COUNTS, DUPLICATES, IDENTITY, VerifyOptions
from w2z_dagster_tests.support.real_milvus import RealMilvus
from w2z_dagster_tests.support.seeding import ARTICLE_PROPERTIES, article, seed_articles, uuid_of
from w2z_dagster_tests.support.weaviate_server import WeaviateTestServer

pytestmark = pytest.mark.real_milvus

RETRY = RetryPolicy(3, 0.01)


@pytest.fixture
def weaviate_source(weaviate_server: WeaviateTestServer) -> Iterator[WeaviateSource]:
    with open_source(
        weaviate_server.http_url, f"http://{weaviate_server.host}:{weaviate_server.grpc_port}", None, RETRY
    ) as opened:
        yield opened


@pytest.fixture
def sink(real_milvus: RealMilvus) -> Iterator[MilvusSink]:
    with open_sink(real_milvus.uri, None, "default", RETRY) as opened:
        yield opened


@pytest.fixture
def client(real_milvus: RealMilvus) -> Iterator[MilvusClient]:
    opened = MilvusClient(real_milvus.uri)
    try:
        yield opened
    finally:
        opened.close()


def _plan(
    weaviate_client: weaviate.WeaviateClient, source: WeaviateSource, sink: MilvusSink, name: str, n: int
) -> tuple[CollectionSchema, MigrationPlan]:
    """`n` seeded articles and their plan for the 2.3 engine, its target dropped."""
    seed_articles(weaviate_client, name=name, n=n)
    schema = source.read_schema(name)
    plan = _engine_plan(schema)
    sink.drop(plan.target)
    return schema, plan


def _engine_plan(schema: CollectionSchema) -> MigrationPlan:
    """A plan the 2.3 engine can hold: the same fields, none nullable, and no keyword search or scalar
    indexes (BM25 functions and INVERTED indexes came with 2.4 and 2.5)."""
    plan = build_plan(schema, profile_for_uri("http://127.0.0.1"), MappingOptions(search_indexes=False))
    return plan.model_copy(
        update={"fields": tuple(f.model_copy(update={"nullable": False}) for f in plan.fields)}
    )


def _rows(source: WeaviateSource, schema: CollectionSchema, plan: MigrationPlan, ids: range) -> list[dict]:
    return to_rows(source.fetch(schema, None, [uuid_of(i) for i in ids]), plan).rows


def _count(client: MilvusClient, target: str) -> int:
    return client.query(target, filter="", output_fields=["count(*)"], consistency_level="Strong")[0][
        "count(*)"
    ]


def test_two_writers_inserting_the_same_keys_leave_one_row_each(
    weaviate_client: weaviate.WeaviateClient,
    weaviate_source: WeaviateSource,
    sink: MilvusSink,
    client: MilvusClient,
) -> None:
    schema, plan = _plan(weaviate_client, weaviate_source, sink, "Racing", 30)
    sink.ensure_collection(plan)
    start = Checkpoint(collection="Racing")
    first, second = InsertGate(sink, plan, start, True), InsertGate(sink, plan, start, True)
    opening = [(None, _rows(weaviate_source, schema, plan, range(10)))]
    assert not first.allows(opening) and not second.allows(opening)
    sink.write(plan.target, opening[0][1])
    page = [(None, _rows(weaviate_source, schema, plan, range(10, 20)))]
    rest = [(None, _rows(weaviate_source, schema, plan, range(20, 30)))]

    assert first.allows(page) and second.allows(page)
    for gate in (first, second):
        sink.write(plan.target, page[0][1], insert=True)
        gate.inserted(page)
    assert _count(client, plan.target) == 30
    first.check()
    assert _count(client, plan.target) == 20
    second.check()

    assert _count(client, plan.target) == 20
    assert not first.allows(rest)
    late = InsertGate(sink, plan, start, True)
    late.allows(opening)
    assert not late.allows(page)
    assert late.allows(rest)


def test_a_migration_with_inserts_ends_exact_and_verified(
    weaviate_client: weaviate.WeaviateClient,
    weaviate_source: WeaviateSource,
    sink: MilvusSink,
    client: MilvusClient,
) -> None:
    schema, plan = _plan(weaviate_client, weaviate_source, sink, "Inserted", 40)
    sink.ensure_collection(plan)
    sink.write(plan.target, _rows(weaviate_source, schema, plan, range(15, 18)))

    list(
        migrate(
            weaviate_source, sink, schema, plan, Checkpoint(collection="Inserted"), 5, insert_when_safe=True
        )
    )

    assert _count(client, plan.target) == 40
    report = verify(weaviate_source, sink, schema, plan)
    assert report.failed == []
    assert report.check(DUPLICATES).summary == "0 rows duplicated"


class ForeignWriter:
    """The real sink, with another tool inserting the same rows just before w2z's first insert lands."""

    def __init__(self, sink: MilvusSink, client: MilvusClient) -> None:
        self._sink = sink
        self._client = client
        self.modes: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sink, name)

    def write(self, target: str, rows: list[dict[str, Any]], *, insert: bool = False, **kwargs: Any) -> list:
        if insert and "insert" not in self.modes:
            self._client.insert(target, rows)
        self.modes.append("insert" if insert else "upsert")
        return self._sink.write(target, rows, insert=insert, **kwargs)


def test_an_insert_that_raced_another_writer_is_upserted_again_before_the_stream_ends(
    weaviate_client: weaviate.WeaviateClient,
    weaviate_source: WeaviateSource,
    sink: MilvusSink,
    client: MilvusClient,
) -> None:
    schema, plan = _plan(weaviate_client, weaviate_source, sink, "Raced", 20)
    sink.ensure_collection(plan)
    racing = ForeignWriter(sink, client)

    list(
        migrate(
            weaviate_source, racing, schema, plan, Checkpoint(collection="Raced"), 5, insert_when_safe=True
        )
    )

    assert racing.modes == ["upsert", "insert", "insert", "insert", "upsert"]
    assert _count(client, plan.target) == 20
    assert check_duplicates(sink, schema, plan).summary == "0 rows duplicated"


def test_verification_names_planted_duplicates_and_the_sync_repairs_them(
    weaviate_client: weaviate.WeaviateClient,
    weaviate_source: WeaviateSource,
    sink: MilvusSink,
    client: MilvusClient,
) -> None:
    schema, plan = _plan(weaviate_client, weaviate_source, sink, "Planted", 30)
    sink.ensure_collection(plan)
    list(migrate(weaviate_source, sink, schema, plan, Checkpoint(collection="Planted"), 10))
    client.insert(plan.target, _rows(weaviate_source, schema, plan, range(4, 7)))
    client.insert(plan.target, _rows(weaviate_source, schema, plan, range(5, 6)))
    assert _count(client, plan.target) == 34

    report = verify(weaviate_source, sink, schema, plan, VerifyOptions(search_queries=1))

    duplicates = report.check(DUPLICATES)
    assert not duplicates.passed
    assert duplicates.summary == (
        f"4 rows duplicated (e.g. {uuid_of(4)}, {uuid_of(5)}, {uuid_of(6)}): materialize migrated_batches "
        "again (`w2z migrate`): its sync upserts every duplicated key once"
    )
    assert duplicates.numbers == {"duplicated_rows": 4, "listed_keys": 3}
    assert [(m["uuid"], m["milvus"]) for m in duplicates.mismatches] == [
        (uuid_of(4), "2 rows"),
        (uuid_of(5), "3 rows"),
        (uuid_of(6), "2 rows"),
    ]
    assert report.check(IDENTITY).passed
    assert report.check(COUNTS).summary.startswith("weaviate 30 / milvus 34")

    [(tenant, counts)] = list(sync(weaviate_source, sink, schema, plan, 10))

    assert (tenant, counts.repaired, counts.added, counts.deleted) == (None, 3, 0, 0)
    assert _count(client, plan.target) == 30
    assert check_duplicates(sink, schema, plan).summary == "0 rows duplicated"


def test_the_gate_refuses_inserts_where_duplicates_would_truncate_a_limited_query(
    weaviate_client: weaviate.WeaviateClient,
    weaviate_source: WeaviateSource,
    sink: MilvusSink,
    client: MilvusClient,
) -> None:
    schema, plan = _plan(weaviate_client, weaviate_source, sink, "Truncated", 30)
    sink.ensure_collection(plan)
    keys = _rows(weaviate_source, schema, plan, range(20))
    client.insert(plan.target, keys)
    client.insert(plan.target, keys[:10])
    limited = client.query(
        plan.target, filter='id != ""', output_fields=["id"], limit=20, consistency_level="Strong"
    )
    assert len(limited) == 10
    gate = InsertGate(sink, plan, Checkpoint(collection="Truncated"), True)
    gate.allows([(None, keys[:1])])

    assert not gate.allows([(None, _rows(weaviate_source, schema, plan, range(20, 30)))])
    assert sorted(sink.keys_after(plan, None, keys[9]["id"], 16_384)) == [r["id"] for r in keys[10:]]
    untouched = InsertGate(sink, plan, Checkpoint(collection="Truncated", after=uuid_of(19)), True)
    untouched.allows([(None, keys[:1])])
    assert untouched.allows([(None, _rows(weaviate_source, schema, plan, range(20, 30)))])


def _precreate(client: MilvusClient, plan: MigrationPlan, *, auto_id: bool, level: str) -> None:
    """The target as a user would pre-create it in the console: dynamic field on, its own level."""
    schema = client.create_schema(auto_id=auto_id, enable_dynamic_field=True)
    for field in plan.fields:
        kwargs: dict = {
            k: getattr(field, k) for k in ("max_length", "max_capacity", "dim") if getattr(field, k)
        }
        if field.element_type:
            kwargs["element_type"] = DataType[field.element_type]
        schema.add_field(field.name, DataType[field.data_type], is_primary=field.is_primary, **kwargs)
    index_params = client.prepare_index_params()
    for index in plan.indexes:
        index_params.add_index(
            index.field, index_type=index.index_type, metric_type=index.metric, params=index.params
        )
    client.create_collection(plan.target, schema=schema, index_params=index_params, consistency_level=level)


def test_a_bounded_target_is_reused_and_read_strong(
    weaviate_client: weaviate.WeaviateClient,
    weaviate_source: WeaviateSource,
    sink: MilvusSink,
    client: MilvusClient,
) -> None:
    schema, plan = _plan(weaviate_client, weaviate_source, sink, "Bounded", 200)
    _precreate(client, plan, auto_id=False, level="Bounded")

    assert sink.ensure_collection(plan) is False
    assert sink.consistency(plan.target) == "Bounded"
    list(migrate(weaviate_source, sink, schema, plan, Checkpoint(collection="Bounded"), 50))

    assert [row["id"] for row in sink.ids(plan, None)] == [uuid_of(i) for i in range(200)]
    assert len(sink.get(plan, [uuid_of(i) for i in range(150, 200)])) == 50
    assert verify(weaviate_source, sink, schema, plan).failed == []


def test_an_auto_id_target_is_refused_with_one_line(
    weaviate_client: weaviate.WeaviateClient,
    weaviate_source: WeaviateSource,
    sink: MilvusSink,
    client: MilvusClient,
) -> None:
    _, plan = _plan(weaviate_client, weaviate_source, sink, "AutoKeyed", 3)
    _precreate(client, plan, auto_id=True, level="Strong")

    with pytest.raises(SinkError) as refused:
        sink.ensure_collection(plan)

    assert str(refused.value) == (
        "target collection 'AutoKeyed' generates its own primary keys (auto_id), so every upsert would add "
        "a row instead of replacing one: drop it or migrate into another target"
    )


def test_the_target_explains_itself_in_the_descriptions_the_console_shows(
    weaviate_client: weaviate.WeaviateClient,
    weaviate_source: WeaviateSource,
    sink: MilvusSink,
    client: MilvusClient,
) -> None:
    """Milvus Lite keeps no descriptions; a real engine does, as Zilliz Cloud's console shows them."""
    _, plan = _plan(weaviate_client, weaviate_source, sink, "Described", n=3)

    sink.ensure_collection(plan)
    described = client.describe_collection(plan.target)

    assert described["description"] == "Weaviate collection 'Described'"
    fields = {f["name"]: f["description"] for f in described["fields"]}
    assert fields == {f.name: f.description for f in plan.fields}
    assert fields["title"] == "Weaviate property 'title' (text)"
    assert fields["default"] == "Weaviate vector 'default' (cosine, hnsw), vectors from the application"


def test_a_sync_by_time_finds_planted_duplicates_by_count_and_repairs_them(
    weaviate_client: weaviate.WeaviateClient,
    weaviate_source: WeaviateSource,
    sink: MilvusSink,
    client: MilvusClient,
) -> None:
    """Nothing changed by time, but `count(*)` counts every copy: the tenant is merged and repaired."""
    weaviate_client.collections.create(
        "PlantedByTime",
        properties=ARTICLE_PROPERTIES,
        vector_config=wc.Configure.Vectors.self_provided(),
        inverted_index_config=wc.Configure.inverted_index(index_timestamps=True),
    ).data.insert_many(
        [DataObject(properties=article(i), uuid=uuid_of(i), vector=[0.5] * 8) for i in range(30)]
    )
    schema = weaviate_source.read_schema("PlantedByTime")
    plan = _engine_plan(schema)
    sink.drop(plan.target)
    sink.ensure_collection(plan)
    list(migrate(weaviate_source, sink, schema, plan, Checkpoint(collection="PlantedByTime"), 10))
    client.insert(plan.target, _rows(weaviate_source, schema, plan, range(4, 7)))
    now = now_ms()

    [(tenant, counts)] = list(
        sync(weaviate_source, sink, schema, plan, 10, window=Window(since_ms=now, until_ms=now + 1))
    )

    assert (tenant, counts.repaired, counts.merged, counts.added, counts.deleted) == (None, 3, 1, 0, 0)
    assert _count(client, plan.target) == 30
    assert check_duplicates(sink, schema, plan).summary == "0 rows duplicated"
