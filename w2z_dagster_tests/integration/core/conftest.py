"""The core's own reader and writer on the in-process servers, for tests that drive `core/` directly."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from w2z_dagster.core.retry import RetryPolicy
from w2z_dagster.core.sink import MilvusSink, open_sink
from w2z_dagster.core.source import WeaviateSource, open_source
from w2z_dagster_tests.support.weaviate_server import WeaviateTestServer

RETRY = RetryPolicy(2, 0.01)
"""Fast retries: the servers are in process, so a failure is a test's own fault injection."""


@pytest.fixture
def source(weaviate_server: WeaviateTestServer) -> Iterator[WeaviateSource]:
    with open_source(
        weaviate_server.http_url, f"http://{weaviate_server.host}:{weaviate_server.grpc_port}", None, RETRY
    ) as opened:
        yield opened


@pytest.fixture
def sink(milvus_uri: str) -> Iterator[MilvusSink]:
    with open_sink(milvus_uri, None, "default", RETRY) as opened:
        yield opened
