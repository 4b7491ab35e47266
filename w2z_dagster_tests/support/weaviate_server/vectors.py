"""Vector bytes as they travel and are stored, and brute-force distances for `near_vector`.

Vectors stay in the client's wire encoding (little-endian float32; a multi-vector is a uint16 token
dimension followed by the tokens) so storing costs nothing and replies copy bytes. Distances follow
Weaviate's definitions so rankings after a migration can be compared with the source.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from .class_info import VectorSpec
from .errors import ServerError
from .store import Shard, StoredObject

Predicate = Callable[[bytes, StoredObject], bool]


def pack_single(values: Sequence[float]) -> bytes:
    return struct.pack(f"<{len(values)}f", *values)


def pack_multi(tokens: Sequence[Sequence[float]]) -> bytes:
    flat = [v for token in tokens for v in token]
    return struct.pack("<H", len(tokens[0])) + struct.pack(f"<{len(flat)}f", *flat)


def unpack_single(data: bytes) -> list[float]:
    return np.frombuffer(data, dtype="<f4").tolist()


def unpack_multi(data: bytes) -> list[list[float]]:
    return multi_matrix(data).tolist()


def multi_matrix(data: bytes) -> np.ndarray:
    dim = struct.unpack_from("<H", data)[0]
    return np.frombuffer(data, dtype="<f4", offset=2).reshape(-1, dim)


def check_single(data: bytes) -> int:
    """Dimensions of a single vector; raises on a byte length that is not whole float32s."""
    if len(data) % 4:
        raise ServerError(f"vector bytes length {len(data)} is not a multiple of 4")
    return len(data) // 4


def check_multi(data: bytes) -> int:
    """Token dimension of a multi-vector; raises where the Go decoder would."""
    if len(data) < 2:
        raise ServerError("multi vector bytes too short")
    dim = struct.unpack_from("<H", data)[0]
    if dim == 0:
        raise ServerError("dimension cannot be 0")
    if (len(data) - 2) % (4 * dim) or len(data) == 2:
        raise ServerError(f"multi vector bytes do not hold whole tokens of dimension {dim}")
    return dim


def from_json(value: Any) -> tuple[bytes, bool]:
    """A REST vector (list of floats or list of lists) as wire bytes plus whether it is multi."""
    if not isinstance(value, list):
        raise ServerError("vector must be an array")
    if value and isinstance(value[0], list):
        if not all(token for token in value):
            raise ServerError("multi-vector token is empty")
        return pack_multi(value), True
    return pack_single(value), False


def to_json(data: bytes, multi: bool) -> list[Any]:
    return unpack_multi(data) if multi else unpack_single(data)


def _normalized(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)


def single_distances(distance: str, stored: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Distances from `query` to each row; for cosine the rows must already be normalised."""
    if distance == "cosine":
        return (1 - stored @ _normalized(query)).astype(np.float32)
    if distance == "dot":
        return -(stored @ query)
    if distance == "l2-squared":
        return np.square(stored - query).sum(axis=1, dtype=np.float32)
    if distance == "manhattan":
        return np.abs(stored - query).sum(axis=1, dtype=np.float32)
    if distance == "hamming":
        return (stored != query).sum(axis=1).astype(np.float32)
    raise ServerError(f"unsupported distance {distance!r}")


def multi_distance(distance: str, doc: np.ndarray, query: np.ndarray) -> np.float32:
    """Late interaction as Weaviate scores it: sum over query tokens of the best (lowest) -dot."""
    if distance == "cosine":
        doc, query = _normalized(doc), _normalized(query)
    return np.float32(-(query @ doc.T).max(axis=1).sum())


def _single_matrix(shard: Shard, spec: VectorSpec) -> tuple[list[tuple[bytes, StoredObject]], np.ndarray]:
    """All objects holding this vector, in key order, with their vectors as one float32 matrix.

    Cached per shard version so repeated queries after a load do not rebuild it; for cosine the
    rows are stored normalised, as Weaviate's index stores them.
    """
    cached = shard.cache.get(spec.name)
    if cached is not None and cached[0] == shard.version:
        return cached[1], cached[2]
    rows = [(k, o) for k, o in shard.in_order() if _vector_of(o, spec)]
    dim = shard.dims.get(spec.name, 0)
    blob = b"".join(_vector_of(o, spec) or b"" for _, o in rows)
    matrix = np.frombuffer(blob, dtype="<f4").reshape(len(rows), dim) if rows else np.zeros((0, dim), "<f4")
    if spec.distance == "cosine":
        matrix = _normalized(matrix)
    shard.cache[spec.name] = (shard.version, rows, matrix)
    return rows, matrix


def _vector_of(obj: StoredObject, spec: VectorSpec) -> bytes | None:
    return obj.vector if spec.name == "" else obj.vectors.get(spec.name)


def rank(
    shard: Shard, spec: VectorSpec, query: np.ndarray, predicate: Predicate | None
) -> Iterable[tuple[bytes, StoredObject, float]]:
    """Every candidate with its distance, nearest first; ties keep uuid order."""
    if spec.multi:
        rows = [(k, o) for k, o in shard.in_order() if _vector_of(o, spec)]
        _check_dims(shard, spec, query.shape[1])
        dists = np.array(
            [multi_distance(spec.distance, multi_matrix(_vector_of(o, spec) or b""), query) for _, o in rows],
            dtype=np.float32,
        )
    else:
        rows, matrix = _single_matrix(shard, spec)
        _check_dims(shard, spec, query.shape[0])
        dists = single_distances(spec.distance, matrix, query) if rows else np.zeros(0, np.float32)
    if predicate is not None:
        keep = [i for i, (k, o) in enumerate(rows) if predicate(k, o)]
        rows = [rows[i] for i in keep]
        dists = dists[keep]
    order = np.argsort(dists, kind="stable")
    return ((rows[i][0], rows[i][1], float(dists[i])) for i in order)


def _check_dims(shard: Shard, spec: VectorSpec, query_dim: int) -> None:
    stored = shard.dims.get(spec.name)
    if stored is not None and stored != query_dim:
        raise ServerError(
            "explorer: get class: vector search: knn search: distance between entrypoint and query node: "
            f"vector lengths don't match: {stored} vs {query_dim}"
        )
