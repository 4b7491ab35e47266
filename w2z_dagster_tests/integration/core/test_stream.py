"""The batch pipeline against the real servers: order, bounded memory, checkpoints after writes, write
grouping, when plain inserts are used, and the column packing of the write path.

The real source and sink are wrapped, never replaced: the wrappers only count and log what passes through.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import pytest
import weaviate
from pymilvus import MilvusClient

from w2z_dagster.core import handoff
from w2z_dagster.core.checkpoint import Checkpoint
from w2z_dagster.core.handoff import RateCap
from w2z_dagster.core.mapping import build_plan
from w2z_dagster.core.plan import MigrationPlan
from w2z_dagster.core.profiles import profile_for_uri
from w2z_dagster.core.schema import CollectionSchema, SourceObject
from w2z_dagster.core.sink import MilvusSink, Packed
from w2z_dagster.core.source import WeaviateSource
from w2z_dagster.core.stream import BatchOutcome, migrate
from w2z_dagster.core.transform import to_rows
from w2z_dagster_tests.support.seeding import seed_articles, seed_multi_tenant, uuid_of


class Log:
    """What happened, in order, across the pipeline's threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events: list[tuple[str, Any]] = []
        self.pages_fetched = 0
        self.rows_written = 0
        self.most_in_flight = 0

    def add(self, kind: str, value: Any) -> None:
        with self.lock:
            self.events.append((kind, value))


class CountingSource:
    """The real source; counts pages as they come off the cursor."""

    def __init__(self, source: WeaviateSource, log: Log, page_rows: int) -> None:
        self._source = source
        self._log = log
        self._page_rows = page_rows

    def pages(
        self, schema: CollectionSchema, tenant: str | None, after: str | None, size: int, before: str | None
    ) -> Iterator[Any]:
        for page in self._source.pages(schema, tenant, after, size, before):
            with self._log.lock:
                self._log.pages_fetched += 1
                in_flight = self._log.pages_fetched - self._log.rows_written // self._page_rows
                self._log.most_in_flight = max(self._log.most_in_flight, in_flight)
            yield page


class CountingSink:
    """The real sink, made slow so that an unbounded reader would run far ahead of it."""

    def __init__(self, sink: MilvusSink, log: Log, delay: float = 0.02) -> None:
        self._sink = sink
        self._log = log
        self._delay = delay
        self.modes: list[str] = []
        self.packed: list[bool] = []

    def pack(self, target: str, rows: list[dict[str, Any]]) -> Packed | None:
        packed = self._sink.pack(target, rows)
        self._log.add("pack", [r["id"] for r in rows])
        return packed

    def write(
        self, target: str, rows: list[dict[str, Any]], *, insert: bool = False, packed: Packed | None = None
    ) -> list[Any]:
        time.sleep(self._delay)
        refused = self._sink.write(target, rows, insert=insert, packed=packed)
        self.packed.append(packed is not None and packed.rows is rows and packed.columns is not None)
        self.modes.append("insert" if insert else "upsert")
        self._log.add("write", [r["id"] for r in rows])
        with self._log.lock:
            self._log.rows_written += len(rows)
        return refused

    def keys_after(self, plan: MigrationPlan, tenant: str | None, after: str | None, limit: int) -> list[str]:
        return self._sink.keys_after(plan, tenant, after, limit)

    def count_after(self, plan: MigrationPlan, tenant: str | None, after: str | None) -> int:
        return self._sink.count_after(plan, tenant, after)

    def count_keys(self, plan: MigrationPlan, keys: Sequence[str]) -> int:
        return self._sink.count_keys(plan, keys)


def _prepare(
    source: WeaviateSource, sink: MilvusSink, milvus_uri: str, name: str
) -> tuple[CollectionSchema, MigrationPlan]:
    schema = source.read_schema(name)
    plan = build_plan(schema, profile_for_uri(milvus_uri))
    sink.ensure_collection(plan)
    return schema, plan


Articles = Callable[[int], tuple[CollectionSchema, MigrationPlan]]


@pytest.fixture
def articles(
    weaviate_client: weaviate.WeaviateClient, source: WeaviateSource, sink: MilvusSink, milvus_uri: str
) -> Articles:
    """Seeds n articles and prepares their target: what most tests here start from."""

    def seeded(n: int) -> tuple[CollectionSchema, MigrationPlan]:
        seed_articles(weaviate_client, n=n)
        return _prepare(source, sink, milvus_uri, "Articles")

    return seeded


def _consume(outcomes: Iterator[BatchOutcome], log: Log) -> list[BatchOutcome]:
    got = []
    for outcome in outcomes:
        log.add("checkpoint", outcome.checkpoint.after)
        got.append(outcome)
    return got


def _count(uri: str, name: str) -> int:
    return MilvusClient(uri).query(name, filter="", output_fields=["count(*)"])[0]["count(*)"]


def test_batches_arrive_in_order_with_each_checkpoint_after_its_write(
    articles: Articles, source: WeaviateSource, sink: MilvusSink, milvus_uri: str
) -> None:
    schema, plan = articles(47)
    log = Log()

    outcomes = _consume(
        migrate(
            CountingSource(source, log, 5),
            CountingSink(sink, log),
            schema,
            plan,
            Checkpoint(collection="Articles"),
            5,
        ),
        log,
    )

    writes = [keys for kind, keys in log.events if kind == "write"]
    assert [k for keys in writes for k in keys] == [uuid_of(i) for i in range(47)]
    assert [o.read for o in outcomes] == [5] * 9 + [2]
    written: set[str] = set()
    for kind, value in log.events:
        if kind == "write":
            written.update(value)
        elif kind == "checkpoint":
            assert value in written, "a checkpoint was handed out before its batch was written"
    assert outcomes[-1].checkpoint.objects == 47 and outcomes[-1].checkpoint.batches == 10
    assert _count(milvus_uri, "Articles") == 47


@pytest.mark.parametrize(("batch_size", "write_batch_size", "bound"), [(5, None, 2), (5, 10, 4)])
def test_at_most_two_writes_of_pages_are_held_at_once(
    articles: Articles,
    source: WeaviateSource,
    sink: MilvusSink,
    batch_size: int,
    write_batch_size: int | None,
    bound: int,
) -> None:
    schema, plan = articles(60)
    log = Log()

    _consume(
        migrate(
            CountingSource(source, log, batch_size),
            CountingSink(sink, log),
            schema,
            plan,
            Checkpoint(collection="Articles"),
            batch_size,
            write_batch_size=write_batch_size,
        ),
        log,
    )

    assert log.pages_fetched == 12
    assert 1 < log.most_in_flight <= bound


def test_the_writer_runs_one_write_ahead_of_the_checkpoint_being_recorded(
    articles: Articles, source: WeaviateSource, sink: MilvusSink
) -> None:
    schema, plan = articles(40)
    log = Log()
    counting = CountingSink(sink, log, delay=0)
    ahead = []

    for consumed, _ in enumerate(
        migrate(source, counting, schema, plan, Checkpoint(collection="Articles"), 5), 1
    ):
        time.sleep(0.2)
        ahead.append(len(counting.modes) - consumed)

    assert max(ahead) == 1


def test_the_next_write_is_packed_while_the_previous_one_is_being_sent(
    articles: Articles, source: WeaviateSource, sink: MilvusSink, milvus_uri: str
) -> None:
    schema, plan = articles(20)
    log = Log()
    packs = threading.Semaphore(0)

    class HoldingFirstWrite(CountingSink):
        """Sends the first write only once the second one is packed, which needs the reader to pack it."""

        def pack(self, target: str, rows: list[dict[str, Any]]) -> Packed | None:
            packed = super().pack(target, rows)
            packs.release()
            return packed

        def write(self, target: str, rows: list[dict[str, Any]], **kwargs: Any) -> list[Any]:
            if not self.modes:
                assert packs.acquire(timeout=10) and packs.acquire(timeout=10), (
                    "the second write was not packed"
                )
            return super().write(target, rows, **kwargs)

    holding = HoldingFirstWrite(sink, log, delay=0)
    outcomes = list(migrate(source, holding, schema, plan, Checkpoint(collection="Articles"), 5))

    assert [o.read for o in outcomes] == [5, 5, 5, 5]
    assert holding.packed == [True] * 4
    assert [keys for kind, keys in log.events if kind == "pack"] == [
        [uuid_of(i) for i in range(start, start + 5)] for start in range(0, 20, 5)
    ]
    assert _count(milvus_uri, "Articles") == 20


def test_limit_stops_after_that_many_objects(
    articles: Articles, source: WeaviateSource, sink: MilvusSink, milvus_uri: str
) -> None:
    schema, plan = articles(30)

    outcomes = list(migrate(source, sink, schema, plan, Checkpoint(collection="Articles"), 4, limit=11))

    assert [o.read for o in outcomes] == [4, 4, 3]
    assert outcomes[-1].checkpoint.after == uuid_of(10)
    assert _count(milvus_uri, "Articles") == 11


def test_writes_group_whole_pages_and_checkpoint_once_per_write(
    articles: Articles, source: WeaviateSource, sink: MilvusSink
) -> None:
    schema, plan = articles(30)
    log = Log()

    outcomes = list(
        migrate(
            source,
            CountingSink(sink, log),
            schema,
            plan,
            Checkpoint(collection="Articles"),
            4,
            write_batch_size=10,
        )
    )

    writes = [keys for kind, keys in log.events if kind == "write"]
    assert [len(w) for w in writes] == [8, 8, 8, 6]
    assert [o.checkpoint.after for o in outcomes] == [w[-1] for w in writes]
    assert [o.checkpoint.objects for o in outcomes] == [8, 16, 24, 30]


def test_a_page_larger_than_a_write_is_cut_into_several_writes(
    articles: Articles, source: WeaviateSource, sink: MilvusSink, milvus_uri: str
) -> None:
    schema, plan = articles(25)
    log = Log()

    outcomes = list(
        migrate(
            source,
            CountingSink(sink, log),
            schema,
            plan,
            Checkpoint(collection="Articles"),
            10,
            write_batch_size=4,
        )
    )

    assert [len(keys) for kind, keys in log.events if kind == "write"] == [4, 3, 3, 4, 3, 3, 3, 2]
    assert [o.read for o in outcomes] == [10, 10, 5]
    assert _count(milvus_uri, "Articles") == 25


def test_a_fresh_target_is_filled_with_inserts_after_one_upsert(
    articles: Articles, source: WeaviateSource, sink: MilvusSink, milvus_uri: str
) -> None:
    schema, plan = articles(20)
    counting = CountingSink(sink, Log(), delay=0)

    list(migrate(source, counting, schema, plan, Checkpoint(collection="Articles"), 5, insert_when_safe=True))

    assert counting.modes == ["upsert", "insert", "insert", "insert"]
    assert _count(milvus_uri, "Articles") == 20


def test_keys_already_beyond_the_checkpoint_are_upserted_and_only_new_ones_inserted(
    articles: Articles, source: WeaviateSource, sink: MilvusSink, milvus_uri: str
) -> None:
    schema, plan = articles(30)
    first = list(migrate(source, sink, schema, plan, Checkpoint(collection="Articles"), 5, limit=10))
    leftover = to_rows(source.fetch(schema, None, [uuid_of(i) for i in range(10, 17)]), plan).rows
    sink.write(plan.target, leftover)
    counting = CountingSink(sink, Log(), delay=0)

    list(migrate(source, counting, schema, plan, first[-1].checkpoint, 5, insert_when_safe=True))

    assert counting.modes == ["upsert", "upsert", "insert", "insert"]
    assert _count(milvus_uri, "Articles") == 30


def test_a_restart_over_a_finished_copy_only_upserts(
    articles: Articles, source: WeaviateSource, sink: MilvusSink
) -> None:
    schema, plan = articles(15)
    list(migrate(source, sink, schema, plan, Checkpoint(collection="Articles"), 5))
    counting = CountingSink(sink, Log(), delay=0)

    list(migrate(source, counting, schema, plan, Checkpoint(collection="Articles"), 5, insert_when_safe=True))

    assert counting.modes == ["upsert"] * 3


def test_insert_safety_is_judged_per_tenant(
    weaviate_client: weaviate.WeaviateClient, source: WeaviateSource, sink: MilvusSink, milvus_uri: str
) -> None:
    seed_multi_tenant(weaviate_client, "Multi", ["a", "b"], 10)
    schema, plan = _prepare(source, sink, milvus_uri, "Multi")
    in_b = to_rows(source.fetch(schema, "b", [uuid_of(i) for i in range(10)]), plan).rows
    sink.write(plan.target, in_b)
    counting = CountingSink(sink, Log(), delay=0)

    list(migrate(source, counting, schema, plan, Checkpoint(collection="Multi"), 5, insert_when_safe=True))

    assert counting.modes == ["upsert", "insert", "upsert", "upsert"]
    assert _count(milvus_uri, "Multi") == 20


def test_a_source_failure_ends_the_stream_after_the_batches_written_before_it(
    articles: Articles, source: WeaviateSource, sink: MilvusSink, milvus_uri: str
) -> None:
    schema, plan = articles(30)

    class Failing(CountingSource):
        def pages(self, *args: Any) -> Iterator[list[SourceObject]]:
            for n, page in enumerate(super().pages(*args)):
                if n == 3:
                    raise RuntimeError("cursor broke")
                yield page

    got: list[BatchOutcome] = []
    with pytest.raises(RuntimeError, match="cursor broke"):
        got.extend(
            migrate(Failing(source, Log(), 5), sink, schema, plan, Checkpoint(collection="Articles"), 5)
        )

    assert [o.checkpoint.objects for o in got] == [5, 10, 15]
    assert _count(milvus_uri, "Articles") == 15


def test_abandoning_the_stream_stops_its_threads(
    articles: Articles, source: WeaviateSource, sink: MilvusSink
) -> None:
    schema, plan = articles(40)
    before = set(threading.enumerate())

    outcomes = migrate(source, sink, schema, plan, Checkpoint(collection="Articles"), 5)
    next(outcomes)
    outcomes.close()

    stream_threads = {"w2z-reader", "w2z-writer"}
    assert {t.name for t in set(threading.enumerate()) - before} & stream_threads == set()


def test_cursor_pages_carry_float32_arrays_equal_to_the_clients_lists(
    weaviate_client: weaviate.WeaviateClient, source: WeaviateSource
) -> None:
    seeded = seed_articles(weaviate_client, n=12)
    schema = source.read_schema("Articles")

    paged = [obj for page in source.pages(schema, None, None, 5) for obj in page]
    listed = weaviate_client.collections.use("Articles").query.fetch_objects(include_vector=True).objects

    assert {type(o.vectors["default"]) for o in paged} == {np.ndarray}
    assert {o.vectors["default"].dtype for o in paged} == {np.dtype("<f4")}
    assert {type(o.vector["default"]) for o in listed} == {list}
    expected = {str(o.uuid): np.asarray(o.vector, dtype=np.float32).tobytes() for o in seeded}
    assert {o.uuid: o.vectors["default"].tobytes() for o in paged} == expected


def test_the_stream_unfreezes_the_heap_however_it_ends(
    articles: Articles, source: WeaviateSource, sink: MilvusSink
) -> None:
    schema, plan = articles(20)

    outcomes = migrate(source, sink, schema, plan, Checkpoint(collection="Articles"), 5)
    next(outcomes)
    frozen_meanwhile = gc.get_freeze_count()
    outcomes.close()
    after_abandon = gc.get_freeze_count()
    finished = list(migrate(source, sink, schema, plan, Checkpoint(collection="Articles"), 5))

    assert frozen_meanwhile > 0
    assert (after_abandon, gc.get_freeze_count()) == (0, 0)
    assert [o.checkpoint.objects for o in finished] == [5, 10, 15, 20]


def test_the_rate_cap_spaces_writes_by_their_size(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = {"now": 100.0}
    waits: list[float] = []

    class Stop(threading.Event):
        def wait(self, timeout: float | None = None) -> bool:
            waits.append(timeout or 0.0)
            clock["now"] += timeout or 0.0
            return False

    monkeypatch.setattr(handoff.time, "monotonic", lambda: clock["now"])
    cap = RateCap(2.0, Stop())

    for _ in range(3):
        cap.wait(1_000_000)

    assert waits == [0.0, 0.5, 0.5]


def test_vectors_written_as_packed_bytes_read_back_bit_exact(
    weaviate_client: weaviate.WeaviateClient, source: WeaviateSource, sink: MilvusSink, milvus_uri: str
) -> None:
    objects = seed_articles(weaviate_client, n=12, dim=16)
    schema, plan = _prepare(source, sink, milvus_uri, "Articles")

    list(migrate(source, sink, schema, plan, Checkpoint(collection="Articles"), 5, insert_when_safe=True))

    got = MilvusClient(milvus_uri).query(
        "Articles", filter='id != ""', output_fields=["id", "default"], limit=20
    )
    by_id = {r["id"]: np.asarray(r["default"], dtype=np.float32) for r in got}
    for obj in objects:
        assert by_id[str(obj.uuid)].tobytes() == np.asarray(obj.vector, dtype=np.float32).tobytes()
