"""The slice planner: which cut a collection's ids get, tenant packing, and where a checkpoint resumes."""

from __future__ import annotations

import bisect
import itertools
import random
import uuid
from collections.abc import Iterable

import pytest

from w2z_dagster.core.schema import CollectionSchema, TenantSpec
from w2z_dagster.core.slices import (
    BALANCE,
    SPACE,
    KeyRange,
    SliceMethod,
    SlicePlan,
    SliceSettings,
    SliceWork,
    key,
    last_id,
    pack,
    plan_slices,
    probe_passes,
    quantile_boundaries,
    remaining,
    slice_count,
)


class Ids:
    """A shard's sorted keys with the cursor's seek: the first key above `after`."""

    def __init__(self, values: Iterable[int]) -> None:
        self.sorted = sorted(set(values))
        self.keys = [key(v) for v in self.sorted]
        self.seeks = 0

    def seek(self, tenant: str | None, after: str | None) -> str | None:
        self.seeks += 1
        i = 0 if after is None else bisect.bisect_right(self.keys, after)
        return self.keys[i] if i < len(self.keys) else None

    def scan(self, tenant: str | None) -> list[str]:
        return self.keys

    def per_range(self, ranges: list[KeyRange]) -> list[int]:
        return [sum(1 for k in self.keys if r.contains(k)) for r in ranges]


def _random(n: int, seed: int = 7) -> list[int]:
    rng = random.Random(seed)
    return [rng.getrandbits(128) for _ in range(n)]


def _sequential(n: int) -> list[int]:
    return list(range(1, n + 1))


def _time_ordered(n: int, seed: int = 7) -> list[int]:
    """UUIDv7-like: a millisecond prefix (10 objects per ms, steady) and random low bits."""
    rng = random.Random(seed)
    start = 1_700_000_000_000
    return [((start + i // 10) << 80) | rng.getrandbits(74) for i in range(n)]


def _clustered(n: int, seed: int = 7) -> list[int]:
    """Half random ids, half sequential ones near zero: neither probe accepts it."""
    return _random(n // 2, seed) + _sequential(n - n // 2)


def _schema(objects: int) -> CollectionSchema:
    return CollectionSchema(name="Doc", object_count=objects)


def _mt_schema(counts: dict[str, int], inactive: tuple[str, ...] = ()) -> CollectionSchema:
    tenants = tuple(TenantSpec(name=t, status="ACTIVE") for t in counts) + tuple(
        TenantSpec(name=t, status="INACTIVE") for t in inactive
    )
    return CollectionSchema(
        name="Mt",
        multi_tenant=True,
        tenants=tenants,
        object_count=sum(counts.values()),
        counts_by_tenant=counts,
    )


def _ranges(plan: SlicePlan) -> list[KeyRange]:
    return [w.range for s in plan.slices for w in s.work]


@pytest.mark.parametrize(
    ("objects", "slices", "minimum", "expected"),
    [
        (0, 4, 100_000, 1),
        (199_999, 4, 100_000, 1),
        (200_000, 4, 100_000, 2),
        (1_000_000, 4, 100_000, 4),
        (20_000, 4, 5_000, 4),
        (20_000, 8, 5_000, 4),
        (20_000, 1, 1, 1),
    ],
)
def test_slice_count_keeps_slices_above_the_minimum(
    objects: int, slices: int, minimum: int, expected: int
) -> None:
    assert slice_count(objects, SliceSettings(slices=slices, min_slice_objects=minimum)) == expected


def test_a_small_collection_is_one_slice_of_the_whole_collection() -> None:
    ids = Ids(_random(500))
    plan = plan_slices(_schema(500), SliceSettings(slices=4), ids.seek, ids.scan)
    assert plan.method is SliceMethod.SINGLE
    assert [s.model_dump() for s in plan.slices] == [
        {"index": 0, "work": ({"tenant": None, "range": {"after": None, "before": None}, "objects": 500},)}
    ]
    assert ids.seeks == 0


def test_a_small_multi_tenant_collection_is_one_slice_of_its_readable_tenants_in_order() -> None:
    plan = plan_slices(
        _mt_schema({"b": 2, "a": 3}, inactive=("z",)), SliceSettings(slices=4), Ids([]).seek, Ids([]).scan
    )
    assert plan.method is SliceMethod.SINGLE
    assert [(w.tenant, w.range, w.objects) for w in plan.slices[0].work] == [
        ("b", KeyRange(), 2),
        ("a", KeyRange(), 3),
    ]


def test_random_ids_are_split_by_leading_bits() -> None:
    ids = Ids(_random(2_000))
    plan = plan_slices(_schema(2_000), SliceSettings(slices=4, min_slice_objects=500), ids.seek, ids.scan)
    assert plan.method is SliceMethod.UNIFORM
    assert _ranges(plan) == [
        KeyRange(after=None, before="40000000-0000-0000-0000-000000000000"),
        KeyRange(after="3fffffff-ffff-ffff-ffff-ffffffffffff", before="80000000-0000-0000-0000-000000000000"),
        KeyRange(after="7fffffff-ffff-ffff-ffff-ffffffffffff", before="c0000000-0000-0000-0000-000000000000"),
        KeyRange(after="bfffffff-ffff-ffff-ffff-ffffffffffff", before=None),
    ]
    assert [s.objects for s in plan.slices] == [500, 500, 500, 500]
    assert ids.per_range(_ranges(plan)) == [501, 485, 492, 522]
    assert ids.seeks == 64


def test_sequential_ids_are_split_evenly_over_their_span() -> None:
    ids = Ids(_sequential(2_000))
    plan = plan_slices(_schema(2_000), SliceSettings(slices=4, min_slice_objects=500), ids.seek, ids.scan)
    assert plan.method is SliceMethod.SPAN
    assert _ranges(plan)[1] == KeyRange(
        after="00000000-0000-0000-0000-0000000001f4", before="00000000-0000-0000-0000-0000000003e9"
    )
    assert ids.per_range(_ranges(plan)) == [500, 500, 500, 500]


def test_time_ordered_ids_get_boundaries_at_their_quantiles() -> None:
    """Random bits only below a millisecond prefix leave gaps inside the span: the span probe refuses."""
    ids = Ids(_time_ordered(4_000))
    plan = plan_slices(_schema(4_000), SliceSettings(slices=4, min_slice_objects=1_000), ids.seek, ids.scan)
    assert plan.method is SliceMethod.QUANTILES
    assert ids.per_range(_ranges(plan)) == [1000, 1000, 1000, 1000]


def test_clustered_ids_get_boundaries_at_their_quantiles() -> None:
    ids = Ids(_clustered(2_000))
    plan = plan_slices(_schema(2_000), SliceSettings(slices=4, min_slice_objects=500), ids.seek, ids.scan)
    assert plan.method is SliceMethod.QUANTILES
    assert ids.per_range(_ranges(plan)) == [500, 500, 500, 500]
    assert _ranges(plan)[1].before == ids.keys[1000]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (_random(2_000), True),
        (_random(1_000), True),
        (_random(63), False),
        (_sequential(2_000), False),
        (_time_ordered(2_000), False),
        (_clustered(2_000), False),
        ([v for v in _random(4_000) if v >> 127 == 0] + [v | 1 << 127 for v in _random(400, seed=8)], False),
    ],
)
def test_the_probe_accepts_only_ids_spread_over_the_whole_space(values: list[int], expected: bool) -> None:
    ids = Ids(values)
    assert probe_passes(ids.seek, None, 0, SPACE - 1, len(ids.keys)) is expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [([], None), ([5], 5), ([1, 2, 3], 3), ([0, SPACE - 1], SPACE - 1), ([2**64, 2**100 + 7], 2**100 + 7)],
)
def test_last_id_is_found_by_bisection(values: list[int], expected: int | None) -> None:
    ids = Ids(values)
    assert last_id(ids.seek, None) == expected
    assert ids.seeks <= 129


@pytest.mark.parametrize(
    ("objects", "parts", "expected"),
    [(10, 2, [5]), (10, 3, [3, 6]), (12, 4, [3, 6, 9]), (10, 1, []), (20, 2, [10])],
)
def test_quantile_boundaries_are_the_ids_at_equal_ranks(
    objects: int, parts: int, expected: list[int]
) -> None:
    ids = [key(v * 10) for v in range(10)]
    assert quantile_boundaries(ids, objects, parts) == [v * 10 for v in expected if v < 10]


def test_tenants_are_packed_and_a_tenant_larger_than_a_slice_is_split_by_range() -> None:
    counts = {"a": 300_000, "b": 100_000, "c": 100_000, "d": 100_000, "e": 100_000}
    plan = plan_slices(_mt_schema(counts), SliceSettings(slices=3), Ids([]).seek, Ids([]).scan)
    assert plan.method is SliceMethod.TENANTS
    half = "7fffffff-ffff-ffff-ffff-ffffffffffff"
    assert [[(w.tenant, w.range, w.objects) for w in s.work] for s in plan.slices] == [
        [("a", KeyRange(before="80000000-0000-0000-0000-000000000000"), 150_000), ("d", KeyRange(), 100_000)],
        [("a", KeyRange(after=half), 150_000), ("e", KeyRange(), 100_000)],
        [("b", KeyRange(), 100_000), ("c", KeyRange(), 100_000)],
    ]


@pytest.mark.parametrize(
    ("counts", "parts"),
    [
        ([1000] * 5, 4),
        ([50_000, 30_000, 10_000] + [5_000] * 4 + [1_000] * 10, 4),
        ([900_000] + [100] * 1000, 8),
        ([7, 3, 3, 2, 2, 2, 1] * 300, 8),
        (list(range(1, 2001)), 3),
        ([400_000, 400_000, 400_000], 2),
        ([0, 0, 250_000, 1], 2),
    ],
)
def test_uneven_tenants_are_packed_within_balance_of_ideal(counts: list[int], parts: int) -> None:
    by_tenant = {f"t{i:05d}": c for i, c in enumerate(counts)}
    schema = _mt_schema(by_tenant)
    plan = plan_slices(schema, SliceSettings(slices=parts, min_slice_objects=1), Ids([]).seek, Ids([]).scan)
    assert len(plan.slices) == parts
    assert max(s.objects for s in plan.slices) <= BALANCE * sum(counts) / parts
    pieces = sorted((w for s in plan.slices for w in s.work), key=lambda w: w.order)
    covered = {t: sum(w.objects for w in pieces if w.tenant == t) for t in by_tenant}
    assert covered == by_tenant
    for tenant in by_tenant:
        ranges = [w.range for w in pieces if w.tenant == tenant]
        assert ranges[0].after is None and ranges[-1].before is None
        assert all(
            b.after is not None and a.before == key(uuid.UUID(b.after).int + 1)
            for a, b in itertools.pairwise(ranges)
        )


def test_pack_puts_the_largest_piece_first_on_the_least_loaded_slice() -> None:
    pieces = [SliceWork(tenant=t, objects=n) for t, n in [("a", 5), ("b", 4), ("c", 3), ("d", 3), ("e", 3)]]
    assert [[p.tenant for p in b] for b in pack(pieces, 2)] == [["a", "d"], ["b", "c", "e"]]


RANGES = (
    SliceWork(tenant="a", range=KeyRange(before="80000000-0000-0000-0000-000000000000")),
    SliceWork(tenant="a", range=KeyRange(after="7fffffff-ffff-ffff-ffff-ffffffffffff")),
    SliceWork(tenant="b"),
)


@pytest.mark.parametrize(
    ("tenant", "after", "expected"),
    [
        (
            None,
            None,
            [
                ("a", None, "80000000-0000-0000-0000-000000000000"),
                ("a", "7fffffff-ffff-ffff-ffff-ffffffffffff", None),
                ("b", None, None),
            ],
        ),
        (
            "a",
            "10000000-0000-0000-0000-000000000000",
            [
                ("a", "10000000-0000-0000-0000-000000000000", "80000000-0000-0000-0000-000000000000"),
                ("a", "7fffffff-ffff-ffff-ffff-ffffffffffff", None),
                ("b", None, None),
            ],
        ),
        (
            "a",
            "7fffffff-ffff-ffff-ffff-ffffffffffff",
            [
                ("a", "7fffffff-ffff-ffff-ffff-ffffffffffff", "80000000-0000-0000-0000-000000000000"),
                ("a", "7fffffff-ffff-ffff-ffff-ffffffffffff", None),
                ("b", None, None),
            ],
        ),
        (
            "a",
            "90000000-0000-0000-0000-000000000000",
            [("a", "90000000-0000-0000-0000-000000000000", None), ("b", None, None)],
        ),
        ("b", "00000000-0000-0000-0000-000000000005", [("b", "00000000-0000-0000-0000-000000000005", None)]),
        ("c", "00000000-0000-0000-0000-000000000005", []),
    ],
)
def test_remaining_work_resumes_in_the_piece_holding_the_checkpoint(
    tenant: str | None, after: str | None, expected: list[tuple[str, str | None, str | None]]
) -> None:
    assert [(w.tenant, w.range.after, w.range.before) for w in remaining(RANGES, tenant, after)] == expected


def test_remaining_without_tenants_resumes_after_the_checkpoint() -> None:
    work = (
        SliceWork(
            range=KeyRange(
                after="3fffffff-ffff-ffff-ffff-ffffffffffff", before="80000000-0000-0000-0000-000000000000"
            )
        ),
    )
    got = list(remaining(work, None, "40000000-0000-0000-0000-0000000000aa"))
    assert got == [
        SliceWork(
            range=KeyRange(
                after="40000000-0000-0000-0000-0000000000aa", before="80000000-0000-0000-0000-000000000000"
            )
        )
    ]


def test_a_plan_differs_in_cut_but_not_in_estimates() -> None:
    ids = Ids(_random(2_000))
    four = plan_slices(_schema(2_000), SliceSettings(slices=4, min_slice_objects=500), ids.seek, ids.scan)
    two = plan_slices(_schema(2_000), SliceSettings(slices=2, min_slice_objects=500), ids.seek, ids.scan)
    recounted = plan_slices(
        _schema(2_400), SliceSettings(slices=4, min_slice_objects=500), ids.seek, ids.scan
    )
    assert four.same_cut(recounted)
    assert not four.same_cut(two)
    assert four.slice(3) is four.slices[3]
    assert four.slice(4) is None


def test_a_plan_numbers_its_slices_in_order() -> None:
    with pytest.raises(ValueError, match=r"slices must be numbered 0, 1, \.\.\. in order"):
        SlicePlan(collection="Doc", method=SliceMethod.SINGLE, slices=({"index": 1, "work": ()},))
