"""The shape of a verification: named checks, each a verdict with the numbers behind it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

COUNTS = "counts"
IDENTITY = "identity"
CONTENT = "content"
SCHEMA = "schema"
SEARCH_PARITY = "search_parity"
KEYWORD_PARITY = "keyword_parity"
HYBRID_PARITY = "hybrid_parity"
REJECTS = "rejects"
DUPLICATES = "duplicates"
FILTERED_PARITY = "filtered_parity"
CHECKS = (
    COUNTS,
    IDENTITY,
    CONTENT,
    SCHEMA,
    SEARCH_PARITY,
    KEYWORD_PARITY,
    HYBRID_PARITY,
    REJECTS,
    DUPLICATES,
    FILTERED_PARITY,
)


class CheckResult(BaseModel):
    name: str
    passed: bool
    summary: str
    numbers: dict[str, Any] = Field(default_factory=dict)
    mismatches: list[dict[str, Any]] = Field(default_factory=list)


class VerificationReport(BaseModel):
    collection: str
    checks: list[CheckResult]

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failed(self) -> list[str]:
        return [c.name for c in self.checks if not c.passed]

    def check(self, name: str) -> CheckResult:
        return next(c for c in self.checks if c.name == name)


class VerifyOptions(BaseModel):
    """How hard to look; the defaults prove a copy in seconds whatever the collection size."""

    model_config = ConfigDict(frozen=True)

    sample_size: int = Field(100, ge=0)
    search_queries: int = Field(10, ge=0)
    k: int = Field(10, ge=1)
    min_recall: float = Field(0.9, ge=0.0, le=1.0)
    min_keyword_overlap: float = Field(0.8, ge=0.0, le=1.0)
    min_hybrid_overlap: float = Field(0.8, ge=0.0, le=1.0)
    hybrid_alpha: float = Field(0.5, ge=0.0, le=1.0)
    hybrid_fusion: Literal["relative", "ranked"] = "ranked"
    filtered_queries: int = Field(
        10, ge=0, description="Query objects filters are drawn from (of search_queries)."
    )
    min_filtered_recall: float = Field(1.0, ge=0.0, le=1.0)
    listed: int = Field(20, ge=0, description="How many mismatches each check lists; all are counted.")


DEFAULT_OPTIONS = VerifyOptions()


class Listed:
    """Counts everything, keeps only the first `limit` rows: a million mismatches cost no memory."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0
        self.rows: list[dict[str, Any]] = []

    def add(self, row: dict[str, Any]) -> None:
        self.count += 1
        if len(self.rows) < self.limit:
            self.rows.append(row)
