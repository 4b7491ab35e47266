"""A stateful, wire-compatible Weaviate written in Python, for tests and demos (never the product).

The real weaviate-client talks to it over REST and gRPC exactly as to a Weaviate 1.32 cluster with the
common modules enabled; `docs/testing.md` lists what is exact and what is faked (the embeddings).
"""

from .faults import FaultController
from .server import WeaviateTestServer, start_server

__all__ = ["FaultController", "WeaviateTestServer", "start_server"]
