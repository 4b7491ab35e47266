"""How big a write is, and how to cut rows into requests the target accepts.

Milvus and Zilliz Cloud limit each request (64 MB) and meter writes in MB/s, both in bytes on the wire,
so strings count in UTF-8 bytes: a page of CJK text is three times its length in characters. Copies and
syncs share these, so a sync obeys the same budget as the copy it keeps in step.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

DEFAULT_WRITE_BYTES = 16 * 1024 * 1024
"""A quarter of the 64 MB request limit of Milvus and Zilliz Cloud, leaving room for encoding overhead."""


def value_bytes(value: Any) -> int:
    """Approximate bytes on the wire; good enough for a request budget and a rate cap."""
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, str):
        return len(value) if value.isascii() else len(value.encode("utf-8"))
    if isinstance(value, dict):
        return sum(value_bytes(k) + value_bytes(v) for k, v in value.items()) + 2
    if isinstance(value, list | tuple):
        return sum(value_bytes(v) for v in value) + 2
    return 8


def rows_bytes(rows: list[dict[str, Any]]) -> int:
    return sum(value_bytes(v) for row in rows for v in row.values())


def split_rows(
    rows: list[dict[str, Any]], nbytes: int, max_rows: int, max_bytes: int
) -> Iterator[tuple[list[dict[str, Any]], int]]:
    """`rows` (of `nbytes` in all) in as few requests within both limits as possible, of near-equal size."""
    parts = min(len(rows), max(math.ceil(len(rows) / max_rows), math.ceil(nbytes / max_bytes), 1))
    start = 0
    for part in range(parts):
        stop = start + len(rows) // parts + (1 if part < len(rows) % parts else 0)
        yield rows[start:stop], nbytes * (stop - start) // len(rows)
        start = stop
