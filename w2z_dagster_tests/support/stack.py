"""The product as `make demo` runs it, for tests that operate Dagster the way the UI does.

The test Weaviate runs in this process (so a test can inject faults), Milvus Lite and `dagster dev`
(webserver, daemon, code server) run as subprocesses, and every run is launched by the daemon in its own
process, exactly as in production. One stack serves the whole session: starting `dagster dev` costs
tens of seconds. Load it with `pytest_plugins = ["w2z_dagster_tests.support.stack"]` and import nothing else
from here at run time: a module imported before pytest registers it as a plugin escapes assertion
rewriting (PytestAssertRewriteWarning).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from w2z_dagster.defs.partitions import collections_partitions
from w2z_dagster_tests.support.ports import free_port
from w2z_dagster_tests.support.weaviate_server import WeaviateTestServer, start_server

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 120
DISCOVERY_SECONDS = 90
STOP_SECONDS = 30
POLL_SECONDS = 0.5
LOCAL = "127.0.0.1"

T = TypeVar("T")

LOCATIONS = """
{
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError { __typename ... on PythonError { message } }
      }
    }
    ... on PythonError { message }
  }
}
"""

ASSET_PARTITION_KEYS = """
{
  assetNodeOrError(assetKey: {path: ["source_schema"]}) {
    __typename
    ... on AssetNode { partitionKeys }
  }
}
"""


class StackError(RuntimeError):
    """A piece of the stack failed to start or answer; the message carries its log."""


def poll(what: str, probe: Callable[[], T | None], seconds: float) -> T:
    """Bounded polling of a status: the probe's first non-None answer, or a failure naming what waited."""
    deadline = time.monotonic() + seconds
    while True:
        answer = probe()
        if answer is not None:
            return answer
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {seconds:.0f} s waiting for {what}")
        time.sleep(POLL_SECONDS)


@dataclass
class Stack:
    weaviate: WeaviateTestServer
    ui_url: str
    milvus_uri: str
    home: Path
    log: Path

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """One request as the UI sends it; GraphQL-level errors fail the caller at once."""
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(
            f"{self.ui_url}/graphql", data=body, headers={"Content-Type": "application/json"}
        )
        with _opener().open(request, timeout=60) as response:
            payload = json.loads(response.read())
        if payload.get("errors"):
            raise StackError(f"GraphQL errors: {payload['errors']}")
        return payload["data"]

    def poll(self, what: str, probe: Callable[[], T | None], seconds: float) -> T:
        """`poll` with the end of the `dagster dev` log in a timeout: that is where the daemon says why."""
        try:
            return poll(what, probe, seconds)
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}\n--- end of {self.log} ---\n{self.log_tail()}") from exc

    def partition_keys(self) -> list[str]:
        node = self.graphql(ASSET_PARTITION_KEYS)["assetNodeOrError"]
        return list(node.get("partitionKeys") or [])

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


def _opener() -> urllib.request.OpenerDirector:
    """No proxy: a CI proxy must never see requests to 127.0.0.1."""
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _answers(url: str) -> bool:
    try:
        with _opener().open(url, timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _listens(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((LOCAL, port)) == 0


@contextmanager
def _process(cmd: Sequence[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Its own process group, so stopping it reaches every child (webserver, daemon, code server, runs)."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            list(cmd), env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            yield proc
        finally:
            _stop_group(proc)


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM lets `dagster dev` stop its children cleanly; SIGKILL ends whatever is left of the group."""
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=STOP_SECONDS)
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _alive(proc: subprocess.Popen[bytes], what: str, log: Path) -> None:
    if proc.poll() is not None:
        tail = log.read_text(errors="replace")[-4000:]
        raise StackError(f"{what} exited with code {proc.returncode}:\n{tail}")


def _milvus(stack: ExitStack, home: Path, env: dict[str, str]) -> str:
    port = free_port()
    log = home / "milvus.log"
    binary = Path(sys.executable).parent / "milvus-lite"
    cmd = [str(binary), "server", "--data-dir", str(home / "milvus"), "--host", LOCAL, "--port", str(port)]
    proc = stack.enter_context(_process(cmd, env, log))

    def ready() -> bool | None:
        _alive(proc, "milvus-lite server", log)
        return _listens(port) or None

    poll(f"milvus-lite on port {port}", ready, STARTUP_SECONDS)
    return f"http://{LOCAL}:{port}"


def _loaded(candidate: Stack, proc: subprocess.Popen[bytes]) -> bool | None:
    _alive(proc, "dagster dev", candidate.log)
    if not _answers(f"{candidate.ui_url}/server_info"):
        return None
    workspace = candidate.graphql(LOCATIONS)["workspaceOrError"]
    entries = workspace.get("locationEntries") or []
    for entry in entries:
        error = entry["locationOrLoadError"]
        if error and error["__typename"] == "PythonError":
            raise StackError(f"code location {entry['name']} failed to load: {error['message']}")
    loaded = bool(entries) and all(e["loadStatus"] == "LOADED" for e in entries)
    return loaded or None


@contextmanager
def running_stack(home: Path) -> Iterator[Stack]:
    """Weaviate (demo data) + Milvus Lite + `dagster dev` on free ports, with the repository's dagster.yaml."""
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    with ExitStack() as stack:
        weaviate = stack.enter_context(start_server(LOCAL, seed="demo"))
        env = {
            **os.environ,
            "DAGSTER_HOME": str(home),
            "WEAVIATE_ENDPOINT": weaviate.http_url,
            "WEAVIATE_GRPC_ENDPOINT": f"http://{LOCAL}:{weaviate.grpc_port}",
            "W2Z_INCLUDE_COLLECTIONS": "*",
            "W2Z_EXCLUDE_COLLECTIONS": "",
            "NO_PROXY": f"{LOCAL},localhost",
            "no_proxy": f"{LOCAL},localhost",
        }
        env["ZILLIZ_CLOUD_URI"] = milvus_uri = _milvus(stack, home, env)
        port = free_port()
        log = home / "dagster-dev.log"
        cmd = [sys.executable, "-m", "dagster", "dev", "-w", str(ROOT / "workspace.yaml")]
        proc = stack.enter_context(_process([*cmd, "-h", LOCAL, "-p", str(port)], env, log))
        result = Stack(weaviate, f"http://{LOCAL}:{port}", milvus_uri, home, log)
        poll("the Dagster UI and its code location", lambda: _loaded(result, proc), STARTUP_SECONDS)
        yield result


@pytest.fixture(scope="session")
def dagster_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Ready once the discovery sensor has registered every demo collection as a partition."""
    with running_stack(tmp_path_factory.mktemp("stack")) as stack:
        with stack.weaviate.connect() as client:
            collections = sorted(client.collections.list_all())
        stack.poll(
            f"the discovery sensor to add {collections} to {collections_partitions.name}",
            lambda: sorted(stack.partition_keys()) == collections or None,
            DISCOVERY_SECONDS,
        )
        yield stack
