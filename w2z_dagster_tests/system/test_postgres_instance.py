"""The production instance variant: a migration on `deploy/dagster.postgres.yaml` against a real PostgreSQL.

The run and every checkpoint must be in PostgreSQL, readable by any other process that opens the same
instance; that is what lets a shared webserver, daemon and run workers resume each other's work.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import psycopg2
import pytest
import weaviate
import weaviate.classes.config as wc
from weaviate.classes.data import DataObject

from w2z_dagster.core.checkpoint import Checkpoint, CheckpointStatus
from w2z_dagster.defs.assets import migrated_batches, source_schema, verification_report, zilliz_collection
from w2z_dagster.defs.partitions import collections_partitions
from w2z_dagster.lib.metadata import CheckpointMetadataSet
from w2z_dagster_tests.support.postgres import (
    PostgresServer,
    PostgresUnavailableError,
    bin_dir,
    running_postgres,
)

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
ASSETS = [source_schema, zilliz_collection, migrated_batches, verification_report]
COLLECTION = "Articles"
OBJECTS = 12
BATCH_SIZE = 5


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """Missing binaries fail the suite, never skip it: CI installs them (.ci/system-deps)."""
    try:
        bin_dir()
    except PostgresUnavailableError as exc:
        pytest.fail(str(exc))
    with running_postgres() as server:
        yield server


@pytest.fixture
def postgres_home(postgres: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shipped variant, unchanged, with its credentials in the environment as a deployment sets them."""
    monkeypatch.setenv("DAGSTER_PG_HOST", postgres.host)
    monkeypatch.setenv("DAGSTER_PG_PORT", str(postgres.port))
    monkeypatch.setenv("DAGSTER_PG_DB", postgres.database)
    monkeypatch.setenv("DAGSTER_PG_USERNAME", postgres.user)
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", postgres.password)
    shutil.copy(ROOT / "deploy" / "dagster.postgres.yaml", tmp_path / "dagster.yaml")
    return tmp_path


def _seed(client: weaviate.WeaviateClient) -> None:
    articles = client.collections.create(
        COLLECTION,
        properties=[wc.Property(name="title", data_type=wc.DataType.TEXT)],
        vector_config=wc.Configure.Vectors.self_provided(),
    )
    articles.data.insert_many(
        [
            DataObject(
                properties={"title": f"article {i}"},
                uuid=f"00000000-0000-0000-0000-{i:012d}",
                vector=[float(i), 1.0, 0.5, 0.25],
            )
            for i in range(OBJECTS)
        ]
    )


def test_a_migration_records_its_run_and_checkpoints_in_postgres(
    postgres: PostgresServer,
    postgres_home: Path,
    weaviate_client: weaviate.WeaviateClient,
    resources: dict[str, dg.ConfigurableResource],
) -> None:
    _seed(weaviate_client)
    with dg.DagsterInstance.from_config(str(postgres_home)) as instance:
        instance.add_dynamic_partitions(collections_partitions.name, [COLLECTION])
        result = dg.materialize(
            ASSETS,
            partition_key=COLLECTION,
            instance=instance,
            resources=resources,
            run_config={
                "ops": {
                    "migrated_batches": {
                        "config": {"batch_size": BATCH_SIZE, "checkpoint_interval_seconds": 0}
                    }
                }
            },
        )
    assert result.success

    with dg.DagsterInstance.from_config(str(postgres_home)) as reopened:
        run = reopened.get_run_by_id(result.run_id)
        observations = reopened.fetch_observations(
            dg.AssetRecordsFilter(asset_key=migrated_batches.key, asset_partitions=[COLLECTION]), limit=100
        ).records
    assert run is not None and run.status == dg.DagsterRunStatus.SUCCESS
    checkpoints = [
        Checkpoint.model_validate(
            CheckpointMetadataSet.extract(r.asset_observation.metadata).checkpoint.value
        )
        for r in reversed(observations)
    ]
    assert [(c.objects, c.batches, c.status) for c in checkpoints] == [
        (5, 1, CheckpointStatus.RUNNING),
        (10, 2, CheckpointStatus.RUNNING),
        (12, 3, CheckpointStatus.RUNNING),
        (12, 3, CheckpointStatus.COMPLETE),
    ]
    assert {r.run_id for r in observations} == {result.run_id}

    with psycopg2.connect(postgres.url) as conn, conn.cursor() as cur:
        cur.execute("SELECT status FROM runs WHERE run_id = %s", (result.run_id,))
        assert cur.fetchall() == [("SUCCESS",)]
        cur.execute(
            "SELECT count(*) FROM event_logs WHERE run_id = %s AND dagster_event_type = 'ASSET_OBSERVATION'",
            (result.run_id,),
        )
        assert cur.fetchone() == (len(checkpoints),)
