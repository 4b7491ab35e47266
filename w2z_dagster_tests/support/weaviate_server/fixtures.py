"""Pytest fixtures: a fresh in-process server per test and a client connected to it.

Load with `pytest_plugins = ["w2z_dagster_tests.support.weaviate_server.fixtures"]` (or `-p`).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import weaviate

from .server import WeaviateTestServer, start_server


@pytest.fixture
def weaviate_server(request: pytest.FixtureRequest) -> Iterator[WeaviateTestServer]:
    """An empty server on free ports; seed it with `seed_demo()` or through a client.

    Parametrize indirectly with keyword arguments of `start_server` to change it, e.g.
    `@pytest.mark.parametrize("weaviate_server", [{"modules": ["text2vec-openai"]}], indirect=True)`.
    """
    server = start_server(**getattr(request, "param", {}))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def weaviate_client(weaviate_server: WeaviateTestServer) -> Iterator[weaviate.WeaviateClient]:
    client = weaviate_server.connect()
    try:
        yield client
    finally:
        client.close()
