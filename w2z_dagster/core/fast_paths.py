"""Fast paths that lean on library internals: every one of them, fenced, in this module.

Where Weaviate, Milvus and w2z share the machine, throughput is set by the CPU each object costs in the
migrating process (docs/architecture.md, "CPU per object is the budget"). Three paths take the largest
costs off it. Each one produces exactly what the public path produces (the equivalence tests in
`w2z_dagster_tests/test_fast_paths.py`; the one difference: the arrays keep a signalling NaN's bits,
which the client's float round trip quiets), and each relies on something the libraries do not promise:

- **Vectors as float32 arrays** (`vector_arrays`). weaviate-client decodes every vector into a list of
  Python floats (`weaviate.collections.grpc.shared._ByteOps.decode_float32s`, weaviate-client 4.24),
  which the transform turns back into float32. The decoder is swapped, process-wide but switched on
  only in a thread reading a cursor page, for `np.frombuffer(bytes, "<f4")` over the reply's own bytes.
  benchmarks/README.md: w2z client CPU 140 → 79 µs per object, peak RSS 345 → 285 MB.
- **Request columns packed ahead** (`request_columns`). pymilvus packs rows value by value; the sink
  builds the request's `FieldData` column by column instead (one C-level `extend` per scalar column, a
  vector column as one float32 byte string), leaves JSON and ARRAY columns to pymilvus's own
  `Prepare.row_insert_param`, and sends the prebuilt request through the client's handler
  (`MilvusClient._get_connection()`, `_generate_call_context()`, and `GrpcHandler.batch_insert` /
  `upsert` taking `insert_param=` / `upsert_param=`, pymilvus 3.0). benchmarks/README.md: write-only
  client CPU 45 → 10 µs per row, w2z 2,255 → 2,643 objects/s.
- **Heap frozen during the stream** (`frozen_heap`). `gc.freeze()` for the stream's lifetime keeps full
  collections from walking every Dagster and client object again and again; it is public CPython API
  but acts on the whole process. benchmarks/README.md: client CPU 72 → 63 µs per object.

`available()` checks once per process that each internal is there and has the pinned shape, and turns a
path off (one WARNING) when it is not; `W2Z_FAST_PATHS=false` turns them all off, leaving the public
library paths only: the client's decoder lists, `MilvusClient.upsert` / `insert`, no `gc.freeze`.
"""

from __future__ import annotations

import functools
import gc
import importlib
import inspect
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from pymilvus import DataType, FunctionType, MilvusClient
from pymilvus.grpc_gen import milvus_pb2, schema_pb2

log = logging.getLogger(__name__)

PINNED = "weaviate-client 4.24, pymilvus 3.0"


class FastPaths(NamedTuple):
    """Which fast paths are on; each is also off where `available()` found its internal changed."""

    vector_arrays: bool
    request_columns: bool
    frozen_heap: bool


OFF = FastPaths(vector_arrays=False, request_columns=False, frozen_heap=False)


@dataclass(frozen=True)
class Internals:
    """The library objects the fast paths rely on; a test passes stand-ins to `capabilities`."""

    byte_ops: Any
    milvus_client: Any
    grpc_handler: Any
    prepare: Any
    collector: Any


def _internal(module: str, name: str) -> Any:
    """A library internal, or None where this version has none (the path using it is then off)."""
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


INSTALLED = Internals(
    # Private by name: the class holding weaviate-client's vector decoder, which `install_vector_decoder` swaps.
    byte_ops=_internal("weaviate.collections.grpc.shared", "_ByteOps"),
    milvus_client=MilvusClient,
    grpc_handler=_internal("pymilvus.client.grpc_handler", "GrpcHandler"),
    prepare=_internal("pymilvus.client.prepare", "Prepare"),
    collector=gc,
)

_SAMPLE_FLOATS = np.array([1.5, -0.0, 3.4028235e38, 1e-45, -2.75], dtype="<f4")


def _vector_arrays_problem(internals: Internals) -> str | None:
    """The client's decoder must exist and turn little-endian float32 bytes into their values."""
    decode = getattr(internals.byte_ops, "decode_float32s", None)
    if not callable(decode):
        return "weaviate-client has no _ByteOps.decode_float32s"
    try:
        decoded = decode(_SAMPLE_FLOATS.tobytes())
    except Exception as exc:
        return f"weaviate-client's _ByteOps.decode_float32s fails on float32 bytes ({type(exc).__name__})"
    if (
        not isinstance(decoded, list)
        or np.asarray(decoded, dtype="<f4").tobytes() != _SAMPLE_FLOATS.tobytes()
    ):
        return "weaviate-client's _ByteOps.decode_float32s no longer returns the list of float32 values"
    return None


_HANDLER_PARAMETERS = ("collection_name", "entities", "partition_name", "timeout", "context")
_PREPARE_PARAMETERS = ("collection_name", "entities", "partition_name", "fields_info")


def _leading_parameters(function: Any, count: int) -> tuple[tuple[str, ...], bool]:
    """The first `count` named parameters after `self`, and whether it takes `**kwargs`."""
    parameters = list(inspect.signature(function).parameters.values())
    if parameters and parameters[0].name in ("self", "cls"):
        parameters = parameters[1:]
    variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    names = tuple(p.name for p in parameters if p.kind not in variadic)[:count]
    return names, any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


def _request_columns_problem(internals: Internals) -> str | None:
    """The client must hand out its handler and call context, and the handler send a prebuilt request."""
    for name in ("_get_connection", "_generate_call_context"):
        if not callable(getattr(internals.milvus_client, name, None)):
            return f"pymilvus's MilvusClient has no {name}()"
    if internals.grpc_handler is None or internals.prepare is None:
        return "pymilvus has no client.grpc_handler.GrpcHandler or client.prepare.Prepare"
    try:
        for send in ("batch_insert", "upsert"):
            names, kwargs = _leading_parameters(getattr(internals.grpc_handler, send), 5)
            if names != _HANDLER_PARAMETERS or not kwargs:
                return f"pymilvus's GrpcHandler.{send} takes ({', '.join(names)}) now"
        names, _ = _leading_parameters(internals.prepare.row_insert_param, 4)
        if names != _PREPARE_PARAMETERS:
            return f"pymilvus's Prepare.row_insert_param takes ({', '.join(names)}) now"
        # The request-building step must pass a prebuilt request through untouched (it never uses
        # `self` when given the request and a schema).
        handler = internals.grpc_handler
        insert = milvus_pb2.InsertRequest(collection_name="probe")
        upsert = milvus_pb2.UpsertRequest(collection_name="probe")
        schema = {"fields": []}
        passed = (
            handler._prepare_batch_insert_request(None, "probe", [], insert_param=insert, schema=schema)  # noqa: SLF001 - probing the pinned internal
            is insert
            and handler._prepare_batch_upsert_request(None, "probe", [], upsert_param=upsert, schema=schema)  # noqa: SLF001 - probing the pinned internal
            is upsert
        )
    except Exception as exc:
        return f"pymilvus's GrpcHandler no longer takes a prebuilt request ({type(exc).__name__}: {exc})"
    if not passed:
        return "pymilvus's GrpcHandler rebuilds a prebuilt request instead of sending it"
    return None


def _frozen_heap_problem(internals: Internals) -> str | None:
    collector = internals.collector
    if not (callable(getattr(collector, "freeze", None)) and callable(getattr(collector, "unfreeze", None))):
        return "this Python has no gc.freeze()"
    return None


_PROBES: dict[str, Callable[[Internals], str | None]] = {
    "vector_arrays": _vector_arrays_problem,
    "request_columns": _request_columns_problem,
    "frozen_heap": _frozen_heap_problem,
}


def capabilities(internals: Internals) -> FastPaths:
    """Which paths `internals` allow; each one they do not is logged as a WARNING with the reason."""
    usable = {}
    for name, probe in _PROBES.items():
        problem = probe(internals)
        if problem is not None:
            log.warning(
                "fast path %s is off: %s (w2z was built against %s); the public library path is used, "
                "which is correct but costs more CPU per object",
                name,
                problem,
                PINNED,
            )
        usable[name] = problem is None
    return FastPaths(**usable)


@functools.cache
def available() -> FastPaths:
    """The installed libraries' capabilities, checked once per process (so a changed one warns once)."""
    return capabilities(INSTALLED)


def chosen(enabled: bool) -> FastPaths:
    """The paths to use: all that are available when `enabled` (W2Z_FAST_PATHS), none otherwise."""
    return available() if enabled else OFF


# Vectors as float32 arrays.

_arrays_here = threading.local()
_install_lock = threading.Lock()
client_decode_float32s: Callable[[bytes], list[float]] = getattr(INSTALLED.byte_ops, "decode_float32s", None)
"""weaviate-client's own decoder, as it was before `install_vector_decoder`."""


def decode_float32s(byte_vector: bytes) -> Any:
    """The client's decoder, answering with a zero-copy float32 array in a thread inside `vector_arrays`.

    Every other caller, in any thread, still gets the client's list. Installed only where `available()`
    found the client's decoder as pinned.
    """
    if getattr(_arrays_here, "on", False):
        return np.frombuffer(byte_vector, dtype="<f4")
    return client_decode_float32s(byte_vector)


def install_vector_decoder() -> None:
    """Swap the decoder in once; until then the client's own is the only one this process ever ran."""
    with _install_lock:
        if INSTALLED.byte_ops.decode_float32s is not decode_float32s:
            INSTALLED.byte_ops.decode_float32s = staticmethod(decode_float32s)


@contextmanager
def vector_arrays(on: bool) -> Iterator[None]:
    """Vectors decoded in this thread meanwhile are float32 arrays over the reply's bytes, when `on`."""
    if not on:
        yield
        return
    install_vector_decoder()
    _arrays_here.on = True
    try:
        yield
    finally:
        _arrays_here.on = False


# Request columns packed ahead.

PLAIN_COLUMNS = {
    DataType.VARCHAR: "string_data",
    DataType.INT64: "long_data",
    DataType.DOUBLE: "double_data",
    DataType.BOOL: "bool_data",
}
_FLOAT_ARRAY_DATA = b"\x0a"
"""Tag of `FloatArray.data` (field 1, length-delimited): packed float32 values follow their byte count."""


def varint(value: int) -> bytes:
    """A non-negative integer as a protobuf base-128 varint, as the wire format defines it.

    Written here rather than taken from protobuf's private `encoder._VarintBytes`; it is the length
    prefix of a packed vector column, computed once per column.
    """
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _column(field: dict[str, Any], values: list[Any]) -> schema_pb2.FieldData:
    data = schema_pb2.FieldData(type=field["type"], field_name=field["name"])
    if field.get("nullable"):
        data.valid_data.extend([v is not None for v in values])
        values = [v for v in values if v is not None]
    elif any(v is None for v in values):
        raise ValueError(f"null in non-nullable field {field['name']}")
    if field["type"] != DataType.FLOAT_VECTOR:
        getattr(data.scalars, PLAIN_COLUMNS[field["type"]]).data.extend(values)
        return data
    dim = int(field["params"]["dim"])
    data.vectors.dim = dim
    if values:
        matrix = np.asarray(values, dtype="<f4")
        if matrix.shape != (len(values), dim):
            raise ValueError(f"vectors of {field['name']} do not all have dimension {dim}")
        raw = matrix.tobytes()
        data.vectors.float_vector.MergeFromString(_FLOAT_ARRAY_DATA + varint(len(raw)) + raw)
    return data


def request_columns(described: dict[str, Any], rows: list[dict[str, Any]]) -> list[schema_pb2.FieldData]:
    """The FieldData pymilvus would build from `rows`, without its Python work per value.

    JSON and ARRAY columns are packed by pymilvus itself, so their encoding stays exactly its own.
    Raises for anything else (dynamic fields, functions but BM25, structs, auto ids, defaults, rows that do not
    match), and the caller then leaves the whole request to pymilvus.
    """
    # BM25 outputs are filled by Milvus and absent from requests, as pymilvus leaves them out.
    fields = [f for f in described["fields"] if not f.get("is_function_output")]
    if described.get("enable_dynamic_field") or described.get("struct_array_fields"):
        raise ValueError("dynamic fields and structs are left to pymilvus")
    if any(FunctionType(f["type"]) is not FunctionType.BM25 for f in described.get("functions") or ()):
        raise ValueError("functions other than BM25 are left to pymilvus")
    if any(f.get("auto_id") or f.get("default_value") is not None for f in fields):
        raise ValueError("auto ids and default values are left to pymilvus")
    if any(len(row) != len(fields) for row in rows):
        raise ValueError("rows do not match the target's fields")
    columns = {}
    others = []
    for field in fields:
        if field["type"] in PLAIN_COLUMNS or field["type"] == DataType.FLOAT_VECTOR:
            columns[field["name"]] = _column(field, [row[field["name"]] for row in rows])
        else:
            others.append(field)
    if others:
        names = [f["name"] for f in others]
        packed = INSTALLED.prepare.row_insert_param(
            "", [{n: row[n] for n in names} for row in rows], "", others
        )
        columns.update((d.field_name, d) for d in packed.fields_data)
    return [columns[f["name"]] for f in fields]


def send_columns(
    client: MilvusClient,
    target: str,
    described: dict[str, Any],
    columns: list[schema_pb2.FieldData],
    num_rows: int,
    insert: bool,
    **retries: Any,
) -> None:
    """One insert or upsert of prebuilt columns, through the client's own handler and call context.

    The request carries the described `update_timestamp`, so Milvus refuses it (SchemaMismatch) once
    the target changed, exactly as it refuses pymilvus's own.
    """
    kind = milvus_pb2.InsertRequest if insert else milvus_pb2.UpsertRequest
    request = kind(
        collection_name=target,
        num_rows=num_rows,
        schema_timestamp=int(described.get("update_timestamp", 0)),
        fields_data=columns,
    )
    handler = client._get_connection()  # noqa: SLF001 - the fast path's send (see the banner)
    context = client._generate_call_context()  # noqa: SLF001 - the same database as the client's calls
    if insert:
        handler.batch_insert(target, [], insert_param=request, schema=described, context=context, **retries)
    else:
        handler.upsert(target, [], upsert_param=request, schema=described, context=context, **retries)


# Heap frozen during the stream.


@contextmanager
def frozen_heap(on: bool) -> Iterator[None]:
    """Keep the collector off the objects that exist before the stream starts, when `on`.

    Every page allocates thousands of objects that live until written, so full collections run often,
    and each walks the whole heap: in a Dagster process with both clients loaded, that was a fifth of
    the migrating process's CPU. What exists at the start (modules, the clients, the run) outlives the
    stream anyway, so it is frozen out of collection until the stream ends.
    """
    if not on:
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
