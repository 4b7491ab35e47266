"""Start and stop the REST and gRPC servers in background threads of the current process."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from types import TracebackType
from typing import Literal

import grpc
import weaviate
from weaviate.classes.init import AdditionalConfig, Auth, GrpcConfig

from .faults import FaultController
from .grpc_service import GRPC_METHODS, WeaviateGrpc
from .modules import enabled_modules
from .rest import GRPC_MAX_MESSAGE_SIZE, ROUTE_KEYS, VERSION, HttpServer, RestApi
from .seed import seed_demo
from .store import Store

Seed = Literal["demo"] | None


@dataclass
class WeaviateTestServer:
    """A running server; `connect()` hands out real weaviate-client connections to it."""

    host: str
    http_port: int
    grpc_port: int
    api_key: str | None
    store: Store
    faults: FaultController
    _grpc: grpc.Server = field(repr=False)
    _http: HttpServer = field(repr=False)
    _http_thread: threading.Thread = field(repr=False)
    _executor: ThreadPoolExecutor = field(repr=False)

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.http_port}"

    def connect(self, *, skip_init_checks: bool = True) -> weaviate.WeaviateClient:
        """A connected client (the caller closes it).

        Init checks are skipped by default: they add a PyPI request that can stall offline.
        The HTTP proxy is disabled for the gRPC channel so CI proxies never see 127.0.0.1.
        """
        return weaviate.connect_to_custom(
            http_host=self.host,
            http_port=self.http_port,
            http_secure=False,
            grpc_host=self.host,
            grpc_port=self.grpc_port,
            grpc_secure=False,
            auth_credentials=Auth.api_key(self.api_key) if self.api_key else None,
            additional_config=AdditionalConfig(
                grpc_config=GrpcConfig(channel_options=[("grpc.enable_http_proxy", 0)])
            ),
            skip_init_checks=skip_init_checks,
        )

    def seed_demo(self) -> None:
        seed_demo(self.store)

    def stop(self) -> None:
        """Stop both servers and join every thread they started."""
        self._http.shutdown()
        self._http.close_connections()
        self._http.server_close()
        self._http_thread.join()
        self._grpc.stop(grace=None).wait()
        self._executor.shutdown(wait=True)

    def __enter__(self) -> WeaviateTestServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def start_server(
    host: str = "127.0.0.1",
    http_port: int = 0,
    grpc_port: int = 0,
    api_key: str | None = None,
    seed: Seed = None,
    *,
    modules: Iterable[str] | None = None,
    version: str = VERSION,
    max_workers: int = 16,
) -> WeaviateTestServer:
    """Start a server; port 0 picks a free port (read the real one from the returned object).

    `modules` names the enabled modules (None: the default cloud-like set of `modules.CATALOG`).
    `version` is what `/v1/meta` reports; the client gates some features on it (`and_cross` needs
    1.37.15, 1.38.8 or 1.39.0).
    """
    if seed not in (None, "demo"):
        raise ValueError(f"unknown seed {seed!r}; only 'demo' is available")
    store = Store(enabled_modules(modules))
    faults = FaultController([*GRPC_METHODS, *ROUTE_KEYS])
    if seed == "demo":
        seed_demo(store)
    executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="w2z-weaviate-grpc")
    grpc_server = grpc.server(
        executor,
        handlers=WeaviateGrpc(store, faults, api_key).handlers(),
        options=[
            ("grpc.so_reuseport", 0),
            ("grpc.max_receive_message_length", GRPC_MAX_MESSAGE_SIZE),
            ("grpc.max_send_message_length", GRPC_MAX_MESSAGE_SIZE),
        ],
    )
    try:
        bound_grpc = grpc_server.add_insecure_port(f"{host}:{grpc_port}")
        api = RestApi(store, faults, api_key, host, version)
        http = HttpServer((host, http_port), api)
    except Exception:
        grpc_server.stop(None)
        executor.shutdown(wait=False)
        raise
    api.http_port = http.server_address[1]
    grpc_server.start()
    thread = threading.Thread(
        target=http.serve_forever, kwargs={"poll_interval": 0.05}, name="w2z-weaviate-http", daemon=True
    )
    thread.start()
    return WeaviateTestServer(
        host=host,
        http_port=api.http_port,
        grpc_port=bound_grpc,
        api_key=api_key,
        store=store,
        faults=faults,
        _grpc=grpc_server,
        _http=http,
        _http_thread=thread,
        _executor=executor,
    )
