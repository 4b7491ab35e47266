"""The cut-over verdict and its two files: GO only with every blocking check passed and the run succeeded."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from w2z_dagster.core.cutover import CutoverCheck, CutoverReport, to_markdown, write_report

AT = datetime(2026, 12, 3, 10, 0, 0, 123456, tzinfo=UTC)


def _check(
    name: str, passed: bool, blocking: bool = True, asset: str = "verification_report"
) -> CutoverCheck:
    return CutoverCheck(name=name, asset=asset, passed=passed, blocking=blocking, summary=f"{name} summary")


def _report(*checks: CutoverCheck, succeeded: bool = True) -> CutoverReport:
    return CutoverReport(
        collection="Articles", generated_at=AT, run_id="r-1", run_succeeded=succeeded, checks=list(checks)
    )


def test_go_needs_every_blocking_check_passed_and_ignores_a_failed_advisory_one() -> None:
    report = _report(_check("counts", True), _check("lag", False, blocking=False, asset="migrated_batches"))
    assert (report.go, report.failures) == (True, [])


def test_each_failed_blocking_check_is_named() -> None:
    report = _report(_check("counts", False), _check("content", False), _check("schema", True))
    assert report.failures == ["verification_report:counts", "verification_report:content"]


def test_a_failed_run_without_a_failed_check_is_a_failure_and_no_check_at_all_is_one_too() -> None:
    failed = _report(_check("counts", True), succeeded=False)
    failed.run_error = "SourceError: boom"
    assert failed.failures == ["run failed: SourceError: boom"]
    assert _report().failures == ["no blocking check ran"]


def test_both_files_carry_the_verdict_and_every_number(tmp_path: Path) -> None:
    check = _check("content", False)
    check.numbers = {"compared": 3, "mismatches": [{"uuid": "u1", "field": "title"}]}
    report = _report(check)

    json_path, md_path = write_report(report, tmp_path / "reports")

    assert (json_path.name, md_path.name) == (
        "Articles-20261203T100000123456Z.json",
        "Articles-20261203T100000123456Z.md",
    )
    written = json.loads(json_path.read_text(encoding="utf-8"))
    assert (written["go"], written["failures"], written["checks"][0]["numbers"]["compared"]) == (
        False,
        ["verification_report:content"],
        3,
    )
    markdown = md_path.read_text(encoding="utf-8")
    assert markdown == to_markdown(report)
    assert markdown.startswith("# Cut-over report: Articles\n\n**NO GO**: verification_report:content.\n")
    assert "| compared | 3 |" in markdown
    assert "mismatches:\n\n| uuid | field |\n| --- | --- |\n| u1 | title |" in markdown
