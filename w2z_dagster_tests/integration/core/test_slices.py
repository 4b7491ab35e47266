"""Slices against the real client and servers: the cursor seeks as the planner assumes, and a collection
copied slice by slice (each slice a bounded reader, each resumable) equals the source exactly."""

from __future__ import annotations

import numpy as np
import pytest
import weaviate
import weaviate.classes.config as wc
from weaviate.classes.data import DataObject
from weaviate.util import generate_uuid5

from w2z_dagster.core.checkpoint import Checkpoint
from w2z_dagster.core.mapping import build_plan
from w2z_dagster.core.plan import MappingOptions, MigrationPlan
from w2z_dagster.core.profiles import profile_for_uri
from w2z_dagster.core.schema import CollectionSchema
from w2z_dagster.core.sink import MilvusSink
from w2z_dagster.core.slices import SliceMethod, SlicePlan, SliceSettings, plan_slices
from w2z_dagster.core.source import WeaviateSource
from w2z_dagster.core.stream import migrate
from w2z_dagster.core.verification import verify
from w2z_dagster.core.verification.report import VerifyOptions
from w2z_dagster_tests.support.seeding import ARTICLE_PROPERTIES, article, seed_articles, uuid_of

OBJECTS = 20_000


def _seed_random_ids(client: weaviate.WeaviateClient, name: str, n: int) -> None:
    """Articles under UUIDv5 keys, the kind Weaviate's clients generate."""
    collection = client.collections.create(
        name,
        properties=ARTICLE_PROPERTIES,
        vector_config=wc.Configure.Vectors.self_provided(
            vector_index_config=wc.Configure.VectorIndex.hnsw(distance_metric=wc.VectorDistances.COSINE)
        ),
    )
    vectors = np.random.default_rng(3).random((n, 8), dtype=np.float32).tolist()
    for start in range(0, n, 2_000):
        collection.data.insert_many(
            [
                DataObject(properties=article(i), uuid=generate_uuid5(i), vector=vectors[i])
                for i in range(start, min(n, start + 2_000))
            ]
        )


def _plan(
    source: WeaviateSource, sink: MilvusSink, milvus_uri: str, name: str, settings: SliceSettings
) -> tuple[CollectionSchema, MigrationPlan, SlicePlan]:
    schema = source.read_schema(name)
    plan = build_plan(schema, profile_for_uri(milvus_uri), MappingOptions(search_indexes=False))
    sink.ensure_collection(plan)
    slices = plan_slices(
        schema,
        settings,
        lambda tenant, after: source.first_after(name, tenant, after),
        lambda tenant: (uuid for uuid, _ in source.ids(name, tenant)),
    )
    return schema, plan, slices


def _exact(source: WeaviateSource, sink: MilvusSink, schema: CollectionSchema, plan: MigrationPlan) -> None:
    report = verify(source, sink, schema, plan, VerifyOptions(sample_size=20, search_queries=2))
    by_name = {c.name: c for c in report.checks}
    counts = by_name["counts"].numbers
    assert (counts["weaviate"], counts["milvus"], counts["difference"]) == (schema.object_count,) * 2 + (0,)
    assert by_name["identity"].passed and by_name["duplicates"].passed and by_name["content"].passed
    assert report.passed, report.failed


def test_the_cursor_seeks_to_keys_that_do_not_exist(
    weaviate_client: weaviate.WeaviateClient, source: WeaviateSource
) -> None:
    """Ids 0-9 and then 10, 11 as decimal digits: 0x0a-0x0f exist nowhere."""
    seed_articles(weaviate_client, n=12)
    seek = source.first_after
    assert seek("Articles", None, None) == uuid_of(0)
    assert seek("Articles", None, uuid_of(2)) == uuid_of(3)
    assert seek("Articles", None, "00000000-0000-0000-0000-00000000000a") == uuid_of(10)
    assert seek("Articles", None, "00000000-0000-0000-0000-00000000000f") == uuid_of(10)
    assert seek("Articles", None, uuid_of(11)) is None
    assert seek("Articles", None, "ffffffff-ffff-ffff-ffff-ffffffffffff") is None


def test_a_reader_stops_itself_at_the_next_boundary(
    weaviate_client: weaviate.WeaviateClient, source: WeaviateSource
) -> None:
    seed_articles(weaviate_client, n=12)
    schema = source.read_schema("Articles")
    pages = list(source.pages(schema, None, uuid_of(2), 4, before=uuid_of(9)))
    assert [[o.uuid for o in page] for page in pages] == [
        [uuid_of(i) for i in range(3, 7)],
        [uuid_of(i) for i in range(7, 9)],
    ]
    assert list(source.pages(schema, None, uuid_of(2), 4, before=uuid_of(3))) == []


@pytest.mark.slow
def test_a_collection_copied_in_four_slices_one_after_another_equals_the_source(
    weaviate_client: weaviate.WeaviateClient, source: WeaviateSource, sink: MilvusSink, milvus_uri: str
) -> None:
    _seed_random_ids(weaviate_client, "Big", OBJECTS)
    schema, plan, slices = _plan(
        source, sink, milvus_uri, "Big", SliceSettings(slices=4, min_slice_objects=5_000)
    )
    assert slices.method is SliceMethod.UNIFORM and len(slices.slices) == 4
    in_range = [
        sum(1 for uuid, _ in source.ids("Big", None) if s.work[0].range.contains(uuid)) for s in slices.slices
    ]

    copied = []
    for piece in slices.slices:
        outcomes = list(
            migrate(source, sink, schema, plan, Checkpoint(collection="Big"), 500, work=piece.work)
        )
        copied.append(outcomes[-1].checkpoint.objects)
        assert all(piece.work[0].range.contains(o.checkpoint.after or "") for o in outcomes)

    assert copied == in_range and sum(copied) == OBJECTS
    assert min(copied) > 0.9 * OBJECTS / 4
    _exact(source, sink, schema, plan)


def test_sequential_ids_are_sliced_and_a_slice_resumes_from_its_own_checkpoint(
    weaviate_client: weaviate.WeaviateClient, source: WeaviateSource, sink: MilvusSink, milvus_uri: str
) -> None:
    seed_articles(weaviate_client, n=4_000)
    schema, plan, slices = _plan(
        source, sink, milvus_uri, "Articles", SliceSettings(slices=4, min_slice_objects=1_000)
    )
    assert slices.method is SliceMethod.QUANTILES
    assert [s.work[0].range.before for s in slices.slices] == [
        uuid_of(1000),
        uuid_of(2000),
        uuid_of(3000),
        None,
    ]

    for piece in slices.slices:
        start = Checkpoint(collection="Articles")
        first = list(migrate(source, sink, schema, plan, start, 100, limit=350, work=piece.work))
        stopped = first[-1].checkpoint
        assert stopped.objects == 350
        rest = list(migrate(source, sink, schema, plan, stopped, 100, work=piece.work))
        assert rest[-1].checkpoint.objects == 1_000
        assert rest[0].checkpoint.objects == 450

    _exact(source, sink, schema, plan)
