"""Milvus Lite as its own server process, the way production reaches Milvus: over gRPC, in another process.

Tests that kill the migrating process, or inject faults between client and server, need the target to
outlive the client and to sit behind a real network hop.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from w2z_dagster_tests.support.ports import free_port

READY_WORDS = "gRPC server listening"


@dataclass
class MilvusServer:
    port: int
    process: subprocess.Popen[str]

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def milvus_lite_server(data_dir: Path) -> Iterator[MilvusServer]:
    """Start `milvus-lite server` on a free port; ready when it prints its listening line."""
    binary = shutil.which("milvus-lite", path=str(Path(sys.executable).parent)) or "milvus-lite"
    port = free_port()
    proc = subprocess.Popen(
        [binary, "server", "--data-dir", str(data_dir), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if READY_WORDS in line:
                break
        else:
            raise RuntimeError(f"milvus-lite server exited with code {proc.wait()} before listening")
        yield MilvusServer(port=port, process=proc)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def milvus_server(tmp_path: Path) -> Iterator[MilvusServer]:
    with milvus_lite_server(tmp_path / "milvus-data") as server:
        yield server
