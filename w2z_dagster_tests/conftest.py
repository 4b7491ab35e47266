"""Shared fixtures: the in-process Weaviate test server, a Milvus Lite target, and resources for both."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from w2z_dagster.resources import WeaviateResource, ZillizResource
from w2z_dagster_tests.weaviate_server import WeaviateTestServer

pytest_plugins = ["w2z_dagster_tests.weaviate_server.fixtures", "w2z_dagster_tests.milvus_server"]


@pytest.fixture
def milvus_uri(tmp_path: Path) -> str:
    return str(tmp_path / "target.db")


@pytest.fixture
def resources(weaviate_server: WeaviateTestServer, milvus_uri: str) -> dict[str, dg.ConfigurableResource]:
    return {
        "weaviate": WeaviateResource(
            endpoint=weaviate_server.http_url,
            grpc_endpoint=f"http://{weaviate_server.host}:{weaviate_server.grpc_port}",
            api_key=weaviate_server.api_key,
            retry_delay=0.01,
        ),
        "zilliz": ZillizResource(uri=milvus_uri, retry_delay=0.01),
    }


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as inst:
        yield inst
