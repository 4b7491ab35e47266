"""The batch loop: read a cursor page, transform, write, then checkpoint, in strict batch order.

Three threads keep both databases busy: a reader fetches and transforms the next pages, groups them into
writes and packs each write's request, a writer sends them to the target (so the target waits for no
packing between two writes), and the caller records each checkpoint while the writer already sends the
next write. Each stage is one thread fed through a FIFO, so order is kept. Memory is bounded whatever the
collection size: a page takes a slot before it is fetched and gives it back once written, and there are
slots for two writes. A checkpoint (one per write) is handed out only after its write landed, and the
writer starts a write only once the caller took the checkpoint two writes back, so a crash replays at
most the last two writes beyond the last checkpoint the caller recorded; replays are harmless, see
`InsertGate` for when plain inserts are used.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from pydantic import BaseModel

from w2z_dagster.core import fast_paths
from w2z_dagster.core.checkpoint import Checkpoint
from w2z_dagster.core.handoff import Handoff, RateCap, Slots, Stopped
from w2z_dagster.core.insert_gate import InsertGate
from w2z_dagster.core.plan import FieldRole, MigrationPlan
from w2z_dagster.core.schema import CollectionSchema, SourceObject
from w2z_dagster.core.sink import MilvusSink, Packed
from w2z_dagster.core.slices import SliceWork, remaining
from w2z_dagster.core.source import WeaviateSource
from w2z_dagster.core.tenants import tenants_to_read
from w2z_dagster.core.transform import Reject, TransformResult, target_refused, to_rows
from w2z_dagster.core.write_budget import DEFAULT_WRITE_BYTES, rows_bytes, split_rows

JOIN_SECONDS = 30

_END = object()


class BatchOutcome(BaseModel):
    """One batch, written: the checkpoint to record and what happened to its objects."""

    checkpoint: Checkpoint
    read: int
    written: int
    rejects: list[Reject]
    seconds: float


def whole_collection(schema: CollectionSchema) -> tuple[SliceWork, ...]:
    """Every readable tenant from its first object: the work of an unsliced copy."""
    return tuple(SliceWork(tenant=t) for t in tenants_to_read(schema))


def _pages(
    source: WeaviateSource,
    work: Sequence[SliceWork],
    schema: CollectionSchema,
    checkpoint: Checkpoint,
    batch_size: int,
    limit: int | None,
) -> Iterator[tuple[str | None, list[SourceObject]]]:
    budget = None if limit is None else max(0, limit - checkpoint.objects)
    for piece in remaining(work, checkpoint.tenant, checkpoint.after):
        size = batch_size if budget is None else min(batch_size, budget)
        if size == 0:
            return
        tenant = piece.tenant
        for page in source.pages(schema, tenant, piece.range.after, size, piece.range.before):
            if budget is not None:
                page = page[:budget]
                budget -= len(page)
            yield tenant, page
            if budget == 0:
                return


@dataclass
class _Page:
    """One cursor page, transformed, waiting to be written."""

    tenant: str | None
    objects: list[SourceObject]
    result: TransformResult
    nbytes: int


class _Request(NamedTuple):
    rows: list[dict[str, Any]]
    nbytes: int
    packed: Packed | None


class _Write(NamedTuple):
    """Whole pages grouped into one write (one checkpoint), its requests packed ahead."""

    pages: list[_Page]
    requests: list[_Request]


@dataclass
class _Options:
    plan: MigrationPlan
    write_rows: int
    write_bytes: int
    pages_per_write: int

    def fits(self, group: list[_Page], page: _Page) -> bool:
        """Whether `page` joins `group` without going over a limit; the page count bounds memory."""
        return (
            len(group) < self.pages_per_write
            and sum(len(p.result.rows) for p in group) + len(page.result.rows) <= self.write_rows
            and sum(p.nbytes for p in group) + page.nbytes <= self.write_bytes
        )

    def full(self, group: list[_Page]) -> bool:
        return (
            len(group) >= self.pages_per_write
            or sum(len(p.result.rows) for p in group) >= self.write_rows
            or sum(p.nbytes for p in group) >= self.write_bytes
        )


class _Pipeline:
    """The reader and writer threads of one `migrate` call and the hand-offs between them."""

    def __init__(
        self,
        pages: Iterator[tuple[str | None, list[SourceObject]]],
        sink: MilvusSink,
        checkpoint: Checkpoint,
        options: _Options,
        gate: InsertGate,
        max_write_mb_per_s: float | None,
    ) -> None:
        self._pages = pages
        self._sink = sink
        self._checkpoint = checkpoint
        self._options = options
        self._gate = gate
        self._stop = threading.Event()
        self._slots = Slots(2 * options.pages_per_write, self._stop)
        self._lead = Slots(2, self._stop)
        self._ready = Handoff(self._stop)
        self._done = Handoff(self._stop)
        self._rate = RateCap(max_write_mb_per_s, self._stop)
        self._threads = [
            threading.Thread(
                target=self._guard, args=(self._read, self._ready), name="w2z-reader", daemon=True
            ),
            threading.Thread(
                target=self._guard, args=(self._write, self._done), name="w2z-writer", daemon=True
            ),
        ]
        for thread in self._threads:
            thread.start()

    def _guard(self, work: Any, out: Handoff) -> None:
        try:
            work()
        except Stopped:
            return
        except BaseException as exc:
            out.put(exc)

    def _read(self) -> None:
        """Group whole pages into writes and pack each write's requests, so the writer only sends.

        When a fetch or transform fails, the pages read before it still go out as a write, so their
        checkpoint is recorded before the error ends the run.
        """
        group: list[_Page] = []
        try:
            while (page := self._next_page()) is not None:
                if group and not self._options.fits(group, page):
                    self._emit(group)
                    group = []
                group.append(page)
                if self._options.full(group):
                    self._emit(group)
                    group = []
        except Stopped:
            raise
        except BaseException:
            self._emit(group)
            raise
        self._emit(group)
        self._ready.put(_END)

    def _next_page(self) -> _Page | None:
        """Take a slot before fetching, so a page exists only while a slot is held for it."""
        self._slots.take()
        item = next(self._pages, None)
        if item is None:
            return None
        tenant, objects = item
        result = to_rows(objects, self._options.plan)
        nbytes = rows_bytes(result.rows)
        return _Page(tenant, objects, result, nbytes)

    def _emit(self, group: list[_Page]) -> None:
        if group:
            self._ready.put(self._packed(group))

    def _packed(self, group: list[_Page]) -> _Write:
        target = self._options.plan.target
        requests = [
            _Request(rows, nbytes, self._sink.pack(target, rows))
            for rows, nbytes in _requests(group, self._options.write_rows, self._options.write_bytes)
        ]
        return _Write(group, requests)

    def _write(self) -> None:
        while True:
            item = self._ready.get()
            if item is _END:
                self._gate.check()
                self._done.put(_END)
                return
            if isinstance(item, BaseException):
                self._gate.check()
                raise item
            self._flush(item)

    def _flush(self, write: _Write) -> None:
        self._lead.take()
        started = time.perf_counter()
        group = write.pages
        batches = [(page.tenant, page.result.rows) for page in group]
        insert = self._gate.allows(batches)
        refused: dict[str, str] = {}
        pk = self._options.plan.field_by_role(FieldRole.ID).name
        for request in write.requests:
            self._rate.wait(request.nbytes)
            sent = self._sink.write(
                self._options.plan.target, request.rows, insert=insert, packed=request.packed
            )
            for row, reason in sent:
                refused[row[pk]] = reason
        if insert:
            self._gate.inserted(batches)
        seconds = time.perf_counter() - started
        rejects = [
            r
            for page in group
            for r in page.result.rejects + target_refused(page.objects, refused, self._options.plan)
        ]
        read = sum(len(page.objects) for page in group)
        last = group[-1]
        self._checkpoint = self._checkpoint.advanced(
            last.tenant, last.objects[-1].uuid, read - len(rejects), len(rejects)
        )
        outcome = BatchOutcome(
            checkpoint=self._checkpoint,
            read=read,
            written=read - len(rejects),
            rejects=rejects,
            seconds=seconds,
        )
        self._slots.give(len(group))
        self._done.put(outcome)

    def outcomes(self) -> Iterator[BatchOutcome]:
        while True:
            item = self._done.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
            self._lead.give()

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=JOIN_SECONDS)


def _requests(
    group: list[_Page], max_rows: int, max_bytes: int
) -> Iterator[tuple[list[dict[str, Any]], int]]:
    """The group's rows in as few requests within both limits as possible, of near-equal size.

    Only a single page larger than a write can need more than one request.
    """
    rows = [row for page in group for row in page.result.rows]
    yield from split_rows(rows, sum(page.nbytes for page in group), max_rows, max_bytes)


def migrate(
    source: WeaviateSource,
    sink: MilvusSink,
    schema: CollectionSchema,
    plan: MigrationPlan,
    checkpoint: Checkpoint,
    batch_size: int,
    limit: int | None = None,
    *,
    write_batch_size: int | None = None,
    write_batch_bytes: int = DEFAULT_WRITE_BYTES,
    max_write_mb_per_s: float | None = None,
    insert_when_safe: bool = False,
    use_fast_paths: bool = True,
    work: Sequence[SliceWork] | None = None,
) -> Iterator[BatchOutcome]:
    """Yield one outcome (one checkpoint) per write, in order, each only after its rows were written.

    `work` is one slice of the collection (`core/slices.py`): its tenants and key ranges, each read up to
    its boundary, resumed where `checkpoint` stands in it; by default, the whole collection.

    `batch_size` is the cursor page. A write groups whole pages up to `write_batch_size` rows (default:
    one page per write, so one checkpoint per page) and `write_batch_bytes`; a page larger than either
    goes out in several requests before its checkpoint. Fewer, larger writes matter most where each call
    has latency and each checkpoint costs the caller time. `max_write_mb_per_s` caps the average write
    rate, and `insert_when_safe` lets `InsertGate` use plain inserts where no key can be duplicated.
    `use_fast_paths` (W2Z_FAST_PATHS) lets the stream freeze the heap it starts with out of garbage
    collection while it runs (`fast_paths.frozen_heap`).
    """
    write_rows = write_batch_size or batch_size
    options = _Options(
        plan=plan,
        write_rows=write_rows,
        write_bytes=write_batch_bytes,
        pages_per_write=max(1, math.ceil(write_rows / batch_size)),
    )
    pipeline = _Pipeline(
        _pages(
            source, whole_collection(schema) if work is None else work, schema, checkpoint, batch_size, limit
        ),
        sink,
        checkpoint,
        options,
        InsertGate(sink, plan, checkpoint, insert_when_safe),
        max_write_mb_per_s,
    )
    with fast_paths.frozen_heap(fast_paths.chosen(use_fast_paths).frozen_heap):
        try:
            yield from pipeline.outcomes()
        finally:
            pipeline.close()
