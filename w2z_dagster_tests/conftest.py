"""Shared fixtures: a Weaviate source, a Milvus target, resources for both, and a Dagster instance.

By default the source is the in-process test server and the target a fresh Milvus Lite file. The
end-to-end tests (those using `source_client`) run against real servers instead when
`W2Z_TEST_WEAVIATE_ENDPOINT` (and optionally `W2Z_TEST_WEAVIATE_GRPC_ENDPOINT`,
`W2Z_TEST_WEAVIATE_API_KEY`) and `W2Z_TEST_MILVUS_URI` are set, e.g. the docker-compose services; they
empty those servers, so the session refuses to start without `W2Z_TEST_ALLOW_WIPE=1`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
import weaviate
from pymilvus import MilvusClient

from w2z_dagster.core.settings import derive_grpc_endpoint
from w2z_dagster.core.source import connect
from w2z_dagster.defs.io_managers import CATALOG, CatalogIOManager
from w2z_dagster.defs.resources import WeaviateResource, ZillizResource
from w2z_dagster_tests.support.real_servers import wipe_refusal

pytest_plugins = [
    "w2z_dagster_tests.support.weaviate_server.fixtures",
    "w2z_dagster_tests.support.milvus_server",
    "w2z_dagster_tests.support.real_milvus",
    "w2z_dagster_tests.support.stack",
]


def pytest_configure(config: pytest.Config) -> None:
    """Stops before any test when real servers are named without the opt-in, so none is emptied by mistake."""
    refusal = wipe_refusal(os.environ)
    if refusal:
        raise pytest.UsageError(refusal)


LONGEST_FIRST = (("dagster_dev", "browser"), ("slow", "real_milvus", "postgres"))
"""Marker tiers, longest files first: the `dagster dev` stacks, then the slow chains and servers."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files in order of their longest tier (system tests, whole subprocesses, first within one), so `make test`'s two workers (`--dist loadfile
    --no-loadscope-reorder`) start on the long files and finish on short ones. xdist's default order,
    most tests first, left the few long UI tests for one worker at the end, the other idle."""

    def tier(item: pytest.Item) -> int:
        marks = {m.name for m in item.iter_markers()}
        return next((i for i, names in enumerate(LONGEST_FIRST) if marks & set(names)), len(LONGEST_FIRST))

    of_file: dict[str, int] = {}
    for item in items:
        of_file[item.location[0]] = min(of_file.get(item.location[0], len(LONGEST_FIRST)), tier(item))
    items.sort(key=lambda item: (of_file[item.location[0]], "/system/" not in item.location[0]))


@dataclass(frozen=True)
class Source:
    endpoint: str
    grpc_endpoint: str
    api_key: str | None


@pytest.fixture
def source(request: pytest.FixtureRequest) -> Source:
    real = os.environ.get("W2Z_TEST_WEAVIATE_ENDPOINT")
    if real:
        grpc = os.environ.get("W2Z_TEST_WEAVIATE_GRPC_ENDPOINT") or derive_grpc_endpoint(real)
        return Source(real, grpc, os.environ.get("W2Z_TEST_WEAVIATE_API_KEY"))
    server = request.getfixturevalue("weaviate_server")
    return Source(server.http_url, f"http://{server.host}:{server.grpc_port}", server.api_key)


@pytest.fixture
def source_client(source: Source) -> Iterator[weaviate.WeaviateClient]:
    """A client of whichever source the test runs against; a real one is emptied first."""
    client = connect(source.endpoint, source.grpc_endpoint, source.api_key)
    if os.environ.get("W2Z_TEST_WEAVIATE_ENDPOINT"):
        client.collections.delete_all()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def milvus_uri(tmp_path: Path) -> str:
    real = os.environ.get("W2Z_TEST_MILVUS_URI")
    if not real:
        return str(tmp_path / "target.db")
    client = MilvusClient(real)
    for name in client.list_collections():
        client.drop_collection(name)
    client.close()
    return real


@pytest.fixture
def resources(
    source: Source, milvus_uri: str
) -> dict[str, dg.ConfigurableResource | dg.ConfigurableIOManager]:
    return {
        CATALOG: CatalogIOManager(),
        "weaviate": WeaviateResource(
            endpoint=source.endpoint,
            grpc_endpoint=source.grpc_endpoint,
            api_key=source.api_key,
            retry_delay=0.01,
        ),
        "zilliz": ZillizResource(uri=milvus_uri, retry_delay=0.01),
    }


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as inst:
        yield inst
