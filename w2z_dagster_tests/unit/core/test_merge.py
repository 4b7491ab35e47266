"""The sorted merge that identity verification (and sync) stand on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from w2z_dagster.core.merge import Merged, Side, UnsortedInputError, merge_sorted


def _sides(left: list[int], right: list[int]) -> list[tuple[int, Side]]:
    return [(m.key, m.side) for m in merge_sorted(left, right, lambda x: x, lambda x: x)]


B, L, R = Side.BOTH, Side.LEFT, Side.RIGHT


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        ([], [], []),
        ([1, 2], [], [(1, L), (2, L)]),
        ([], [1, 2], [(1, R), (2, R)]),
        ([1, 2, 3], [1, 2, 3], [(1, B), (2, B), (3, B)]),
        ([1, 3, 5], [2, 4, 6], [(1, L), (2, R), (3, L), (4, R), (5, L), (6, R)]),
        ([1, 2, 3, 4], [2, 3], [(1, L), (2, B), (3, B), (4, L)]),
        ([2, 3], [1, 2, 3, 4], [(1, R), (2, B), (3, B), (4, R)]),
        ([1, 9], [5], [(1, L), (5, R), (9, L)]),
    ],
)
def test_merge_pairs_each_key_once_in_order(
    left: list[int], right: list[int], expected: list[tuple[int, Side]]
) -> None:
    assert _sides(left, right) == expected


def test_items_are_paired_with_their_counterpart_through_different_keys() -> None:
    weaviate = [("a", 1), ("c", 3)]
    milvus = [{"id": "t:a"}, {"id": "t:b"}]

    merged = list(merge_sorted(weaviate, milvus, lambda w: f"t:{w[0]}", lambda m: m["id"]))

    assert merged == [
        Merged("t:a", ("a", 1), {"id": "t:a"}),
        Merged("t:b", None, {"id": "t:b"}),
        Merged("t:c", ("c", 3), None),
    ]


@pytest.mark.parametrize(
    ("left", "right", "label"),
    [([2, 1], [], "Weaviate"), ([], [1, 1], "Milvus"), ([1, 2], [1, 3, 2], "Milvus")],
)
def test_unsorted_or_duplicate_input_is_refused_naming_the_side(
    left: list[int], right: list[int], label: str
) -> None:
    with pytest.raises(UnsortedInputError, match=label):
        list(merge_sorted(left, right, lambda x: x, lambda x: x, labels=("Weaviate", "Milvus")))


def test_merge_is_lazy_and_reads_no_further_than_it_has_yielded() -> None:
    pulled: list[int] = []

    def counting(n: int) -> Iterator[int]:
        for i in range(n):
            pulled.append(i)
            yield i

    merged = merge_sorted(counting(1_000_000), iter(range(1_000_000)), lambda x: x, lambda x: x)
    first = [next(merged) for _ in range(3)]

    assert [m.key for m in first] == [0, 1, 2]
    assert len(pulled) == 3
