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


class Checkpoint(BaseModel):
    """Progress of one collection; `tenant` and `after` say where the next page starts."""

    collection: str
    tenant: str | None = None
    after: str | None = None
    objects: int = 0
    batches: int = 0
    rejected: int = 0
    status: CheckpointStatus = CheckpointStatus.RUNNING
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

    def completed(self) -> Checkpoint:
        return self.model_copy(update={"status": CheckpointStatus.COMPLETE, "updated_at": datetime.now(UTC)})
