"""`--mode download`: Parquet files Milvus bulk import accepts, every object and vector, memory bounded."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from upath import UPath

from w2z_dagster.core.dead_letters import read_dead_letters
from w2z_dagster.core.export import (
    MANIFEST_FILE,
    REJECTS_DIR,
    SCHEMA_FILE,
    ExportError,
    ExportProgress,
    export_collection,
)
from w2z_dagster.core.mapping import build_plan
from w2z_dagster.core.plan import MigrationPlan
from w2z_dagster.core.profiles import TargetProfile
from w2z_dagster.core.schema import CollectionSchema, PropertySpec, SourceObject, TenantSpec, VectorSpec
from w2z_dagster.core.schema import WeaviateType as T
from w2z_dagster.core.source import WeaviateSource

DIM = 6
SCHEMA = CollectionSchema(
    name="Articles",
    properties=(
        PropertySpec(name="title", data_type=T.TEXT),
        PropertySpec(name="views", data_type=T.INT),
        PropertySpec(name="score", data_type=T.NUMBER),
        PropertySpec(name="published", data_type=T.BOOLEAN),
        PropertySpec(name="when", data_type=T.DATE),
        PropertySpec(name="tags", data_type=T.TEXT_ARRAY),
        PropertySpec(name="where", data_type=T.GEO),
    ),
    vectors=(VectorSpec(name="default", legacy=True, dimension=DIM),),
    object_count=23,
)


def _objects(count: int, tenant: str | None = None, seed: int = 1) -> list[SourceObject]:
    rng = np.random.default_rng(seed)
    return [
        SourceObject(
            uuid=f"00000000-0000-0000-{seed:04d}-{i:012d}",
            tenant=tenant,
            properties={
                "title": f"article {i} ✓",
                "views": i * 1000,
                "score": i / 7,
                "published": i % 2 == 0,
                "when": datetime(2024, 1, 1 + i % 28, tzinfo=UTC),
                "tags": [f"t{i}", "all"],
                "where": {"latitude": 52.5, "longitude": 13.4 + i},
            },
            vectors={"default": rng.random(DIM, dtype=np.float32).tolist()},
        )
        for i in range(count)
    ]


class FakeSource:
    """Cursor pages in UUID order per tenant, like `WeaviateSource.pages`."""

    def __init__(self, by_tenant: dict[str | None, list[SourceObject]]) -> None:
        self.by_tenant = by_tenant
        self.page_sizes: list[int] = []

    def pages(
        self, schema: CollectionSchema, tenant: str | None, after: str | None, page_size: int
    ) -> Iterator[list[SourceObject]]:
        objects = sorted(self.by_tenant[tenant], key=lambda o: o.uuid)
        for start in range(0, len(objects), page_size):
            self.page_sizes.append(page_size)
            yield objects[start : start + page_size]


def _export(tmp_path: Path, by_tenant: dict, schema: CollectionSchema = SCHEMA, **kwargs: Any) -> tuple:
    source = FakeSource(by_tenant)
    plan = build_plan(schema, TargetProfile.LITE)
    progress: list[ExportProgress] = []
    result = export_collection(
        cast(WeaviateSource, source), schema, plan, tmp_path / "out", on_batch=progress.append, **kwargs
    )
    return result, plan, progress, source


def _read(directory: Path) -> list[dict[str, Any]]:
    manifest = json.loads((directory / MANIFEST_FILE).read_text())
    rows = []
    for entry in manifest["files"]:
        table = pq.read_table(directory / entry["path"])
        assert table.num_rows == entry["rows"]
        rows += table.to_pylist()
    return rows


def test_every_object_and_vector_arrives_in_the_parquet_files(tmp_path: Path) -> None:
    objects = _objects(23)
    result, plan, progress, source = _export(tmp_path, {None: objects}, batch_size=5)

    directory = tmp_path / "out" / "Articles"
    assert result.directory == str(directory)
    assert (result.rows, result.rejected, len(result.files)) == (23, 0, 1)
    assert sorted(p.name for p in directory.iterdir()) == [MANIFEST_FILE, "part-00001.parquet", SCHEMA_FILE]
    assert [p.read for p in progress] == [5, 10, 15, 20, 23]
    assert set(source.page_sizes) == {5}
    rows = {r["id"]: r for r in _read(directory)}
    assert set(rows) == {o.uuid for o in objects}
    for obj in objects:
        row = rows[obj.uuid]
        assert (
            np.asarray(row["vector"], dtype=np.float32).tobytes()
            == np.asarray(obj.vectors["default"], dtype=np.float32).tobytes()
        )
        assert (row["title"], row["views"], row["score"], row["published"], row["tags"]) == (
            obj.properties["title"],
            obj.properties["views"],
            obj.properties["score"],
            obj.properties["published"],
            obj.properties["tags"],
        )
        assert row["when"] == obj.properties["when"].strftime("%Y-%m-%dT%H:%M:%S.000000Z")
        assert json.loads(row["where"]) == obj.properties["where"]

    schema_doc = json.loads((directory / SCHEMA_FILE).read_text())
    assert schema_doc["target"] == "Articles"
    assert [f["name"] for f in schema_doc["fields"]] == plan.field_names
    assert schema_doc["fields"][0] == {
        "name": "id",
        "data_type": "VARCHAR",
        "max_length": 36,
        "nullable": False,
        "is_primary": True,
        "is_partition_key": False,
        "enable_analyzer": False,
    }
    assert schema_doc["functions"] == [
        {"name": "w2z_text_bm25", "input_field": "w2z_text", "output_field": "w2z_bm25"}
    ]
    assert MigrationPlan.model_validate(schema_doc["plan"]) == plan


def test_the_columns_have_the_types_pymilvus_bulk_writer_gives_them(tmp_path: Path) -> None:
    """pymilvus/bulk_writer/constants.py ARROW_TYPE_CREATOR and Buffer._deduce_arrow_schema: JSON as
    text, ARRAY as a list of its element type, FLOAT_VECTOR as list<float32>, every column nullable."""
    _export(tmp_path, {None: _objects(3)}, batch_size=3)
    written = pq.read_schema(tmp_path / "out" / "Articles" / "part-00001.parquet").remove_metadata()
    assert written == pa.schema(
        [
            pa.field("id", pa.string()),
            pa.field("vector", pa.list_(pa.float32())),
            pa.field("title", pa.string()),
            pa.field("views", pa.int64()),
            pa.field("score", pa.float64()),
            pa.field("published", pa.bool_()),
            pa.field("when", pa.string()),
            pa.field("tags", pa.list_(pa.string())),
            pa.field("where", pa.string()),
            pa.field("w2z_text", pa.string()),
            pa.field("w2z_updated_ms", pa.int64()),
        ]
    )


def test_files_roll_by_size_and_the_manifest_lists_each_with_its_rows(tmp_path: Path) -> None:
    objects = _objects(40)
    result, _, _, _ = _export(tmp_path, {None: objects}, batch_size=4, file_bytes=1500)

    assert len(result.files) > 2
    assert [f.path for f in result.files] == [
        f"part-{i:05d}.parquet" for i in range(1, len(result.files) + 1)
    ]
    assert sum(f.rows for f in result.files) == 40
    assert len(_read(tmp_path / "out" / "Articles")) == 40


def test_limit_spans_tenants_and_inactive_tenants_are_not_read(tmp_path: Path) -> None:
    schema = SCHEMA.model_copy(
        update={
            "multi_tenant": True,
            "tenants": (
                TenantSpec(name="a", status="ACTIVE"),
                TenantSpec(name="b", status="ACTIVE"),
                TenantSpec(name="c", status="INACTIVE"),
            ),
        }
    )
    by_tenant = {"a": _objects(4, "a", seed=1), "b": _objects(10, "b", seed=2)}
    result, _, progress, source = _export(tmp_path, by_tenant, schema, batch_size=3, limit=9)

    rows = _read(tmp_path / "out" / "Articles")
    assert result.rows == 9 and [p.read for p in progress] == [3, 4, 7, 9]
    assert sorted((r["tenant"], r["uuid"]) for r in rows) == sorted(
        [("a", o.uuid) for o in by_tenant["a"]] + [("b", o.uuid) for o in by_tenant["b"][:5]]
    )
    assert all(r["id"] == f"{r['tenant']}:{r['uuid']}" for r in rows)
    assert source.page_sizes == [3, 3, 3, 3]


def test_rejected_objects_are_kept_with_their_reason(tmp_path: Path) -> None:
    objects = _objects(5)
    objects[2].vectors["default"] = [1.0, 2.0]
    result, _, progress, _ = _export(tmp_path, {None: objects}, batch_size=10)

    directory = tmp_path / "out" / "Articles"
    assert (result.rows, result.rejected) == (4, 1)
    assert progress[-1] == ExportProgress(batches=1, read=5, written=4, rejected=1)
    [reject] = [r.model_dump() for r in read_dead_letters(UPath(directory / REJECTS_DIR))]
    assert reject["uuid"] == objects[2].uuid and "dimension 2" in reject["reason"]
    assert json.loads((directory / MANIFEST_FILE).read_text())["rejected"] == 1


def test_a_new_export_replaces_the_last_one_but_never_a_directory_w2z_did_not_write(tmp_path: Path) -> None:
    _export(tmp_path, {None: _objects(9)}, batch_size=2, file_bytes=1000)
    result, _, _, _ = _export(tmp_path, {None: _objects(3)}, batch_size=10)
    directory = tmp_path / "out" / "Articles"
    assert sorted(p.name for p in directory.iterdir()) == [MANIFEST_FILE, "part-00001.parquet", SCHEMA_FILE]
    assert len(_read(directory)) == 3 and result.rows == 3
    assert not list((tmp_path / "out").glob(".*"))

    foreign = tmp_path / "out" / "Articles"
    (foreign / MANIFEST_FILE).unlink()
    with pytest.raises(ExportError, match="is not a w2z export"):
        _export(tmp_path, {None: _objects(3)}, batch_size=10)


def test_a_failed_export_leaves_no_partial_directory(tmp_path: Path) -> None:
    class Broken(FakeSource):
        def pages(self, *args: Any, **kwargs: Any) -> Iterator[list[SourceObject]]:
            yield _objects(2)
            raise ConnectionError("source went away")

    plan = build_plan(SCHEMA, TargetProfile.LITE)
    with pytest.raises(ConnectionError):
        export_collection(cast(WeaviateSource, Broken({})), SCHEMA, plan, tmp_path / "out", batch_size=2)
    assert list((tmp_path / "out").iterdir()) == []
