"""Where a partition's migration stands: the last write the target accepted.

The checkpoint is the only thing that moves the cursor: it is written after the write, never before, so
a crash can at worst replay the writes after it (harmless, they are upserts) and never skip one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from pydantic import BaseModel, Field


class CheckpointStatus(StrEnum):
    RUNNING = "running"
    COMPLETE = "complete"


def now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)


class Checkpoint(BaseModel):
    """Progress of one collection; `tenant` and `after` say where the next page starts.

    `started_ms` is when the copy (its first run, resumes keep it) began reading; `watermark_ms`, set
    once the copy or a sync is complete, is the time before which every change of the source is in the
    target, up to the sync's safety margin (`core/watermark.py`). None: unknown (a checkpoint recorded
    before watermarks existed), and the next sync merges both sides in full.
    """

    collection: str
    tenant: str | None = None
    after: str | None = None
    objects: int = 0
    batches: int = 0
    rejected: int = 0
    status: CheckpointStatus = CheckpointStatus.RUNNING
    started_ms: int | None = None
    watermark_ms: int | None = None
    updated_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @property
    def resumable(self) -> bool:
        return self.status is CheckpointStatus.RUNNING and (self.after is not None or self.tenant is not None)

    def advanced(self, tenant: str | None, after: str, written: int, rejected: int) -> Checkpoint:
        return self.model_copy(
            update={
                "tenant": tenant,
                "after": after,
                "objects": self.objects + written + rejected,
                "batches": self.batches + 1,
                "rejected": self.rejected + rejected,
                "updated_at": datetime.now(UTC),
            }
        )

    def completed(self, watermark_ms: int | None = None) -> Checkpoint:
        """Complete as of `watermark_ms`; by default the start of the copy, whose reads began then."""
        return self.model_copy(
            update={
                "status": CheckpointStatus.COMPLETE,
                "watermark_ms": self.started_ms if watermark_ms is None else watermark_ms,
                "updated_at": datetime.now(UTC),
            }
        )
