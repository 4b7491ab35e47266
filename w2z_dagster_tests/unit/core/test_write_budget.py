"""The request budget counts what goes on the wire: UTF-8 bytes, raw float32 bytes."""

from __future__ import annotations

import numpy as np

from w2z_dagster.core.write_budget import rows_bytes, split_rows, value_bytes


def test_strings_count_in_utf8_bytes_and_vectors_in_raw_bytes() -> None:
    assert value_bytes("abc") == 3
    assert value_bytes("é" * 10) == 20
    assert value_bytes("中文") == 6
    assert value_bytes(np.zeros(8, dtype=np.float32)) == 32
    assert value_bytes({"ключ": ["a", 1]}) == 8 + (1 + 8 + 2) + 2


def test_rows_are_split_into_near_equal_requests_within_both_limits() -> None:
    rows = [{"id": f"{i:02d}", "t": "é" * 50} for i in range(10)]
    nbytes = rows_bytes(rows)

    parts = list(split_rows(rows, nbytes, max_rows=4, max_bytes=nbytes))
    by_bytes = list(split_rows(rows, nbytes, max_rows=100, max_bytes=nbytes // 5))

    assert nbytes == 10 * (2 + 100)
    assert [len(p) for p, _ in parts] == [4, 3, 3]
    assert [len(p) for p, _ in by_bytes] == [2, 2, 2, 2, 2]
    assert [b for _, b in by_bytes] == [204] * 5
    assert [r for p, _ in by_bytes for r in p] == rows
