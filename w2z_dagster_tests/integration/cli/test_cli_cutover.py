"""`w2z cutover` in process against the test Weaviate and a Milvus Lite file: exit code and both reports."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import weaviate
import weaviate.classes.config as wc
from pymilvus import MilvusClient
from weaviate.classes.data import DataObject

from w2z_dagster.cli import main
from w2z_dagster_tests.support.seeding import as_written, uuid_of
from w2z_dagster_tests.support.weaviate_server import WeaviateTestServer

pytestmark = pytest.mark.slow

N = 40
Run = Callable[..., tuple[int, dict[str, Any], str]]


@pytest.fixture
def cutover(weaviate_server: WeaviateTestServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.chdir(tmp_path)
    for name in ("WEAVIATE_API_KEY", "ZILLIZ_CLOUD_API_KEY", "ZILLIZ_TARGET_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("WEAVIATE_ENDPOINT", weaviate_server.http_url)
    monkeypatch.setenv("WEAVIATE_GRPC_ENDPOINT", f"http://{weaviate_server.host}:{weaviate_server.grpc_port}")
    monkeypatch.setenv("ZILLIZ_CLOUD_URI", str(tmp_path / "target.db"))
    monkeypatch.setenv("W2Z_LOG_FILE", str(tmp_path / "w2z.log"))
    monkeypatch.setenv("W2Z_SYNC_MARGIN_SECONDS", "0")

    def run(command: str = "cutover") -> tuple[int, dict[str, Any], str]:
        folder = tmp_path / f"reports-{len(list(tmp_path.glob('reports-*')))}"
        extra = ["--report-dir", str(folder)] if command == "cutover" else []
        code = main([command, "-c", "Articles", *extra])
        if command != "cutover":
            return code, {}, ""
        (json_file,) = folder.glob("*.json")
        (md_file,) = folder.glob("*.md")
        return code, json.loads(json_file.read_text(encoding="utf-8")), md_file.read_text(encoding="utf-8")

    return run


def _seed(client: weaviate.WeaviateClient) -> Any:
    articles = client.collections.create(
        "Articles",
        properties=[wc.Property(name="title", data_type=wc.DataType.TEXT)],
        vector_config=wc.Configure.Vectors.self_provided(),
        inverted_index_config=wc.Configure.inverted_index(index_timestamps=True),
    )
    vectors = np.random.default_rng(3).random((N + 1, 8), dtype=np.float32).tolist()
    articles.data.insert_many(
        [DataObject(properties={"title": f"a {i}"}, uuid=uuid_of(i), vector=vectors[i]) for i in range(N)]
    )
    return articles


def _check(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in report["checks"] if c["name"] == name)


def test_a_clean_copy_cuts_over_with_both_reports_and_a_change_is_caught_by_the_final_sync(
    cutover: Run, weaviate_client: weaviate.WeaviateClient
) -> None:
    articles = _seed(weaviate_client)
    assert cutover("migrate")[0] == 0

    code, report, markdown = cutover()
    articles.data.update(uuid=uuid_of(3), properties={"title": "changed"})
    changed_code, changed, _ = cutover()

    assert (code, report["go"], report["failures"]) == (0, True, [])
    assert {c["name"] for c in report["checks"]} >= {
        "counts",
        "identity",
        "content",
        "schema",
        "search_parity",
        "rejects",
        "duplicates",
        "lag",
    }
    assert _check(report, "counts")["blocking"] and _check(report, "content")["blocking"]
    assert not _check(report, "lag")["blocking"]
    assert report["sync"]["mode"] == "sync" and report["sync"]["changes_found_by"] == "time"
    assert report["target"] == "Articles" and report["plan"] and report["run_id"]
    assert markdown.startswith("# Cut-over report: Articles\n\n**GO**: every blocking check passed.")
    assert report["run_id"] in markdown
    assert (changed_code, changed["go"]) == (0, True)
    assert (changed["sync"]["updated"], changed["sync"]["added"]) == (1, 0)


def test_a_corrupted_target_fails_the_cutover_and_the_report_names_the_check(
    cutover: Run, weaviate_client: weaviate.WeaviateClient, tmp_path: Path
) -> None:
    _seed(weaviate_client)
    assert cutover("migrate")[0] == 0
    milvus = MilvusClient(str(tmp_path / "target.db"))
    rows = milvus.query("Articles", filter="", output_fields=["*"], limit=N)
    milvus.upsert("Articles", [{**as_written(row), "title": f"corrupted {row['title']}"} for row in rows])
    milvus.close()

    code, report, markdown = cutover()

    assert (code, report["go"]) == (1, False)
    assert report["failures"] == ["verification_report:content"]
    assert not _check(report, "content")["passed"]
    assert "**NO GO**: verification_report:content." in markdown
