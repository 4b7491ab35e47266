"""API keys, and passwords inside a target URI, never reach logs, the event log, run config, metadata or error messages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from w2z_dagster.cli.home import prepare_home
from w2z_dagster.core.settings import load_settings
from w2z_dagster.defs.io_managers import CATALOG, CatalogIOManager
from w2z_dagster.defs.resources import WeaviateResource, ZillizResource, resources_from_settings
from w2z_dagster_tests.support.milvus_proxy import faulty_proxy
from w2z_dagster_tests.support.milvus_server import MilvusServer
from w2z_dagster_tests.support.ports import free_port
from w2z_dagster_tests.support.seeding import ASSETS, seed_articles
from w2z_dagster_tests.support.weaviate_server import start_server

pytestmark = pytest.mark.slow

WEAVIATE_KEY = "wv-5ecret-4f1d9c"
ZILLIZ_KEY = "zc-5ecret-88ab2e"
URI_PASSWORD = "uri-5ecret-c0ffee"


def _files_containing(root: Path, secret: str) -> list[str]:
    needle = secret.encode()
    return [str(p) for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


@pytest.mark.parametrize(
    ("weaviate_key", "zilliz_key"),
    [(WEAVIATE_KEY, ZILLIZ_KEY), ("wv-wrong-77", ZILLIZ_KEY), (WEAVIATE_KEY, "zc-wrong-99")],
)
def test_keys_appear_nowhere(
    milvus_server: MilvusServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    weaviate_key: str,
    zilliz_key: str,
) -> None:
    monkeypatch.setenv("WEAVIATE_API_KEY", weaviate_key)
    monkeypatch.setenv("ZILLIZ_CLOUD_API_KEY", zilliz_key)
    server = start_server(host="127.0.0.1", api_key=WEAVIATE_KEY)
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    try:
        with server.connect() as client:
            seed_articles(client, n=15)
        with (
            faulty_proxy(milvus_server.uri, token=ZILLIZ_KEY) as proxy,
            dg.instance_for_test(temp_dir=str(home)) as instance,
        ):
            instance.add_dynamic_partitions("weaviate_collections", ["Articles"])
            result = dg.materialize(
                ASSETS,
                partition_key="Articles",
                instance=instance,
                raise_on_error=False,
                resources={
                    CATALOG: CatalogIOManager(),
                    "weaviate": WeaviateResource(
                        endpoint=server.http_url,
                        grpc_endpoint=f"http://127.0.0.1:{server.grpc_port}",
                        api_key=dg.EnvVar("WEAVIATE_API_KEY"),
                    ),
                    "zilliz": ZillizResource(
                        uri=proxy.uri, api_key=dg.EnvVar("ZILLIZ_CLOUD_API_KEY"), max_retries=0
                    ),
                },
            )
            events = [str(entry) for entry in instance.all_logs(result.run_id)]
            run_config = str(instance.get_run_by_id(result.run_id).run_config)
    finally:
        server.stop()

    assert result.success is (weaviate_key == WEAVIATE_KEY and zilliz_key == ZILLIZ_KEY)
    captured = capfd.readouterr()
    for secret in {weaviate_key, zilliz_key}:
        assert not any(secret in e for e in events)
        assert secret not in run_config
        assert secret not in captured.out + captured.err + caplog.text
        assert _files_containing(home, secret) == []


def test_a_password_in_an_unreachable_target_uri_appears_nowhere(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    unreachable = f"http://alice:{URI_PASSWORD}@127.0.0.1:{free_port()}"
    monkeypatch.setenv("ZILLIZ_CLOUD_URI", unreachable)
    server = start_server(host="127.0.0.1")
    home = tmp_path / "home"
    try:
        with server.connect() as client:
            seed_articles(client, n=5)
        with dg.instance_for_test(temp_dir=str(prepare_home(home))) as instance:
            instance.add_dynamic_partitions("weaviate_collections", ["Articles"])
            result = dg.materialize(
                ASSETS,
                partition_key="Articles",
                instance=instance,
                raise_on_error=False,
                resources={
                    CATALOG: CatalogIOManager(),
                    "weaviate": WeaviateResource(
                        endpoint=server.http_url, grpc_endpoint=f"http://127.0.0.1:{server.grpc_port}"
                    ),
                    "zilliz": resources_from_settings(load_settings())["zilliz"],
                },
            )
            events = [str(entry) for entry in instance.all_logs(result.run_id)]
            run_config = str(instance.get_run_by_id(result.run_id).run_config)
        cli = subprocess.run(
            [sys.executable, "-m", "w2z_dagster", "migrate", "-c", "Articles"],
            cwd=tmp_path,
            env={
                **os.environ,
                "DAGSTER_HOME": str(home),
                "WEAVIATE_ENDPOINT": server.http_url,
                "WEAVIATE_GRPC_ENDPOINT": f"http://127.0.0.1:{server.grpc_port}",
                "MIGRATION_MAX_RETRIES": "0",
            },
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        server.stop()

    assert not result.success
    assert any("cannot reach the target at http://alice:***@127.0.0.1" in e for e in events)
    assert cli.returncode == 2
    assert "cannot reach the target at http://alice:***@127.0.0.1" in cli.stderr
    captured = capfd.readouterr()
    for text in (*events, run_config, captured.out + captured.err + caplog.text, cli.stdout + cli.stderr):
        assert URI_PASSWORD not in text
    assert _files_containing(home, URI_PASSWORD) == []
    assert _files_containing(tmp_path / "logs", URI_PASSWORD) == []
    assert (tmp_path / "logs" / "migration.log").exists()
