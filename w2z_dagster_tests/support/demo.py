"""`make demo`: the test Weaviate with demo data, Milvus Lite as a server, a migration, then the Dagster UI.

Each piece runs as its own process, as it would in production, so the UI's runs (launched in their own
processes by the daemon) and the CLI's migration all reach the same two databases.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from w2z_dagster.cli.home import prepare_home

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 60


def _wait_for_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"a demo service exited early with code {proc.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"nothing listens on port {port} after {STARTUP_SECONDS} s")


@contextmanager
def _service(cmd: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, start_new_session=True)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def _weaviate(stack: ExitStack, args: argparse.Namespace, env: dict[str, str]) -> None:
    cmd = [sys.executable, "-m", "w2z_dagster_tests.support.weaviate_server", "--host", "127.0.0.1"]
    cmd += ["--http-port", str(args.http_port), "--grpc-port", str(args.grpc_port), "--seed", "demo"]
    proc = stack.enter_context(_service(cmd, env))
    assert proc.stdout is not None
    line = proc.stdout.readline().decode().strip()
    if not line.startswith("ready"):
        raise SystemExit(f"the test Weaviate did not start: {line or 'no output'}")
    print(f"Weaviate test server {line}", flush=True)


def _milvus(stack: ExitStack, args: argparse.Namespace, env: dict[str, str], home: Path) -> None:
    milvus = shutil.which("milvus-lite", path=str(Path(sys.executable).parent)) or "milvus-lite"
    cmd = [milvus, "server", "--data-dir", str(home / "milvus"), "--host", "127.0.0.1"]
    cmd += ["--port", str(args.milvus_port)]
    _wait_for_port(args.milvus_port, stack.enter_context(_service(cmd, env)))
    print(f"Milvus Lite server on 127.0.0.1:{args.milvus_port}", flush=True)


def _environment(args: argparse.Namespace, home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "WEAVIATE_ENDPOINT": f"http://127.0.0.1:{args.http_port}",
        "WEAVIATE_GRPC_ENDPOINT": f"http://127.0.0.1:{args.grpc_port}",
        "ZILLIZ_CLOUD_URI": f"http://127.0.0.1:{args.milvus_port}",
        "NO_PROXY": "127.0.0.1,localhost",
    }


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _serve_ui(args: argparse.Namespace, env: dict[str, str]) -> int:
    """`dagster dev` in its own process group, so stopping it reaches its webserver, daemon and code servers."""
    cmd = [sys.executable, "-m", "dagster", "dev", "-w", str(ROOT / "workspace.yaml")]
    cmd += ["-h", "127.0.0.1", "-p", str(args.ui_port)]
    ui = subprocess.Popen(cmd, env=env, cwd=ROOT, start_new_session=True)
    try:
        return ui.wait()
    except KeyboardInterrupt:
        os.killpg(ui.pid, signal.SIGTERM)
        try:
            ui.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(ui.pid, signal.SIGKILL)
        return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--http-port", type=int, default=8080)
    parser.add_argument("--grpc-port", type=int, default=50051)
    parser.add_argument("--milvus-port", type=int, default=19530)
    parser.add_argument("--ui-port", type=int, default=3000)
    parser.add_argument("--no-ui", action="store_true", help="stop after the migration step")
    args = parser.parse_args(argv)
    home = prepare_home(Path(os.environ.get("DAGSTER_HOME") or ROOT / ".dagster_home").resolve())
    env = _environment(args, home)
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    with ExitStack() as stack:
        _weaviate(stack, args, env)
        _milvus(stack, args, env, home)
        migrated = subprocess.run(
            [sys.executable, "-m", "w2z_dagster", "migrate"], env=env, cwd=ROOT, check=False
        )
        if args.no_ui:
            return migrated.returncode
        print(f"Dagster UI on http://127.0.0.1:{args.ui_port} (Ctrl-C stops everything)", flush=True)
        return _serve_ui(args, env)


if __name__ == "__main__":
    raise SystemExit(main())
