"""The verification summary the catalog shows: inline in the Dagster UI whatever the checks say."""

from __future__ import annotations

from w2z_dagster.core.verification.report import CHECKS, CheckResult, VerificationReport
from w2z_dagster.lib.catalog import INLINE_MARKDOWN, report_metadata


def test_the_summary_stays_inline_markdown_and_cuts_only_long_check_summaries() -> None:
    checks = [CheckResult(name=name, passed=True, summary="x" * 400) for name in CHECKS]
    checks[0] = CheckResult(name=CHECKS[0], passed=False, summary="weaviate 150 / milvus 149")
    summary = report_metadata(VerificationReport(collection="C", checks=checks)).summary.value

    assert len(summary) < INLINE_MARKDOWN
    rows = summary.splitlines()[4:]
    assert rows[0] == f"| {CHECKS[0]} | ❌ FAIL | weaviate 150 / milvus 149 |"
    assert all(row.endswith("… |") for row in rows[1:])
    assert len(rows) == len(CHECKS)
