"""The cut-over report: what a change ticket carries to prove Zilliz Cloud may take the search traffic.

One model, written twice: JSON for machines (every number as recorded) and Markdown for the ticket.
It says what was compared (every check with its numbers), what the final sync did (changes, reads,
watermark, lag), the plan (every Milvus field), the rejects, and the Dagster run ids to open in the UI.
The verdict is "go" only when the run succeeded and every blocking check passed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field


class CutoverCheck(BaseModel):
    name: str
    asset: str
    passed: bool
    blocking: bool
    summary: str
    numbers: dict[str, Any] = Field(default_factory=dict)


class CutoverReport(BaseModel):
    collection: str
    target: str | None = None
    generated_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    run_id: str
    run_succeeded: bool
    run_error: str | None = None
    sync: dict[str, Any] = Field(default_factory=dict)
    checks: list[CutoverCheck] = Field(default_factory=list)
    plan: list[dict[str, str]] = Field(default_factory=list)
    rejects: list[dict[str, Any]] = Field(default_factory=list)
    dead_letter_folder: str | None = None

    @property
    def failures(self) -> list[str]:
        """What stops the cut-over: each failed blocking check, or the run itself."""
        failed = [f"{c.asset}:{c.name}" for c in self.checks if c.blocking and not c.passed]
        if not self.run_succeeded and not failed:
            failed.append(f"run failed: {self.run_error or 'see the run in the Dagster UI'}")
        if not any(c.blocking for c in self.checks) and not failed:
            failed.append("no blocking check ran")
        return failed

    @property
    def go(self) -> bool:
        return not self.failures


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return text.replace("|", "/").replace("\n", " ")


def _table(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return ["(none)"]
    columns = list(dict.fromkeys(k for row in rows for k in row))
    lines = [f"| {' | '.join(columns)} |", f"| {' | '.join('---' for _ in columns)} |"]
    lines += [f"| {' | '.join(_cell(row.get(c, '')) for c in columns)} |" for row in rows]
    return lines


def _numbers(numbers: dict[str, Any]) -> list[str]:
    """Scalars as one table; each list of rows (the mismatches) as a table of its own below."""
    scalars = [{"number": k, "value": v} for k, v in numbers.items() if not _rows(v)]
    lines = _table(scalars)
    for key, value in numbers.items():
        if _rows(value) and value:
            lines += ["", f"{key}:", "", *_table(value)]
    return lines


def _rows(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, dict) for v in value)


def to_markdown(report: CutoverReport) -> str:
    verdict = (
        "**GO**: every blocking check passed." if report.go else f"**NO GO**: {'; '.join(report.failures)}."
    )
    lines = [
        f"# Cut-over report: {report.collection}",
        "",
        verdict,
        "",
        f"- target: `{report.target or '-'}`",
        f"- generated: {report.generated_at.isoformat(timespec='seconds')}",
        f"- Dagster run: `{report.run_id}` ({'succeeded' if report.run_succeeded else 'failed'})",
        "",
        "## Final sync",
        "",
        *_table([{"field": k, "value": v} for k, v in report.sync.items()]),
        "",
        "## Checks",
        "",
        *_table(
            [
                {
                    "check": f"{c.asset}:{c.name}",
                    "result": "PASS" if c.passed else "FAIL",
                    "blocking": "yes" if c.blocking else "no",
                    "summary": c.summary,
                }
                for c in report.checks
            ]
        ),
        "",
    ]
    for check in report.checks:
        lines += [f"### {check.asset}:{check.name}", "", *_numbers(check.numbers), ""]
    lines += ["## Plan", "", *_table(report.plan), "", "## Rejects", ""]
    lines += [f"Dead-letter folder: `{report.dead_letter_folder}`", ""] if report.dead_letter_folder else []
    lines += [*_table(report.rejects), ""]
    return "\n".join(lines)


def write_report(report: CutoverReport, folder: Path) -> tuple[Path, Path]:
    """`<collection>-<UTC time>.json` and `.md` in `folder` (created); never overwrites an earlier report."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{report.collection}-{report.generated_at.strftime('%Y%m%dT%H%M%S%fZ')}"
    json_path, md_path = folder / f"{stem}.json", folder / f"{stem}.md"
    payload = {**report.model_dump(mode="json"), "go": report.go, "failures": report.failures}
    json_path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    md_path.write_text(to_markdown(report), encoding="utf-8")
    return json_path, md_path
