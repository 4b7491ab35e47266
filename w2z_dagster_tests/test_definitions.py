"""The code location loads and validates as the UI would load it."""

import dagster as dg

from w2z_dagster.definitions import defs

DEFS = defs()


def test_definitions_load_and_validate() -> None:
    dg.Definitions.validate_loadable(DEFS)


def test_every_asset_is_partitioned_grouped_and_described() -> None:
    specs = list(DEFS.resolve_all_asset_specs())
    assert sorted(s.key.to_user_string() for s in specs) == [
        "migrated_batches",
        "source_schema",
        "verification_report",
        "zilliz_collection",
    ]
    for spec in specs:
        assert spec.partitions_def is not None and spec.partitions_def.name == "weaviate_collections"
        assert spec.group_name == "migration"
        assert spec.description and spec.kinds and spec.owners


def test_runs_execute_in_one_process() -> None:
    job = DEFS.resolve_implicit_global_asset_job_def()
    assert job.executor_def.name == "in_process"
