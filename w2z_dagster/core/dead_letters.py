"""Objects that could not be written, each kept with its reason, so nothing is dropped without a record."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from w2z_dagster.core.transform import Reject


class DeadLetters:
    """An append-only JSON-lines file; appended before the batch's checkpoint, so a resume never loses one."""

    def __init__(self, path: Path, resume: bool) -> None:
        """A resumed run keeps the rejects of the runs it continues; a fresh copy or a sync starts empty."""
        self.path = path
        self.count = 0
        self.first: list[Reject] = []
        if not resume:
            path.unlink(missing_ok=True)

    def extend(self, rejects: Iterable[Reject]) -> None:
        rejects = list(rejects)
        if not rejects:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as out:
            for reject in rejects:
                out.write(reject.model_dump_json() + "\n")
        self.count += len(rejects)
        self.first.extend(rejects[: max(0, 20 - len(self.first))])


def read_dead_letters(path: Path) -> Iterator[Reject]:
    if not path.exists():
        return
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            yield Reject.model_validate_json(line)
