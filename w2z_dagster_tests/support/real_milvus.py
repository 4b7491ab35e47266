"""A real C++ Milvus engine for the tests that Milvus Lite cannot answer: duplicates, consistency.

The `milvus` wheel from PyPI (2.3.5, "embedded Milvus") ships a standalone Milvus binary with embedded
etcd and local storage. One server serves the whole session (it takes seconds to start): every port on
a free one, its data under the session's tmp directory, start-up bounded in time, and stopped by its
pid at the end, with no process left behind. It predates nullable fields (Milvus 2.5), so the tests
using it create their own collections with schemas it supports. The wheel exists for Linux x86_64
only; elsewhere the tests using it are skipped with that reason.
"""

from __future__ import annotations

import platform
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from w2z_dagster_tests.support.ports import free_port

START_SECONDS = 120
STOP_SECONDS = 5
SUPPORTED = sys.platform == "linux" and platform.machine() == "x86_64"


@dataclass(frozen=True)
class RealMilvus:
    port: int
    pid: int
    data_dir: Path

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _stop(pid: int) -> None:
    """SIGTERM, then SIGKILL after STOP_SECONDS, for the server and anything it started."""
    try:
        process = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    family = [process, *process.children(recursive=True)]
    for member in family:
        member.terminate()
    _, alive = psutil.wait_procs(family, timeout=STOP_SECONDS)
    for member in alive:
        member.kill()
    psutil.wait_procs(alive, timeout=STOP_SECONDS)


@pytest.fixture(scope="session")
def real_milvus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealMilvus]:
    if not SUPPORTED:
        pytest.skip(
            f"the milvus wheel ships a Linux x86_64 binary only; this is {sys.platform} {platform.machine()}"
        )
    from milvus import MilvusServer, MilvusServerConfig

    data_dir = tmp_path_factory.mktemp("real-milvus")
    config = MilvusServerConfig()
    ports = {key: free_port() for key in config.configurable_items if key.endswith("_port")}
    server = MilvusServer(config, wait_for_started=False, data_dir=str(data_dir), **ports)
    server.start()
    pid = server.server_proc.pid
    try:
        server.wait_started(timeout=START_SECONDS * 1000)
        yield RealMilvus(port=server.listen_port, pid=pid, data_dir=data_dir)
    finally:
        _stop(pid)
        server.server_proc = None
        server.stop()
        assert not psutil.pid_exists(pid), f"the real Milvus server (pid {pid}) outlived its stop"
