"""Issue 14's writer proof: one writer per collection, whatever starts the run.

CLI runs execute in process and bypass `dagster.yaml`'s one-run-per-partition limit, so the limit is
enforced by `migrated_batches` itself (`w2z_dagster.lib.run_guard`), against the instance's run records.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import dagster as dg
import pytest
import weaviate
from pymilvus import MilvusClient

from w2z_dagster.lib import run_guard
from w2z_dagster_tests.support.milvus_server import MilvusServer
from w2z_dagster_tests.support.seeding import seed_articles
from w2z_dagster_tests.support.weaviate_server import WeaviateTestServer

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
OBJECTS = 120
LATENCY = 0.2
"""Per Weaviate call while the first run must still be writing: 60 pages take it at least 12 s."""
WAIT_SECONDS = 120


def _env(tmp_path: Path, server: WeaviateTestServer, milvus: MilvusServer) -> dict[str, str]:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("WEAVIATE_", "ZILLIZ_", "MIGRATION_", "W2Z_", "DAGSTER_"))
    }
    return {
        **inherited,
        "PYTHONPATH": str(ROOT),
        "NO_PROXY": "127.0.0.1,localhost",
        "DAGSTER_HOME": str(home),
        "WEAVIATE_ENDPOINT": server.http_url,
        "WEAVIATE_GRPC_ENDPOINT": f"http://{server.host}:{server.grpc_port}",
        "ZILLIZ_CLOUD_URI": milvus.uri,
        "MIGRATION_RETRY_DELAY": "0.01",
    }


def _migrate(env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "w2z_dagster", "migrate", "-c", "Articles", "--batch-size", "2"],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _writer(instance: dg.DagsterInstance) -> dg.DagsterRun | None:
    """The run that claimed the partition, once it did (bounded polling of the run records)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        claimed = [r for r in instance.get_runs() if run_guard.WRITER_TAG in r.tags]
        if claimed:
            return claimed[0]
        time.sleep(0.1)
    return None


def test_a_second_migrate_of_a_collection_being_written_exits_1_with_one_line_and_the_copy_ends_exact(
    tmp_path: Path,
    weaviate_server: WeaviateTestServer,
    weaviate_client: weaviate.WeaviateClient,
    milvus_server: MilvusServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed_articles(weaviate_client, n=OBJECTS)
    env = _env(tmp_path, weaviate_server, milvus_server)
    monkeypatch.setenv("DAGSTER_HOME", env["DAGSTER_HOME"])
    instance = dg.DagsterInstance.from_config(env["DAGSTER_HOME"])
    weaviate_server.faults.set_latency(LATENCY)
    first = _migrate(env, tmp_path)
    try:
        writer = _writer(instance)
        assert writer is not None, "the first run never reached migrated_batches"

        second = subprocess.run(
            [sys.executable, "-m", "w2z_dagster", "migrate", "-c", "Articles", "--batch-size", "2"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=WAIT_SECONDS,
            check=False,
        )
        still_writing = first.poll() is None
    finally:
        weaviate_server.faults.clear()
        _, err = first.communicate(timeout=WAIT_SECONDS)

    assert still_writing, "the first run finished before the second one looked: raise LATENCY"
    assert second.returncode == 1, second.stderr[-3000:]
    closing = [line for line in second.stderr.splitlines() if "✗ Articles: failed: " in line]
    assert len(closing) == 1, second.stderr[-3000:]
    reason = closing[0].partition("✗ Articles: failed: ")[2]
    assert reason.startswith(
        f"ConcurrentRunError: run {writer.run_id} ({socket.gethostname()}/{first.pid}) is already writing "
        "collection 'Articles': wait for it to finish, or stop it (Terminate in the Dagster UI, Ctrl-C in "
        "its terminal) and migrate again in "
    ), reason
    assert first.returncode == 0, err[-3000:]
    client = MilvusClient(milvus_server.uri)
    try:
        assert client.query("Articles", filter="", output_fields=["count(*)"])[0]["count(*)"] == OBJECTS
    finally:
        client.close()
    runs = {r.run_id: r.status for r in instance.get_runs()}
    assert runs[writer.run_id] == dg.DagsterRunStatus.SUCCESS
    assert sorted(s.value for s in runs.values()) == ["FAILURE", "SUCCESS"]


def _started_run(instance: dg.DagsterInstance, partition: str, writer: str | None) -> str:
    tags = {run_guard.PARTITION_TAG: partition, **({run_guard.WRITER_TAG: writer} if writer else {})}
    run = dg.DagsterRun(
        job_name="__ASSET_JOB", run_id=str(uuid.uuid4()), status=dg.DagsterRunStatus.STARTED, tags=tags
    )
    instance.add_run(run)
    return run.run_id


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_only_a_live_writer_of_the_same_partition_blocks_a_run() -> None:
    here = f"{socket.gethostname()}/{os.getpid()}"
    with dg.instance_for_test() as instance:
        me = _started_run(instance, "Articles", None)
        _started_run(instance, "Articles", f"{socket.gethostname()}/{_dead_pid()}")
        _started_run(instance, "Other", here)
        _started_run(instance, "Articles", None)

        run_guard.claim_partition(instance, me, "Articles")

        assert instance.get_run_by_id(me).tags[run_guard.WRITER_TAG] == here
        with pytest.raises(run_guard.ConcurrentRunError) as refused:
            run_guard.claim_partition(instance, _started_run(instance, "Articles", None), "Articles")
        assert str(refused.value) == (
            f"run {me} ({here}) is already writing collection 'Articles': wait for it to finish, or stop it "
            "(Terminate in the Dagster UI, Ctrl-C in its terminal) and migrate again"
        )

        instance.delete_run(me)
        lost_pod = _started_run(instance, "Articles", "w2z-run-7f9c-pod/1")
        with pytest.raises(run_guard.ConcurrentRunError, match=f"^run {lost_pod} \\(w2z-run-7f9c-pod/1\\) "):
            run_guard.claim_partition(instance, _started_run(instance, "Articles", None), "Articles")
