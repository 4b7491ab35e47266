"""Issue 8's proof: the older script's command line, run as a subprocess against the test Weaviate and a
Milvus Lite file, recorded as Dagster runs in a real DAGSTER_HOME."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import numpy as np
import pyarrow.parquet as pq
import pytest
import weaviate
import weaviate.classes.config as wc
from milvus_lite.server_manager import server_manager_instance
from pymilvus import DataType, MilvusClient
from weaviate.classes.data import DataObject
from weaviate.util import generate_uuid5

from w2z_dagster.core.export import MANIFEST_FILE, SCHEMA_FILE
from w2z_dagster_tests.support.weaviate_server import WeaviateTestServer, start_server

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "w2z-test-secret-4f1c9a"
ARTICLES = 23
TENANTS = {"a": 6, "b": 5}
DIM = 8

Vectors = dict[str, list[float]]


def _seed(client: weaviate.WeaviateClient, too_many_vectors: bool = False) -> dict[str, Vectors]:
    """Articles (plain), Tenanted (two tenants) and, on demand, a collection no target can hold."""
    rng = np.random.default_rng(8)
    seeded: dict[str, Vectors] = {"Articles": {}, "Tenanted": {}}
    articles = client.collections.create(
        "Articles",
        properties=[
            wc.Property(name="title", data_type=wc.DataType.TEXT),
            wc.Property(name="views", data_type=wc.DataType.INT),
        ],
        vector_config=wc.Configure.Vectors.self_provided(),
    )
    objects = []
    for i in range(ARTICLES):
        uuid, vector = f"00000000-0000-0000-0000-{i:012d}", rng.random(DIM, dtype=np.float32).tolist()
        seeded["Articles"][uuid] = vector
        objects.append(DataObject(properties={"title": f"article {i}", "views": i}, uuid=uuid, vector=vector))
    articles.data.insert_many(objects)

    tenanted = client.collections.create(
        "Tenanted",
        properties=[wc.Property(name="note", data_type=wc.DataType.TEXT)],
        multi_tenancy_config=wc.Configure.multi_tenancy(enabled=True),
        vector_config=wc.Configure.Vectors.self_provided(),
    )
    tenanted.tenants.create(list(TENANTS))
    for t, (tenant, count) in enumerate(TENANTS.items()):
        objects = []
        for i in range(count):
            uuid, vector = f"00000000-0000-0000-{t:04d}-{i:012d}", rng.random(DIM, dtype=np.float32).tolist()
            seeded["Tenanted"][f"{tenant}:{uuid}"] = vector
            objects.append(DataObject(properties={"note": f"{tenant} {i}"}, uuid=uuid, vector=vector))
        tenanted.with_tenant(tenant).data.insert_many(objects)

    if too_many_vectors:
        names = [f"v{i}" for i in range(5)]
        too_many = client.collections.create(
            "TooManyVectors",
            properties=[wc.Property(name="label", data_type=wc.DataType.TEXT)],
            vector_config=[wc.Configure.Vectors.self_provided(name=n) for n in names],
        )
        too_many.data.insert(properties={"label": "x"}, vector={n: [0.5] * 4 for n in names})
    return seeded


class Cli:
    """Runs `python -m w2z_dagster` in `cwd` with only the settings a test gives it."""

    def __init__(self, tmp_path: Path, server: WeaviateTestServer) -> None:
        self.cwd = tmp_path
        self.home = tmp_path / "dagster_home"
        self.home.mkdir()
        shutil.copy(ROOT / "dagster.yaml", self.home / "dagster.yaml")
        self.milvus = tmp_path / "t.db"
        inherited = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("WEAVIATE_", "ZILLIZ_", "MIGRATION_", "W2Z_", "DAGSTER_"))
        }
        self.env = {
            **inherited,
            "PYTHONPATH": str(ROOT),
            "NO_PROXY": "127.0.0.1,localhost",
            "DAGSTER_HOME": str(self.home),
            "WEAVIATE_ENDPOINT": server.http_url,
            "WEAVIATE_GRPC_ENDPOINT": f"http://{server.host}:{server.grpc_port}",
            "ZILLIZ_CLOUD_URI": str(self.milvus),
            "MIGRATION_RETRY_DELAY": "0.01",
        }

    def __call__(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "w2z_dagster", *args],
            cwd=self.cwd,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )

    def instance(self, monkeypatch: pytest.MonkeyPatch) -> dg.DagsterInstance:
        monkeypatch.setenv("DAGSTER_HOME", str(self.home))
        return dg.DagsterInstance.from_config(str(self.home))

    @contextmanager
    def milvus_client(self) -> Iterator[MilvusClient]:
        """Milvus Lite locks its file per process: release it before the next subprocess needs it."""
        client = MilvusClient(str(self.milvus))
        try:
            yield client
        finally:
            client.close()
            server_manager_instance.release_server(str(self.milvus))

    def counts(self) -> dict[str, int]:
        with self.milvus_client() as client:
            return {
                name: client.query(name, filter="", output_fields=["count(*)"])[0]["count(*)"]
                for name in client.list_collections()
            }


@pytest.fixture
def secured_server() -> Iterator[WeaviateTestServer]:
    server = start_server(api_key=API_KEY)
    try:
        yield server
    finally:
        server.stop()


def test_migrate_with_a_limit_verify_and_a_full_migration_are_recorded_dagster_runs(
    tmp_path: Path, secured_server: WeaviateTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with secured_server.connect() as client:
        _seed(client, too_many_vectors=True)
    cli = Cli(tmp_path, secured_server)

    trial = cli("migrate", "-c", "Articles", "Tenanted", "--limit", "10", "--batch-size", "4",
                WEAVIATE_API_KEY=API_KEY)  # fmt: skip

    assert trial.returncode == 0, trial.stderr
    assert cli.counts() == {"Articles": 10, "Tenanted": 10}
    for line in (
        "[1/2] Starting migration for collection: Articles",
        "✓ Batch 1 completed: 4 documents uploaded. Total migrated so far: 4/23",
        "✓ Batch 3 completed: 2 documents uploaded. Total migrated so far: 10/23",
        "[2/2] Starting migration for collection: Tenanted",
        "✓ Batch 2 [tenant a] completed: 2 documents uploaded. Total migrated so far: 6/11",
        "✓ Batch 3 [tenant b] completed: 4 documents uploaded. Total migrated so far: 10/11",
    ):
        assert line in trial.stderr
    assert "Summary" in trial.stdout and "Articles" in trial.stdout and "10" in trial.stdout
    log_file = (tmp_path / "logs" / "migration.log").read_text(encoding="utf-8")
    assert "Total migrated so far: 10/23" in log_file and "Total migrated so far: 10/11" in log_file
    assert all(API_KEY not in text for text in (log_file, trial.stdout, trial.stderr))

    again = cli("verify", "-c", "Articles", WEAVIATE_API_KEY=API_KEY)
    assert again.returncode == 1, again.stderr
    assert "FAIL" in again.stdout

    full = cli("migrate", "-c", "Articles", "TooManyVectors", WEAVIATE_API_KEY=API_KEY)
    assert full.returncode == 1, full.stderr
    assert cli.counts() == {"Articles": ARTICLES, "Tenanted": 10}
    assert "PASS" in full.stdout
    assert "TooManyVectors" in full.stdout and "5 vectors" in full.stdout
    assert API_KEY not in (tmp_path / "logs" / "migration.log").read_text(encoding="utf-8")

    with cli.instance(monkeypatch) as instance:
        runs = instance.get_runs()
        partitions = sorted(r.tags["dagster/partition"] for r in runs)
        assert partitions == ["Articles", "Articles", "Articles", "Tenanted", "TooManyVectors"]
        assert all(r.tags["w2z/launched_by"] == "cli" for r in runs)
        statuses = {(r.tags["dagster/partition"], r.status) for r in runs}
        assert (("TooManyVectors", dg.DagsterRunStatus.FAILURE)) in statuses
        assert ("Tenanted", dg.DagsterRunStatus.SUCCESS) in statuses
        assert sorted(instance.get_dynamic_partitions("weaviate_collections")) == [
            "Articles",
            "Tenanted",
            "TooManyVectors",
        ]


def test_dry_run_prints_the_plan_and_writes_nothing(
    tmp_path: Path,
    weaviate_server: WeaviateTestServer,
    weaviate_client: weaviate.WeaviateClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _seed(weaviate_client)
    cli = Cli(tmp_path, weaviate_server)
    with cli.milvus_client() as existing:
        schema = existing.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.VARCHAR, max_length=36, is_primary=True)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=4)
        existing.create_collection("Tenanted", schema=schema)

    plan = cli("migrate", "--dry-run", "--limit", "20")

    assert plan.returncode == 1, plan.stderr
    out = plan.stdout
    assert "Objects: 23 (--limit: 20 would be copied)" in out
    assert "Target collection 'Articles' (lite): does not exist: would be created" in out
    assert (
        "Target collection 'Tenanted' (lite): exists with a different schema: the migration would fail" in out
    )
    assert "  - field 'id': max_length is 36 in the target, planned 292" in out
    assert "  - the target has field 'vector' that the plan does not" in out
    assert "FLOAT_VECTOR(8)" in out and "title" in out and "VARCHAR(65535)" in out
    assert "│ a " in out and "│ b " in out
    assert "Estimated size: 20 ×" in out and "nothing was written" in out
    assert cli.counts() == {"Tenanted": 0}
    with cli.instance(monkeypatch) as instance:
        assert instance.get_runs() == []
        assert instance.get_dynamic_partitions("weaviate_collections") == []


def test_download_exports_every_object_and_vector_without_touching_the_target(
    tmp_path: Path,
    weaviate_server: WeaviateTestServer,
    weaviate_client: weaviate.WeaviateClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seeded = _seed(weaviate_client)
    cli = Cli(tmp_path, weaviate_server)

    download = cli("migrate", "--mode", "download", "--output-dir", "out", "--batch-size", "4")

    assert download.returncode == 0, download.stderr
    assert "✓ Batch 1 exported: 4 documents written. Total exported so far: 4/23" in download.stderr
    for name, vectors in seeded.items():
        directory = tmp_path / "out" / name
        manifest = json.loads((directory / MANIFEST_FILE).read_text())
        assert json.loads((directory / SCHEMA_FILE).read_text())["target"] == name
        rows = [r for f in manifest["files"] for r in pq.read_table(directory / f["path"]).to_pylist()]
        assert manifest["rows"] == len(rows) == len(vectors)
        got = {r["id"]: np.asarray(r["default"], dtype=np.float32).tobytes() for r in rows}
        assert got == {k: np.asarray(v, dtype=np.float32).tobytes() for k, v in vectors.items()}
    assert not cli.milvus.exists()
    with cli.instance(monkeypatch) as instance:
        assert instance.get_runs() == []


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_bad_input_is_one_line_on_stderr_and_exit_code_2(
    tmp_path: Path, weaviate_server: WeaviateTestServer, weaviate_client: weaviate.WeaviateClient
) -> None:
    _seed(weaviate_client)
    cli = Cli(tmp_path, weaviate_server)

    unknown = cli("migrate", "-c", "Articles", "articles", "Nope")
    assert unknown.returncode == 2
    assert _one_line(unknown) == (
        "w2z migrate: error: unknown collections 'articles' (did you mean 'Articles'?), 'Nope'; "
        "Weaviate has: Articles, Tenanted"
    )

    excluded = cli("migrate", "--dry-run", "-c", "Tenanted", W2Z_EXCLUDE_COLLECTIONS="Ten*")
    assert excluded.returncode == 2
    assert _one_line(excluded) == (
        "w2z migrate: error: 'Tenanted' excluded by W2Z_INCLUDE_COLLECTIONS='*' / "
        "W2Z_EXCLUDE_COLLECTIONS='Ten*': change the patterns to migrate them"
    )

    no_home = cli("verify", DAGSTER_HOME="")
    assert no_home.returncode == 2
    assert _one_line(no_home).startswith("w2z verify: error: w2z verify reads what `w2z migrate` recorded")

    unreachable = cli("collections", WEAVIATE_ENDPOINT="http://127.0.0.1:9", WEAVIATE_GRPC_ENDPOINT="")
    assert unreachable.returncode == 2
    assert _one_line(unreachable).startswith(
        "w2z collections: error: cannot reach Weaviate at http://127.0.0.1:9"
    )

    listing = cli("collections")
    assert listing.returncode == 0, listing.stderr
    assert (
        "Tenanted" in listing.stdout and "2 (2 active)" in listing.stdout and "default(8)" in listing.stdout
    )


def test_migrate_into_a_new_dagster_home_gives_it_the_project_settings_without_a_telemetry_banner(
    tmp_path: Path, weaviate_server: WeaviateTestServer, weaviate_client: weaviate.WeaviateClient
) -> None:
    _seed(weaviate_client)
    cli = Cli(tmp_path, weaviate_server)
    shutil.rmtree(cli.home)

    migrated = cli("migrate", "-c", "Articles")

    assert migrated.returncode == 0, migrated.stderr
    assert "Telemetry" not in migrated.stdout + migrated.stderr
    assert (cli.home / "dagster.yaml").read_text() == (ROOT / "dagster.yaml").read_text()
    assert cli.counts() == {"Articles": ARTICLES}


def test_migrate_in_slices_records_a_plan_run_one_run_per_slice_and_the_verified_chain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = start_server()
    try:
        with server.connect() as client:
            collection = client.collections.create(
                "Big",
                properties=[wc.Property(name="n", data_type=wc.DataType.INT)],
                vector_config=wc.Configure.Vectors.self_provided(),
            )
            vectors = np.random.default_rng(1).random((3_000, DIM), dtype=np.float32).tolist()
            collection.data.insert_many(
                [
                    DataObject(properties={"n": i}, uuid=generate_uuid5(i), vector=vectors[i])
                    for i in range(3_000)
                ]
            )
        cli = Cli(tmp_path, server)

        done = cli("migrate", "-c", "Big", "--slices", "3", "--min-slice-objects", "1000")

        assert done.returncode == 0, done.stderr
        assert cli.counts() == {"Big": 3_000}
        assert "PASS" in done.stdout and "3,000" in done.stdout
        with cli.instance(monkeypatch) as instance:
            runs = list(reversed(instance.get_runs()))
            assert [(r.job_name, r.tags["dagster/partition"]) for r in runs] == [
                ("plan_slices_job", "Big"),
                ("migrate_slices_job", "Big|0"),
                ("migrate_slices_job", "Big|1"),
                ("migrate_slices_job", "Big|2"),
                ("__ASSET_JOB", "Big"),
            ]
            assert all(r.status is dg.DagsterRunStatus.SUCCESS for r in runs)
            assert [r.tags.get("dagster/partition/slice") for r in runs[1:4]] == ["0", "1", "2"]
    finally:
        server.stop()
