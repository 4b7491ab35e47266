"""Issue 5's bad-input table: each mistake stops the run with one line saying what and how to fix it,
before anything is written to the target."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import dagster as dg
import pytest
from pymilvus import MilvusClient

from w2z_dagster.defs.io_managers import CATALOG, CatalogIOManager
from w2z_dagster.defs.resources import WeaviateResource, ZillizResource
from w2z_dagster_tests.support.milvus_proxy import FaultyMilvusProxy, faulty_proxy
from w2z_dagster_tests.support.milvus_server import MilvusServer
from w2z_dagster_tests.support.ports import free_port
from w2z_dagster_tests.support.seeding import ASSETS, seed_articles
from w2z_dagster_tests.support.weaviate_server import WeaviateTestServer, start_server

pytestmark = pytest.mark.slow

WEAVIATE_KEY = "weaviate-secret-key"
ZILLIZ_KEY = "zilliz-secret-token"


@dataclass
class World:
    weaviate: WeaviateTestServer
    proxy: FaultyMilvusProxy
    milvus: MilvusServer
    partition: str = "Articles"
    config: dict = field(default_factory=dict)
    weaviate_overrides: dict = field(default_factory=dict)
    zilliz_overrides: dict = field(default_factory=dict)

    def resources(self) -> dict[str, dg.ConfigurableResource | dg.ConfigurableIOManager]:
        weaviate = {
            "endpoint": self.weaviate.http_url,
            "grpc_endpoint": f"http://127.0.0.1:{self.weaviate.grpc_port}",
            "api_key": WEAVIATE_KEY,
            "max_retries": 1,
            "retry_delay": 0.01,
        }
        zilliz = {"uri": self.proxy.uri, "api_key": ZILLIZ_KEY, "max_retries": 1, "retry_delay": 0.01}
        return {
            CATALOG: CatalogIOManager(),
            "weaviate": WeaviateResource(**{**weaviate, **self.weaviate_overrides}),
            "zilliz": ZillizResource(**{**zilliz, **self.zilliz_overrides}),
        }


@pytest.fixture
def world(milvus_server: MilvusServer) -> Iterator[World]:
    server = start_server(host="127.0.0.1", api_key=WEAVIATE_KEY)
    try:
        with server.connect() as client:
            seed_articles(client, n=12)
        with faulty_proxy(milvus_server.uri, token=ZILLIZ_KEY) as proxy:
            yield World(weaviate=server, proxy=proxy, milvus=milvus_server)
    finally:
        server.stop()


def _existing_target_with_another_schema(world: World) -> None:
    client = MilvusClient(world.milvus.uri)
    client.create_collection("Articles", dimension=3)
    client.insert("Articles", [{"id": 1, "vector": [0.1, 0.2, 0.3]}])


def _old_target(world: World) -> None:
    world.proxy.version = "v2.3.1"


CASES: list[tuple[str, Callable[[World], None], str]] = [
    (
        "weaviate unreachable",
        lambda w: w.weaviate_overrides.update(endpoint=f"http://127.0.0.1:{free_port()}"),
        "cannot reach Weaviate at http://127.0.0.1:{port} (gRPC http://127.0.0.1:{grpc}): check "
        "WEAVIATE_ENDPOINT and WEAVIATE_GRPC_ENDPOINT",
    ),
    (
        "weaviate key wrong",
        lambda w: w.weaviate_overrides.update(api_key="wrong"),
        "Weaviate at {weaviate} refused the credentials (HTTP 401): check WEAVIATE_API_KEY",
    ),
    (
        "weaviate key missing",
        lambda w: w.weaviate_overrides.update(api_key=None),
        "Weaviate at {weaviate} refused the credentials (HTTP 401): check WEAVIATE_API_KEY",
    ),
    (
        "unknown collection",
        lambda w: setattr(w, "partition", "Nope"),
        "collection 'Nope' does not exist in Weaviate (collections: Articles)",
    ),
    (
        "batch size zero",
        lambda w: w.config.update(batch_size=0),
        "batch size 0 is out of range: use a value from 1 to 10000 (MIGRATION_BATCH_SIZE or --batch-size)",
    ),
    (
        "batch size too large",
        lambda w: w.config.update(batch_size=10_001),
        "batch size 10001 is out of range: use a value from 1 to 10000 (MIGRATION_BATCH_SIZE or --batch-size)",
    ),
    (
        "target unreachable",
        lambda w: w.zilliz_overrides.update(uri=f"http://127.0.0.1:{free_port()}"),
        "cannot reach the target at {uri}: check ZILLIZ_CLOUD_URI",
    ),
    (
        "target key wrong",
        lambda w: w.zilliz_overrides.update(api_key="wrong"),
        "the target at {proxy} refused the credentials: check ZILLIZ_CLOUD_API_KEY",
    ),
    (
        "target key missing",
        lambda w: w.zilliz_overrides.update(api_key=None),
        "the target at {proxy} refused the credentials: check ZILLIZ_CLOUD_API_KEY",
    ),
    (
        "target database missing",
        lambda w: w.zilliz_overrides.update(database="analytics"),
        "database 'analytics' does not exist on the target: create it or set ZILLIZ_CLOUD_DATABASE",
    ),
    (
        "target too old",
        _old_target,
        "the target runs v2.3.1, older than Milvus 2.5 which w2z needs (nullable fields): upgrade the cluster "
        "or migrate into a newer one",
    ),
    (
        "existing target schema differs",
        _existing_target_with_another_schema,
        "target collection 'Articles' exists with a different schema (",
    ),
]


def _cause(result: dg.ExecuteInProcessResult) -> str:
    """The first error below Dagster's own wrapper: what the user reads under the step failure."""
    failure = next(e for e in result.all_events if e.is_step_failure).step_failure_data.error
    while failure.cls_name.startswith("Dagster") and failure.cause is not None:
        failure = failure.cause
    return failure.message.split(": ", 1)[1].strip()


def _target_state(uri: str) -> dict[str, int]:
    client = MilvusClient(uri)
    return {
        name: client.query(name, filter="", output_fields=["count(*)"])[0]["count(*)"]
        for name in client.list_collections()
    }


@pytest.mark.parametrize(("mistake", "make", "message"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_fails_before_writing_with_one_clear_line(
    world: World, instance: dg.DagsterInstance, mistake: str, make: Callable[[World], None], message: str
) -> None:
    make(world)
    instance.add_dynamic_partitions("weaviate_collections", [world.partition])
    before = _target_state(world.milvus.uri)

    result = dg.materialize(
        ASSETS,
        partition_key=world.partition,
        instance=instance,
        resources=world.resources(),
        run_config={"ops": {"migrated_batches": {"config": world.config}}} if world.config else None,
        raise_on_error=False,
    )

    assert not result.success
    resources = world.resources()
    expected = message.format(
        weaviate=resources["weaviate"].endpoint,
        port=resources["weaviate"].endpoint.rsplit(":", 1)[1],
        grpc=world.weaviate.grpc_port,
        uri=resources["zilliz"].uri,
        proxy=world.proxy.uri,
    )
    cause = _cause(result)
    assert cause.startswith(expected) and "\n" not in cause, cause
    assert _target_state(world.milvus.uri) == before
    assert not result.asset_materializations_for_node("migrated_batches")
