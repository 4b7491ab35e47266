"""Changes found by time: the objects Weaviate updated since the last sync, read in bounded windows.

With `indexTimestamps`, Weaviate filters on `_lastUpdateTimeUnix` (ms). A filtered list cannot be paged
by cursor (Weaviate refuses `after` with a filter) and sorts nothing by itself, and offset paging is
capped at QUERY_MAXIMUM_RESULTS (offset + limit <= 10,000). So the time range is cut into windows that
each hold at most one page: a filtered aggregate counts a window (no object on the wire), a window
holding more is halved, and each small window is fetched whole in one request. Only a single
millisecond holding more than a page (one batch import stamps all its objects alike) is paged by
offset; more than 10,000 objects in one millisecond cannot be listed at all, and the tenant falls back
to the full merge (`TooDense`).

The window starts `margin_ms` before the watermark: an object's update time is taken when Weaviate
receives the write, and it becomes visible only once the write is applied (a batch request may run up to
weaviate-client's 90 s insert timeout), and the nodes' clocks may disagree. Any write whose time
precedes the previous sync's start by less than the margin is read again, and the re-read is cheap
(`core/sync.py` skips objects whose row already carries their update time).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from pydantic import BaseModel

from w2z_dagster.core.schema import CollectionSchema, SourceObject

MAX_RESULTS = 10_000
"""Weaviate's QUERY_MAXIMUM_RESULTS default: offset + limit of one filtered list."""


class TooDense(RuntimeError):
    """More objects share one millisecond than a filtered list can return."""


class ChangeSource(Protocol):
    def count_updated(self, name: str, tenant: str | None, since_ms: int, until_ms: int) -> int: ...

    def updated(
        self,
        schema: CollectionSchema,
        tenant: str | None,
        since_ms: int,
        until_ms: int,
        limit: int,
        offset: int = 0,
    ) -> list[SourceObject]: ...


class Lag(BaseModel):
    """How far the target trails the source: now minus the watermark (when this run's reads began).

    `previous_ms` is the watermark the run started from: its distance to this one is how far the target
    was behind when the run began.
    """

    watermark_ms: int
    now_ms: int
    previous_ms: int | None = None

    @property
    def seconds(self) -> float:
        return round((self.now_ms - self.watermark_ms) / 1000, 3)


def since(watermark_ms: int, margin_ms: int) -> int:
    return max(0, watermark_ms - margin_ms)


def changed_pages(
    source: ChangeSource,
    schema: CollectionSchema,
    tenant: str | None,
    since_ms: int,
    until_ms: int,
    page_size: int,
) -> Iterator[list[SourceObject]]:
    """Every object updated in [since_ms, until_ms), in pages of at most `page_size` (windows in time order).

    A window fetched with one more than a page and found fuller than counted (writes landed since the
    count) is halved again, so no page is ever cut short silently; that one more must fit in
    QUERY_MAXIMUM_RESULTS too, so a page is at most 9,999 objects.
    """
    page_size = min(page_size, MAX_RESULTS - 1)
    windows = [(since_ms, until_ms)]
    while windows:
        lo, hi = windows.pop()
        count = source.count_updated(schema.name, tenant, lo, hi)
        if count == 0:
            continue
        if count <= page_size:
            objects = source.updated(schema, tenant, lo, hi, page_size + 1)
            if len(objects) <= page_size:
                yield objects
                continue
        if hi - lo > 1:
            mid = (lo + hi) // 2
            windows += [(mid, hi), (lo, mid)]
        else:
            yield from _one_millisecond(source, schema, tenant, lo, page_size)


def _one_millisecond(
    source: ChangeSource, schema: CollectionSchema, tenant: str | None, at: int, page_size: int
) -> Iterator[list[SourceObject]]:
    count = source.count_updated(schema.name, tenant, at, at + 1)
    if count > MAX_RESULTS:
        raise TooDense(f"{count} objects share the update time {at} ms")
    for offset in range(0, count, page_size):
        yield source.updated(schema, tenant, at, at + 1, min(page_size, MAX_RESULTS - offset), offset)
