"""The benchmark's server processes: the preloaded test Weaviate, Milvus Lite, the delaying proxy.

Each is its own process, so that neither its memory nor its CPU is counted as a scenario's, and its own
CPU time can be read from outside.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

from w2z_dagster_tests.support.milvus_server import milvus_lite_server

ROOT = Path(__file__).resolve().parent.parent


def cpu_seconds(pid: int) -> float:
    """User plus system time of a process, all its threads included."""
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


QUIET_CPU = 0.05
"""Below this share of one core over a sampling window, a server counts as having nothing left to do."""
QUIET_WINDOW_S = 0.25


class QuietClock:
    """Samples a server's CPU from a thread, to tell afterwards when it went quiet.

    Milvus Lite acknowledges writes before it has indexed them and builds segment indexes afterwards,
    on both cores, for a while; `after(t)` is when the work left at `t` was done. Sampling from before
    `t` means a scenario process that takes its time to exit does not delay the answer.
    """

    def __init__(self, pid: int) -> None:
        self._pid = pid
        self._windows: list[tuple[float, bool]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="bench-quiet-clock", daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            start, cpu = time.time(), cpu_seconds(self._pid)
            self._stop.wait(QUIET_WINDOW_S)
            busy = (cpu_seconds(self._pid) - cpu) / (time.time() - start)
            self._windows.append((start, busy < QUIET_CPU))

    def after(self, t: float, timeout_s: float = 600.0) -> float:
        """The start of the first two quiet windows in a row that begin no earlier than `t`."""
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            windows = [w for w in list(self._windows) if w[0] >= t - QUIET_WINDOW_S]
            for (start, quiet), (_, next_quiet) in itertools.pairwise(windows):
                if quiet and next_quiet:
                    return max(start, t)
            time.sleep(QUIET_WINDOW_S)
        raise RuntimeError(f"process {self._pid} stayed busy for {timeout_s:.0f} s")

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


@contextmanager
def _process(args: Sequence[str]) -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    """A Python child that prints `ready key=value ...` once serving; stopped by closing stdin, then SIGTERM."""
    proc = subprocess.Popen(
        [sys.executable, *args], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("ready"):
            raise RuntimeError(f"{' '.join(args)} did not start (exit {proc.wait()})")
        yield proc, dict(part.split("=", 1) for part in line.split()[1:])
    finally:
        if proc.stdin:
            proc.stdin.close()
        proc.terminate()
        proc.wait(timeout=30)


class Weaviate:
    """The source server process, its addresses and its latency control."""

    def __init__(self, proc: subprocess.Popen[str], ports: dict[str, str]) -> None:
        self._proc = proc
        self.pid = proc.pid
        self.http = f"http://127.0.0.1:{ports['http']}"
        self.grpc = f"http://127.0.0.1:{ports['grpc']}"

    def set_latency(self, seconds: float) -> None:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(f"latency {seconds}\n")
        self._proc.stdin.flush()
        if self._proc.stdout.readline().strip() != "ok":
            raise RuntimeError("the Weaviate process did not accept the latency")


@contextmanager
def weaviate(objects: int, dim: int) -> Iterator[Weaviate]:
    args = ["-m", "benchmarks.weaviate_process", "--objects", str(objects), "--dim", str(dim)]
    with _process(args) as (proc, ports):
        yield Weaviate(proc, ports)


@dataclass
class Milvus:
    uri: str
    pid: int


@contextmanager
def milvus(latency: float) -> Iterator[Milvus]:
    """A fresh Milvus Lite server, behind a delaying proxy when `latency` is set."""
    with ExitStack() as stack:
        data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="w2z-bench-milvus-")))
        server = stack.enter_context(milvus_lite_server(data_dir))
        if not latency:
            yield Milvus(server.uri, server.process.pid)
            return
        upstream = server.uri.split("://", 1)[1]
        args = ["-m", "benchmarks.latency_proxy", "--upstream", upstream, "--latency", str(latency)]
        _, ports = stack.enter_context(_process(args))
        yield Milvus(f"http://127.0.0.1:{ports['port']}", server.process.pid)
