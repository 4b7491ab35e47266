"""`make demo`'s migration step, without the UI: every demo collection migrated and verified."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from w2z_dagster_tests.ports import free_port
from w2z_dagster_tests.weaviate_server.seed import DEMO_COUNTS

ROOT = Path(__file__).resolve().parent.parent


def test_the_demo_migration_step_exits_zero_and_records_a_run_per_collection(tmp_path: Path) -> None:
    home = tmp_path / "dagster_home"
    ports = [str(free_port()) for _ in range(3)]
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    args = ["--no-ui", "--http-port", ports[0], "--grpc-port", ports[1], "--milvus-port", ports[2]]

    demo = subprocess.run(
        [sys.executable, "-m", "w2z_dagster_tests.demo", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )

    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs()
        assert sorted(r.tags["dagster/partition"] for r in runs) == sorted(DEMO_COUNTS)
        assert {r.status for r in runs} == {dg.DagsterRunStatus.SUCCESS}
