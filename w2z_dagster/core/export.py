"""Collections exported as Parquet files that Milvus bulk import accepts, without touching the target.

Zilliz recommends bulk import over row upserts for large one-off loads. The files have the column
layout pymilvus' `LocalBulkWriter` writes for PARQUET (one column per field, JSON as text, arrays and
float vectors as lists), but are written with pyarrow directly: vectors go from float32 arrays into Arrow
lists without ever becoming Python floats, so memory stays at one page plus one row group.

A finished export directory is always complete: files are written to a hidden sibling and renamed into
place at the end, replacing an earlier export of the same collection.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel
from upath import UPath

from w2z_dagster.core.dead_letters import DeadLetters
from w2z_dagster.core.plan import PHYSICAL_ATTRIBUTES, FieldRole, MigrationPlan, MilvusField
from w2z_dagster.core.schema import CollectionSchema, SourceObject
from w2z_dagster.core.source import WeaviateSource
from w2z_dagster.core.tenants import tenants_to_read
from w2z_dagster.core.transform import to_rows

MB = 1024 * 1024
# pymilvus' bulk writer aims at 32 MB row groups: the import server holds one row group at a time.
ROW_GROUP_BYTES = 32 * MB
DEFAULT_FILE_BYTES = 512 * MB
SCHEMA_FILE = "schema.json"
MANIFEST_FILE = "manifest.json"
REJECTS_DIR = "rejects"

_ARROW_TYPES: dict[str, pa.DataType] = {
    "BOOL": pa.bool_(),
    "INT8": pa.int8(),
    "INT16": pa.int16(),
    "INT32": pa.int32(),
    "INT64": pa.int64(),
    "FLOAT": pa.float32(),
    "DOUBLE": pa.float64(),
    "VARCHAR": pa.string(),
    "JSON": pa.string(),
    "FLOAT_VECTOR": pa.list_(pa.float32()),
}


class ExportError(RuntimeError):
    """An export the user must unblock (an output directory w2z did not write); the message says how."""


class ExportedFile(BaseModel):
    path: str
    rows: int = 0


class ExportProgress(NamedTuple):
    batches: int
    read: int
    written: int
    rejected: int


class ExportResult(BaseModel):
    collection: str
    target: str
    directory: str
    files: list[ExportedFile]
    rows: int
    rejected: int
    seconds: float


def _written(plan: MigrationPlan) -> list[MilvusField]:
    """Every field but the BM25 outputs, which the import fills itself as an insert does."""
    return [f for f in plan.fields if f.role is not FieldRole.SPARSE]


def arrow_schema(plan: MigrationPlan) -> pa.Schema:
    return pa.schema([pa.field(f.name, _arrow_type(f)) for f in _written(plan)])


def _arrow_type(field: MilvusField) -> pa.DataType:
    if field.data_type == "ARRAY":
        return pa.list_(_ARROW_TYPES[field.element_type or ""])
    try:
        return _ARROW_TYPES[field.data_type]
    except KeyError:
        raise ExportError(
            f"field '{field.name}' has type {field.data_type}, which w2z cannot export"
        ) from None


def _column(field: MilvusField, values: list[Any]) -> pa.Array:
    if field.data_type == "FLOAT_VECTOR" and values and all(v is not None for v in values):
        flat = np.concatenate([np.asarray(v, dtype=np.float32) for v in values])
        offsets = np.arange(0, flat.size + 1, field.dim or 1, dtype=np.int32)
        return pa.ListArray.from_arrays(pa.array(offsets), pa.array(flat))
    if field.data_type == "JSON":
        values = [None if v is None else json.dumps(v) for v in values]
    return pa.array(values, type=_arrow_type(field))


def record_batch(plan: MigrationPlan, rows: list[dict[str, Any]]) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays(
        [_column(f, [row.get(f.name) for row in rows]) for f in _written(plan)], schema=arrow_schema(plan)
    )


class _RollingWriter:
    """Groups batches into row groups and starts a new file once one holds `file_bytes` of data."""

    def __init__(self, directory: Path, schema: pa.Schema, file_bytes: int) -> None:
        self._directory = directory
        self._schema = schema
        self._file_bytes = file_bytes
        self._row_group_bytes = min(ROW_GROUP_BYTES, file_bytes)
        self._pending: list[pa.RecordBatch] = []
        self._pending_bytes = 0
        self._writer: pq.ParquetWriter | None = None
        self._written = 0
        self.files: list[ExportedFile] = []

    def write(self, batch: pa.RecordBatch) -> None:
        self._pending.append(batch)
        self._pending_bytes += batch.nbytes
        if self._pending_bytes >= self._row_group_bytes:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        table = pa.Table.from_batches(self._pending, self._schema)
        self._pending, self._pending_bytes = [], 0
        if self._writer is None:
            self.files.append(ExportedFile(path=f"part-{len(self.files) + 1:05d}.parquet"))
            self._writer = pq.ParquetWriter(self._directory / self.files[-1].path, self._schema)
            self._written = 0
        self._writer.write_table(table, row_group_size=table.num_rows)
        self.files[-1].rows += table.num_rows
        self._written += table.nbytes
        if self._written >= self._file_bytes:
            self._close_file()

    def _close_file(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def close(self) -> list[ExportedFile]:
        self._flush()
        self._close_file()
        return self.files


def _pages(
    source: WeaviateSource, schema: CollectionSchema, batch_size: int, limit: int | None
) -> Iterator[list[SourceObject]]:
    budget = limit
    for tenant in tenants_to_read(schema):
        if budget == 0:
            return
        size = batch_size if budget is None else min(batch_size, budget)
        for page in source.pages(schema, tenant, None, size):
            if budget is not None:
                page = page[:budget]
                budget -= len(page)
            yield page
            if budget == 0:
                return


def _schema_document(plan: MigrationPlan) -> dict[str, Any]:
    return {
        "collection": plan.source,
        "target": plan.target,
        "auto_id": False,
        "enable_dynamic_field": False,
        "fields": [f.model_dump(include=PHYSICAL_ATTRIBUTES, exclude_none=True) for f in plan.fields],
        "indexes": [i.model_dump() for i in plan.indexes],
        "functions": [f.model_dump(include={"name", "input_field", "output_field"}) for f in plan.functions],
        "plan": plan.model_dump(mode="json"),
    }


def _prepare(output_dir: Path, name: str) -> tuple[Path, Path]:
    final = output_dir / name
    if final.exists() and not (final / MANIFEST_FILE).exists() and any(final.iterdir()):
        raise ExportError(f"{final} exists and is not a w2z export: remove it or choose another --output-dir")
    partial = output_dir / f".{name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    return final, partial


def export_collection(
    source: WeaviateSource,
    schema: CollectionSchema,
    plan: MigrationPlan,
    output_dir: Path,
    batch_size: int,
    limit: int | None = None,
    file_bytes: int = DEFAULT_FILE_BYTES,
    on_batch: Callable[[ExportProgress], None] | None = None,
) -> ExportResult:
    """Stream one collection into `<output_dir>/<collection>/`: Parquet parts, schema, manifest, rejects."""
    started = time.perf_counter()
    final, partial = _prepare(output_dir, schema.name)
    try:
        writer = _RollingWriter(partial, arrow_schema(plan), file_bytes)
        rejects = DeadLetters(UPath(partial / REJECTS_DIR), resume=False)
        progress = ExportProgress(0, 0, 0, 0)
        for page in _pages(source, schema, batch_size, limit):
            result = to_rows(page, plan)
            rejects.extend(result.rejects)
            if result.rows:
                writer.write(record_batch(plan, result.rows))
            progress = ExportProgress(
                progress.batches + 1,
                progress.read + len(page),
                progress.written + len(result.rows),
                progress.rejected + len(result.rejects),
            )
            if on_batch is not None:
                on_batch(progress)
        files = writer.close()
        export = ExportResult(
            collection=schema.name,
            target=plan.target,
            directory=str(final),
            files=files,
            rows=progress.written,
            rejected=progress.rejected,
            seconds=round(time.perf_counter() - started, 3),
        )
        (partial / SCHEMA_FILE).write_text(json.dumps(_schema_document(plan), indent=2), encoding="utf-8")
        manifest = {
            **export.model_dump(exclude={"directory", "seconds"}),
            "source_objects": schema.object_count,
            "exported_at": datetime.now(UTC).isoformat(),
        }
        (partial / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    if final.exists():
        shutil.rmtree(final)
    partial.rename(final)
    return export
