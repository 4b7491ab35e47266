"""`cutover_job` in the UI: the whole chain, then `cutover_report` writes the report of its own run."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import pytest
import weaviate

from w2z_dagster.defs.cutover import cutover_report_asset
from w2z_dagster.defs.jobs import cutover_job
from w2z_dagster_tests.support.seeding import ALL_CHECKS, ASSETS, seed_articles

pytestmark = pytest.mark.slow


def test_the_job_writes_a_go_report_naming_its_run(
    source_client: weaviate.WeaviateClient, instance: dg.DagsterInstance, resources: dict, tmp_path: Path
) -> None:
    seed_articles(source_client, n=20)
    instance.add_dynamic_partitions("weaviate_collections", ["Articles"])
    report = cutover_report_asset(str(tmp_path / "reports"))
    defs = dg.Definitions(assets=[*ASSETS, report], jobs=[cutover_job], resources=resources)

    result = defs.resolve_job_def("cutover_job").execute_in_process(
        instance=instance, partition_key="Articles"
    )

    (json_file,) = (tmp_path / "reports").glob("Articles-*.json")
    written = json.loads(json_file.read_text(encoding="utf-8"))
    assert result.success
    assert (written["go"], written["run_id"], written["sync"]["mode"]) == (True, result.run_id, "full copy")
    assert {c["name"] for c in written["checks"]} >= {*ALL_CHECKS, "lag"}
    metadata = result.asset_materializations_for_node("cutover_report")[0].metadata
    assert metadata["w2z/go"].value is True
    assert metadata["w2z/report_json"].value == str(json_file)
