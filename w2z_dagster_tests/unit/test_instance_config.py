"""The instance settings as shipped: the run queue lets collections run side by side, never one twice.

The dequeue decision is asked of Dagster's own queued-run daemon over runs stored in an instance loaded
from the repository's `dagster.yaml`, so the test proves the limits as the daemon applies them.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import yaml

# Private Dagster modules: the instance-config schema, run origins and the queued-run daemon, which have no
# public form that answers "which queued runs would be dequeued" without launching them.
from dagster._core.instance.config import dagster_instance_config
from dagster._core.remote_origin import RegisteredCodeLocationOrigin, RemoteJobOrigin, RemoteRepositoryOrigin
from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import QueuedRunCoordinatorDaemon

ROOT = Path(__file__).resolve().parents[2]
PARTITION_TAG = "dagster/partition"
COLLECTION_TAG = "dagster/partition/collection"
JOB = "migrate_collection_job"
ORIGIN = RemoteJobOrigin(
    RemoteRepositoryOrigin(RegisteredCodeLocationOrigin("w2z_dagster"), "__repository__"), JOB
)


@pytest.fixture
def shipped_instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dg.DagsterInstance]:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    shutil.copy(ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        yield instance


def _add_run(
    instance: dg.DagsterInstance, partition: str, status: dg.DagsterRunStatus, collection: str | None = None
) -> str:
    tags = {PARTITION_TAG: partition, **({COLLECTION_TAG: collection} if collection else {})}
    run = dg.DagsterRun(job_name=JOB, status=status, tags=tags, remote_job_origin=ORIGIN)
    return instance.add_run(run).run_id


def _dequeued(instance: dg.DagsterInstance) -> list[str]:
    daemon = QueuedRunCoordinatorDaemon(interval_seconds=1)
    # The daemon's own dequeue decision, asked without launching anything; Dagster has no public form of it.
    runs = daemon._get_runs_to_dequeue(instance, instance.get_concurrency_config(), fixed_iteration_time=None)  # noqa: SLF001
    return [run.tags[PARTITION_TAG] for run in runs]


def test_queue_limits_come_from_dagster_yaml(shipped_instance: dg.DagsterInstance) -> None:
    queue = shipped_instance.get_concurrency_config().run_queue_config
    assert queue is not None
    assert queue.max_concurrent_runs >= 2
    assert queue.tag_concurrency_limits == [
        {"key": PARTITION_TAG, "value": {"applyLimitPerUniqueValue": True}, "limit": 1},
        {"key": COLLECTION_TAG, "value": {"applyLimitPerUniqueValue": True}, "limit": 4},
    ]
    pools = shipped_instance.get_concurrency_config().pool_config
    assert (pools.pool_granularity.value, pools.default_pool_limit) == ("run", 4)
    assert shipped_instance.run_retries_enabled
    assert not shipped_instance.telemetry_enabled


def test_different_collections_start_together_but_a_collection_never_twice(
    shipped_instance: dg.DagsterInstance,
) -> None:
    limit = shipped_instance.get_concurrency_config().run_queue_config.max_concurrent_runs
    collections = [f"Collection{i}" for i in range(limit + 1)]
    for name in collections:
        _add_run(shipped_instance, name, dg.DagsterRunStatus.QUEUED)
        _add_run(shipped_instance, name, dg.DagsterRunStatus.QUEUED)

    assert _dequeued(shipped_instance) == collections[:limit]


def test_a_collection_already_running_waits_while_others_start(shipped_instance: dg.DagsterInstance) -> None:
    limit = shipped_instance.get_concurrency_config().run_queue_config.max_concurrent_runs
    _add_run(shipped_instance, "Articles", dg.DagsterRunStatus.STARTED)
    others = [f"Collection{i}" for i in range(limit)]
    _add_run(shipped_instance, "Articles", dg.DagsterRunStatus.QUEUED)
    for name in others:
        _add_run(shipped_instance, name, dg.DagsterRunStatus.QUEUED)

    assert _dequeued(shipped_instance) == others[: limit - 1]


def test_slices_of_one_collection_run_side_by_side_up_to_the_per_collection_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under the Kubernetes variant's run limit (8): four slices of one collection, then the others wait."""
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    shipped = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    shipped["concurrency"]["runs"]["max_concurrent_runs"] = 8
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(shipped))
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        for index in range(6):
            _add_run(instance, f"Big|{index}", dg.DagsterRunStatus.QUEUED, collection="Big")
        _add_run(instance, "Other|0", dg.DagsterRunStatus.QUEUED, collection="Other")

        assert _dequeued(instance) == ["Big|0", "Big|1", "Big|2", "Big|3", "Other|0"]


@pytest.mark.parametrize("variant", ["dagster.postgres.yaml", "dagster.k8s.yaml"])
def test_deployment_variants_are_valid_instance_config_with_the_same_per_collection_limit(
    variant: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "DAGSTER_PG_HOST": "db.internal",
        "DAGSTER_PG_PORT": "5432",
        "DAGSTER_PG_DB": "dagster",
        "DAGSTER_PG_USERNAME": "dagster",
        "DAGSTER_PG_PASSWORD": "secret",
    }.items():
        monkeypatch.setenv(name, value)
    shutil.copy(ROOT / "deploy" / variant, tmp_path / "dagster.yaml")

    config, _ = dagster_instance_config(str(tmp_path))

    shipped = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    assert "postgres" in config["storage"]
    assert (
        config["concurrency"]["runs"]["tag_concurrency_limits"]
        == (shipped["concurrency"]["runs"]["tag_concurrency_limits"])
    )
    assert config["concurrency"]["pools"] == shipped["concurrency"]["pools"]
    assert config["run_retries"] == shipped["run_retries"]
    assert config["telemetry"] == {"enabled": False}
