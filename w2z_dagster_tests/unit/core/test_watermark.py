"""The time windows of a sync by time, over a fake source that behaves as Weaviate's filtered lists do."""

from __future__ import annotations

import pytest

from w2z_dagster.core.schema import CollectionSchema, SourceObject
from w2z_dagster.core.watermark import MAX_RESULTS, Lag, TooDense, changed_pages, since

SCHEMA = CollectionSchema(name="Articles", index_timestamps=True)


class FakeSource:
    """Objects by update ms; a list returns at most `limit` after `offset`, counts cost no object."""

    def __init__(self, times: list[int]) -> None:
        self.times = times
        self.counts = 0
        self.fetches: list[tuple[int, int, int, int]] = []

    def _between(self, since_ms: int, until_ms: int) -> list[int]:
        return [i for i, t in enumerate(self.times) if since_ms <= t < until_ms]

    def count_updated(self, name: str, tenant: str | None, since_ms: int, until_ms: int) -> int:
        self.counts += 1
        return len(self._between(since_ms, until_ms))

    def updated(
        self,
        schema: CollectionSchema,
        tenant: str | None,
        since_ms: int,
        until_ms: int,
        limit: int,
        offset: int = 0,
    ) -> list[SourceObject]:
        assert offset + limit <= MAX_RESULTS
        self.fetches.append((since_ms, until_ms, limit, offset))
        hits = self._between(since_ms, until_ms)[offset : offset + limit]
        return [SourceObject(uuid=f"{i:032x}", properties={}) for i in hits]


def _uuids(pages: list[list[SourceObject]]) -> list[str]:
    return sorted(o.uuid for page in pages for o in page)


def test_windows_are_halved_until_each_fits_one_page_and_every_change_is_read_once() -> None:
    source = FakeSource([t * 3 for t in range(100)])

    pages = list(changed_pages(source, SCHEMA, None, 0, 300, 10))

    assert _uuids(pages) == [f"{i:032x}" for i in range(100)]
    assert (len(pages), max(len(p) for p in pages)) == (16, 7)
    assert all(limit == 11 and offset == 0 for _, _, limit, offset in source.fetches)


def test_only_the_window_range_is_read() -> None:
    source = FakeSource([5, 10, 20, 30])

    pages = list(changed_pages(source, SCHEMA, None, 10, 30, 10))

    assert _uuids(pages) == [f"{i:032x}" for i in (1, 2)]
    assert source.fetches == [(10, 30, 11, 0)]


def test_one_millisecond_holding_more_than_a_page_is_paged_by_offset() -> None:
    source = FakeSource([7] * 25 + [9])

    pages = list(changed_pages(source, SCHEMA, None, 0, 16, 10))

    assert _uuids(pages) == [f"{i:032x}" for i in range(26)]
    assert [(s, u, offset) for s, u, _, offset in source.fetches if u - s == 1] == [
        (7, 8, 0),
        (7, 8, 10),
        (7, 8, 20),
    ]


def test_more_objects_in_one_millisecond_than_a_filtered_list_returns_is_too_dense() -> None:
    source = FakeSource([4] * (MAX_RESULTS + 1))

    with pytest.raises(TooDense, match="10001 objects share the update time 4 ms"):
        list(changed_pages(source, SCHEMA, None, 4, 5, 1000))


def test_the_largest_batch_size_still_fits_one_more_in_a_filtered_list() -> None:
    source = FakeSource([1] * 3 + [2])

    pages = list(changed_pages(source, SCHEMA, None, 0, 10, MAX_RESULTS))

    assert _uuids(pages) == [f"{i:032x}" for i in range(4)]
    assert source.fetches == [(0, 10, MAX_RESULTS, 0)]


def test_nothing_changed_costs_one_count_and_no_fetch() -> None:
    source = FakeSource([1, 2, 3])

    assert list(changed_pages(source, SCHEMA, None, 100, 200, 10)) == []
    assert (source.counts, source.fetches) == (1, [])


def test_the_margin_reaches_back_but_never_before_the_epoch_and_lag_is_now_minus_watermark() -> None:
    assert since(10_000, 3_000) == 7_000
    assert since(1_000, 3_000) == 0
    assert Lag(watermark_ms=1_000, now_ms=4_500).seconds == 3.5
