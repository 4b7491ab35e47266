"""Objects that could not be written, each kept with its reason, so nothing is dropped without a record.

A collection's dead letters are a folder of JSON-lines files, one written whole per write that had any.
Whole files work on every store `universal-pathlib` reaches (a local or shared volume, `s3://`, `gs://`,
`az://`), where appending does not, and each is complete before the write's checkpoint is recorded, so a
killed run never loses one. Runs on other machines (a Kubernetes pod per run) read the same folder when
it is on shared storage.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator

from upath import UPath

from w2z_dagster.core.transform import Reject

SUFFIX = ".jsonl"
LISTED = 20


class DeadLetters:
    """The writer of one collection's folder; `first` keeps a few rejects for the catalog."""

    def __init__(self, folder: UPath, resume: bool) -> None:
        """A resumed run keeps the rejects of the runs it continues; a fresh copy or a sync starts empty."""
        self.folder = folder
        self.count = 0
        self.first: list[Reject] = []
        if not resume:
            for segment in _segments(folder):
                segment.unlink()

    def extend(self, rejects: Iterable[Reject]) -> None:
        rejects = list(rejects)
        if not rejects:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns():020d}-{os.getpid()}-{self.count:09d}{SUFFIX}"
        (self.folder / name).write_text(
            "".join(r.model_dump_json() + "\n" for r in rejects), encoding="utf-8"
        )
        self.count += len(rejects)
        self.first.extend(rejects[: max(0, LISTED - len(self.first))])


def _segments(folder: UPath) -> list[UPath]:
    return sorted(folder.glob(f"*{SUFFIX}"), key=lambda p: p.name) if folder.exists() else []


def read_dead_letters(folder: UPath) -> Iterator[Reject]:
    """Each rejected object once, in the order it was rejected: a run replayed after a kill rejects again."""
    seen: set[tuple[str | None, str]] = set()
    for segment in _segments(folder):
        with segment.open(encoding="utf-8") as lines:
            for line in lines:
                reject = Reject.model_validate_json(line)
                if (reject.tenant, reject.uuid) not in seen:
                    seen.add((reject.tenant, reject.uuid))
                    yield reject
