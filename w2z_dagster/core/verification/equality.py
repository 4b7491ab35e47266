"""When a value read back from Milvus is the value Weaviate holds: equality by type, for verification.

Dates compare as instants, numbers exactly, vectors bit-exactly at float32 (the precision Weaviate
stores) and geo coordinates at float32 (the precision Weaviate returns).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np

from w2z_dagster.core.schema import WeaviateType
from w2z_dagster.core.transform import parse_date

VECTOR = "vector"
MULTI_VECTOR = "multi-vector"
"""Extra kinds accepted by `values_equal` next to the Weaviate types."""


def _as_float32_bytes(value: Any) -> bytes:
    return np.asarray(value, dtype=np.float32).tobytes()


def _same_date(a: Any, b: Any) -> bool:
    if not isinstance(a, datetime | str) or not isinstance(b, datetime | str):
        return False
    try:
        return parse_date(a) == parse_date(b)
    except ValueError:
        return False


def _loose_equal(a: Any, b: Any) -> bool:
    """Structural equality for JSON-held values: dates compare as instants, everything else exactly."""
    if isinstance(a, datetime) or isinstance(b, datetime):
        return _same_date(a, b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_loose_equal(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_loose_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def values_equal(weaviate_type: WeaviateType | str, a: Any, b: Any) -> bool:
    """Type-aware equality for verification.

    Dates compare as instants, numbers exactly, vectors bit-exactly at float32 (the precision Weaviate
    stores) and geo coordinates at float32 (the precision Weaviate returns).
    """
    if a is None or b is None:
        return a is None and b is None
    kind = str(weaviate_type)
    if kind in (VECTOR, MULTI_VECTOR):
        return np.shape(a) == np.shape(b) and _as_float32_bytes(a) == _as_float32_bytes(b)
    if kind == WeaviateType.DATE:
        return _same_date(a, b)
    if kind == WeaviateType.DATE_ARRAY:
        return len(a) == len(b) and all(_same_date(x, y) for x, y in zip(a, b, strict=True))
    if kind == WeaviateType.UUID:
        return str(a).lower() == str(b).lower()
    if kind in (WeaviateType.UUID_ARRAY, WeaviateType.REFERENCE):
        return [str(x).lower() for x in a] == [str(y).lower() for y in b]
    if kind == WeaviateType.GEO:
        return all(_as_float32_bytes(a[k]) == _as_float32_bytes(b[k]) for k in ("latitude", "longitude"))
    return _loose_equal(a, b)
