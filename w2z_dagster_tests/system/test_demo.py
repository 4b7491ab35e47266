"""The README's first commands, run as a new user types them: `make demo-migrate` and `make demo`.

Both go through the Makefile itself, so a recipe naming a module that does not exist fails here.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import psutil
import pytest

from w2z_dagster_tests.support.ports import free_port
from w2z_dagster_tests.support.weaviate_server.seed import DEMO_COUNTS

pytestmark = pytest.mark.dagster_dev

ROOT = Path(__file__).resolve().parents[2]
UI_SECONDS = 300
RUNS_QUERY = "{ runsOrError { ... on Runs { results { status tags { key value } } } } }"


def _make(target: str, home: Path, ports: dict[str, int]) -> tuple[list[str], dict[str, str]]:
    """The command and environment of `make TARGET` in the repository, as from a user's shell."""
    inherited = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MAKELEVEL", "MFLAGS"}}
    variables = [f"DEMO_{name.upper()}_PORT={port}" for name, port in ports.items()]
    return ["make", "--no-print-directory", target, *variables], {**inherited, "DAGSTER_HOME": str(home)}


def _partitions_and_statuses(runs: list[dict[str, object]]) -> list[tuple[str, str]]:
    def partition(run: dict[str, object]) -> str:
        tags = run["tags"]
        assert isinstance(tags, list)
        return next(t["value"] for t in tags if t["key"] == "dagster/partition")

    return sorted((partition(r), str(r["status"])) for r in runs)


def _ui_runs(port: int) -> list[dict[str, object]] | None:
    """The runs the UI lists, or None while it does not answer yet."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": RUNS_QUERY}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.load(response)["data"]["runsOrError"]["results"]
    except OSError:
        return None


def _descendants(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)


def _alive(procs: list[psutil.Process]) -> list[str]:
    """Processes still running; `is_running` compares start times, so a reused pid does not count."""
    return [f"{p.pid} {p.name()}" for p in procs if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


@pytest.fixture
def ports() -> dict[str, int]:
    return {name: free_port() for name in ("http", "grpc", "milvus", "ui")}


@pytest.fixture
def make_demo(tmp_path: Path, ports: dict[str, int]) -> Iterator[subprocess.Popen[str]]:
    """`make demo` in its own session, so whatever it leaves behind can be found and ended."""
    cmd, env = _make("demo", tmp_path / "dagster_home", ports)
    make = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        yield make
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
        make.wait()


def test_make_demo_migrate_migrates_every_demo_collection_and_exits_zero(
    tmp_path: Path, ports: dict[str, int]
) -> None:
    home = tmp_path / "dagster_home"
    del ports["ui"]
    cmd, env = _make("demo-migrate", home, ports)

    demo = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)

    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    assert "Telemetry" not in demo.stdout + demo.stderr
    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs()
        assert sorted(r.tags["dagster/partition"] for r in runs) == sorted(DEMO_COUNTS)
        assert {r.status for r in runs} == {dg.DagsterRunStatus.SUCCESS}


def test_make_demo_serves_green_runs_and_sigterm_to_make_stops_everything_it_started(
    make_demo: subprocess.Popen[str], ports: dict[str, int]
) -> None:
    deadline = time.monotonic() + UI_SECONDS
    runs = None
    while runs is None and make_demo.poll() is None and time.monotonic() < deadline:
        runs = _ui_runs(ports["ui"])
        time.sleep(0.5)
    assert runs is not None, f"the UI did not answer on :{ports['ui']}"
    started = _descendants(make_demo.pid)
    programs = {_program(p) for p in started}

    os.kill(make_demo.pid, signal.SIGTERM)
    make_demo.wait(timeout=120)

    assert _partitions_and_statuses(runs) == sorted((name, "SUCCESS") for name in DEMO_COUNTS)
    assert {"weaviate_server", "milvus-lite", "dagster"} <= programs
    assert _alive(started) == []


def _program(proc: psutil.Process) -> str:
    """What a demo process is: the module it runs, or else its script's name (not the interpreter's)."""
    args = proc.cmdline()
    if "-m" in args:
        return args[args.index("-m") + 1].rsplit(".", 1)[-1]
    return next((Path(a).name for a in args if not Path(a).name.startswith("python")), "")
