"""The benchmark's data set: one collection, a few scalar properties and one vector, fully deterministic.

Every scenario derives the same objects from `(index, dim)` alone, so the write-only scenario can prepare
exactly the rows the source server holds without reading them back, and two runs compare like with like.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np

COLLECTION = "Bench"
NAMESPACE = uuid.UUID("3b0a7f4e-5c1d-4e8a-9f2b-6a7c8d9e0f10")
CHUNK = 1000
"""Objects generated per random draw: one vector matrix per chunk keeps generation vectorised."""

CLASS_BODY: dict[str, Any] = {
    "class": COLLECTION,
    "vectorConfig": {
        "default": {
            "vectorizer": {"none": {}},
            "vectorIndexType": "hnsw",
            "vectorIndexConfig": {"distance": "cosine"},
        }
    },
    "properties": [
        {"name": "title", "dataType": ["text"]},
        {"name": "category", "dataType": ["text"]},
        {"name": "views", "dataType": ["int"]},
        {"name": "score", "dataType": ["number"]},
        {"name": "published", "dataType": ["boolean"]},
    ],
}


def object_uuid(index: int) -> str:
    """Random-looking UUIDs, so cursor order is not insertion order, as in a real collection."""
    return str(uuid.uuid5(NAMESPACE, str(index)))


def properties(index: int) -> dict[str, Any]:
    return {
        "title": f"Benchmark object {index}: a title of a typical length for search results",
        "category": f"category-{index % 17}",
        "views": index * 31 % 100_000,
        "score": (index % 1000) / 7.0,
        "published": index % 2 == 0,
    }


def vectors(start: int, stop: int, dim: int) -> np.ndarray:
    """Vectors of objects `start..stop`, the same whichever chunk boundaries the caller uses."""
    first, last = start // CHUNK, (stop - 1) // CHUNK
    blocks = [
        np.random.default_rng(c).standard_normal((CHUNK, dim), dtype=np.float32)
        for c in range(first, last + 1)
    ]
    whole = np.concatenate(blocks) if len(blocks) > 1 else blocks[0]
    offset = first * CHUNK
    return whole[start - offset : stop - offset]


def chunks(total: int, dim: int, size: int = CHUNK) -> Iterator[tuple[int, np.ndarray]]:
    """(first index, vectors) per chunk of `size` objects."""
    for start in range(0, total, size):
        stop = min(start + size, total)
        yield start, vectors(start, stop, dim)
