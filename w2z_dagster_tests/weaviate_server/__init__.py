"""A stateful, wire-compatible Weaviate written in Python, for tests and demos (never the product).

The real weaviate-client talks to it over REST and gRPC exactly as to a Weaviate 1.32 cluster.
"""

from .faults import FaultController
from .server import WeaviateTestServer, start_server

__all__ = ["FaultController", "WeaviateTestServer", "start_server"]
