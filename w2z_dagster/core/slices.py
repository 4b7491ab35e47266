"""How one collection's copy splits into slices that separate runs copy side by side.

A slice is a list of pieces of work, each a tenant (or the collection without tenants) and a range of
UUIDs. Weaviate's cursor walks a shard in UUID byte order and its `after` is a seek key that need not
exist (`shard.cursorObjectList`: `Seek(after)`, skipping only an exact match), so a reader can start
anywhere in the UUID space and stop itself at the next boundary; a range is therefore just two keys.

Single-tenant collections are cut by UUID, the cut chosen by what the ids look like:

- `uniform`: the 128-bit space split evenly (by leading bits for a power of two), when a probe of 64
  evenly spaced seeks finds every 64th of the space occupied and the gaps behind the probe points as
  short as N random ids would leave them. UUIDv4/v5 keys, what Weaviate and its clients generate, pass.
- `span`: ids that fill only a part of the space (sequential or time-ordered ids chosen by the user)
  fail that probe. Then the first and the last id are found by seeks (the last by a 128-step bisection
  of "is there an id after x") and the same probe is run inside [first, last]; sequential ids pass it
  and the span is split evenly.
- `quantiles`: ids clustered in a way neither probe accepts (time-ordered UUIDv7 among them: their
  random bits lie below a millisecond prefix, so the span is full of gaps) are scanned once, uuid only, and the
  boundaries are the ids at ranks N/K, 2N/K, ...: exact balance for one cheap pass over keys, paid only
  by collections whose ids would otherwise leave one slice with most of the work.

Multi-tenant collections are packed by object count (each tenant is one shard and one cursor): greedy
longest-processing-time into K slices. A tenant larger than what the packing can balance is split into
UUID ranges (uniform; Weaviate-generated keys), first into pieces of at most one slice, then ever finer
until the largest slice is within `BALANCE` of the ideal; pieces of at most a fifth of the ideal always
get there, since greedy packing ends at most one piece above the average.

A collection smaller than two slices of `min_slice_objects` stays one slice holding every readable
tenant in order, so its runs are the copy as it always was.
"""

from __future__ import annotations

import heapq
import itertools
import math
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from w2z_dagster.core.schema import CollectionSchema
from w2z_dagster.core.tenants import tenants_to_read

SPACE = 1 << 128
PROBES = 64
MAX_MEAN_GAP = 1.5
"""Mean gap behind a probe point, in units of (range width / objects); N random ids give 1 (sd 1/8)."""
BALANCE = 1.2
"""The largest slice of a multi-tenant plan may hold at most this times the ideal (total / K)."""
MAX_SLICES = 8
"""Slices one collection may have: the static slice dimension of the copy's partitions."""
DEFAULT_MIN_SLICE_OBJECTS = 100_000
"""Fewer objects than two such slices: one slice, the copy as before slicing."""

Seek = Callable[[str | None, str | None], str | None]
"""(tenant, after) → the first uuid above `after` (None: from the start), or None past the last one."""
IdScan = Callable[[str | None], Iterable[str]]
"""tenant → every uuid in ascending order."""


class SliceMethod(StrEnum):
    SINGLE = "single"
    UNIFORM = "uniform"
    SPAN = "span"
    QUANTILES = "quantiles"
    TENANTS = "tenants"


def key(value: int) -> str:
    """The canonical uuid string of a 128-bit integer; string order is byte order."""
    return str(uuid.UUID(int=value))


class KeyRange(BaseModel):
    """UUIDs strictly between `after` and `before`; None leaves that side open.

    `after` is exclusive like the cursor's own, so it is handed to the cursor as is; `before` is the next
    range's first possible key, where the reader stops.
    """

    model_config = ConfigDict(frozen=True)

    after: str | None = None
    before: str | None = None

    @classmethod
    def between(cls, low: int, high: int) -> KeyRange:
        """[low, high) of the 128-bit space."""
        return cls(after=None if low == 0 else key(low - 1), before=None if high >= SPACE else key(high))

    def contains(self, uuid_key: str) -> bool:
        return (self.after is None or uuid_key > self.after) and (
            self.before is None or uuid_key < self.before
        )


class SliceWork(BaseModel):
    """One cursor: a tenant (None without multi-tenancy) over one key range, and its estimated objects."""

    model_config = ConfigDict(frozen=True)

    tenant: str | None = None
    range: KeyRange = KeyRange()
    objects: int = 0

    @property
    def order(self) -> tuple[str, str]:
        """Where a checkpoint (tenant, last uuid) sorts: tenant first, then key."""
        return (self.tenant or "", self.range.after or "")


class Slice(BaseModel):
    """What one run copies, in the order a checkpoint can resume: tenant, then key."""

    model_config = ConfigDict(frozen=True)

    index: int
    work: tuple[SliceWork, ...]

    @property
    def objects(self) -> int:
        return sum(w.objects for w in self.work)


class SlicePlan(BaseModel):
    """The slices of one collection; recorded once and read back by every slice run."""

    model_config = ConfigDict(frozen=True)

    collection: str
    method: SliceMethod
    slices: tuple[Slice, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _indexed(self) -> SlicePlan:
        if [s.index for s in self.slices] != list(range(len(self.slices))):
            raise ValueError("slices must be numbered 0, 1, ... in order")
        return self

    def slice(self, index: int) -> Slice | None:
        """The slice of that index, or None beyond the plan (such a slice run has nothing to do)."""
        return self.slices[index] if 0 <= index < len(self.slices) else None

    def same_cut(self, other: SlicePlan) -> bool:
        """Whether both cut the collection the same way (estimates aside): a checkpoint means the same."""

        def cut(plan: SlicePlan) -> list[list[tuple[str | None, KeyRange]]]:
            return [[(w.tenant, w.range) for w in s.work] for s in plan.slices]

        return cut(self) == cut(other)


class SliceSettings(BaseModel):
    """How many slices a collection may get and how small a slice may be."""

    slices: int = Field(1, ge=1, le=MAX_SLICES)
    min_slice_objects: int = Field(DEFAULT_MIN_SLICE_OBJECTS, ge=1)


def slice_count(objects: int, settings: SliceSettings) -> int:
    """As many slices as asked for, but none smaller than `min_slice_objects`."""
    return max(1, min(settings.slices, objects // settings.min_slice_objects))


def _single(schema: CollectionSchema) -> SlicePlan:
    work = tuple(
        SliceWork(tenant=t, objects=schema.counts_by_tenant.get(t, 0) if t else schema.object_count)
        for t in tenants_to_read(schema)
    )
    return SlicePlan(collection=schema.name, method=SliceMethod.SINGLE, slices=(Slice(index=0, work=work),))


def _shares(total: int, parts: int) -> list[int]:
    """`total` in `parts` near-equal integers, larger first."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def _ranges(boundaries: Sequence[int]) -> list[KeyRange]:
    """Consecutive [b_i, b_i+1) ranges over the whole space from the inner boundaries."""
    edges = [0, *boundaries, SPACE]
    return [KeyRange.between(low, high) for low, high in itertools.pairwise(edges)]


def even_boundaries(low: int, high: int, parts: int) -> list[int]:
    """The `parts - 1` inner boundaries that split [low, high] into equal widths."""
    width = high - low + 1
    return [low + i * width // parts for i in range(1, parts)]


def probe_passes(seek: Seek, tenant: str | None, low: int, high: int, objects: int) -> bool:
    """Whether ids fill [low, high] evenly, by one seek from each of `PROBES` evenly spaced points.

    Every point must find an id before the next point, and the mean distance from a point to the id it
    finds must be what `objects` random ids would leave (`MAX_MEAN_GAP`). Sequential and time-ordered
    ids fail over the whole space: all points but the first find nothing or the same cluster.
    """
    width = high - low + 1
    if objects < PROBES or width < PROBES:
        return False
    points = [low + j * width // PROBES for j in range(PROBES)] + [high + 1]
    gaps = 0
    for point, following in itertools.pairwise(points):
        hit = seek(tenant, None if point == 0 else key(point - 1))
        if hit is None or uuid.UUID(hit).int >= following:
            return False
        gaps += uuid.UUID(hit).int - point
    return gaps / PROBES * objects / width <= MAX_MEAN_GAP


def last_id(seek: Seek, tenant: str | None) -> int | None:
    """The largest id, by bisection of "is there an id above x" (128 seeks)."""
    first = seek(tenant, None)
    if first is None:
        return None
    low, high = uuid.UUID(first).int, SPACE - 1
    while low < high:
        middle = (low + high + 1) // 2
        if seek(tenant, key(middle - 1)) is None:
            high = middle - 1
        else:
            low = middle
    return low


def quantile_boundaries(ids: Iterable[str], objects: int, parts: int) -> list[int]:
    """The ids at ranks objects/parts, 2·objects/parts, ...; fewer if the scan ends early."""
    ranks = [i * objects // parts for i in range(1, parts)]
    found: list[int] = []
    wanted = iter(ranks)
    target = next(wanted, None)
    for rank, uuid_key in enumerate(ids):
        if target is None:
            break
        if rank == target:
            found.append(uuid.UUID(uuid_key).int)
            target = next(wanted, None)
    return found


def _by_range(schema: CollectionSchema, parts: int, seek: Seek, scan: IdScan) -> SlicePlan:
    objects = schema.object_count
    method, boundaries = SliceMethod.UNIFORM, even_boundaries(0, SPACE - 1, parts)
    if not probe_passes(seek, None, 0, SPACE - 1, objects):
        first, last = seek(None, None), last_id(seek, None)
        low = uuid.UUID(first).int if first else 0
        high = SPACE - 1 if last is None else last
        if probe_passes(seek, None, low, high, objects):
            method, boundaries = SliceMethod.SPAN, even_boundaries(low, high, parts)
        else:
            method, boundaries = SliceMethod.QUANTILES, quantile_boundaries(scan(None), objects, parts)
    ranges = _ranges(boundaries)
    slices = tuple(
        Slice(index=i, work=(SliceWork(range=r, objects=n),))
        for i, (r, n) in enumerate(zip(ranges, _shares(objects, len(ranges)), strict=True))
    )
    return SlicePlan(collection=schema.name, method=method, slices=slices)


def _pieces(counts: dict[str, int], cap: int) -> list[SliceWork]:
    """Each tenant whole, or split into uniform UUID ranges of at most `cap` estimated objects."""
    pieces = []
    for tenant, count in counts.items():
        parts = max(1, math.ceil(count / cap))
        ranges = _ranges(even_boundaries(0, SPACE - 1, parts)) if parts > 1 else [KeyRange()]
        pieces.extend(
            SliceWork(tenant=tenant, range=r, objects=n)
            for r, n in zip(ranges, _shares(count, parts), strict=True)
        )
    return pieces


def pack(pieces: Iterable[SliceWork], parts: int) -> list[list[SliceWork]]:
    """Greedy LPT: largest piece first onto the least loaded slice (ties: lowest index)."""
    bins: list[list[SliceWork]] = [[] for _ in range(parts)]
    heap = [(0, i) for i in range(parts)]
    for piece in sorted(pieces, key=lambda p: (-p.objects, p.order)):
        load, index = heapq.heappop(heap)
        bins[index].append(piece)
        heapq.heappush(heap, (load + piece.objects, index))
    return [sorted(b, key=lambda p: p.order) for b in bins]


def _by_tenant(schema: CollectionSchema, parts: int) -> SlicePlan:
    counts = {t: schema.counts_by_tenant.get(t, 0) for t in tenants_to_read(schema) if t is not None}
    total = sum(counts.values())
    ideal = total / parts
    bins: list[list[SliceWork]] = []
    for divisor in range(1, 6):
        bins = pack(_pieces(counts, max(1, math.floor(ideal / divisor))), parts)
        if max(sum(p.objects for p in b) for b in bins) <= BALANCE * ideal:
            break
    slices = tuple(Slice(index=i, work=tuple(b)) for i, b in enumerate(b for b in bins if b))
    return SlicePlan(collection=schema.name, method=SliceMethod.TENANTS, slices=slices)


def plan_slices(schema: CollectionSchema, settings: SliceSettings, seek: Seek, scan: IdScan) -> SlicePlan:
    """The slices of `schema`'s collection, from its counts and, for one without tenants, its ids."""
    parts = slice_count(schema.object_count, settings)
    if parts == 1:
        return _single(schema)
    if schema.multi_tenant:
        return _by_tenant(schema, parts)
    return _by_range(schema, parts, seek, scan)


def remaining(work: Sequence[SliceWork], tenant: str | None, after: str | None) -> Iterator[SliceWork]:
    """The work left after a checkpoint at (tenant, after): later pieces whole, the current one from `after`.

    (None, None) is a fresh start. Pieces are in checkpoint order (`SliceWork.order`), so everything
    sorting before the checkpoint is done.
    """
    if tenant is None and after is None:
        yield from work
        return
    for piece in work:
        if (piece.tenant or "") != (tenant or ""):
            if (piece.tenant or "") > (tenant or ""):
                yield piece
            continue
        if after is None or piece.range.contains(after):
            start = after if after is not None else piece.range.after
            yield piece.model_copy(update={"range": KeyRange(after=start, before=piece.range.before)})
        elif piece.range.after is not None and piece.range.after >= after:
            yield piece
