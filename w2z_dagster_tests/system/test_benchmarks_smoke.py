"""`make bench` end to end at a toy size: every scenario runs and the report has its full shape.

Timings at this size mean nothing, so none are asserted; this only proves the benchmark still works.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import run, summary, sync
from benchmarks.report import Report

pytestmark = pytest.mark.slow


def test_the_benchmark_runs_every_scenario_and_reports_the_targets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = run.main(["--objects", "300", "--dim", "8", "--out", str(tmp_path)])

    assert [(f.scenario, f.latency_ms, f.objects) for f in report.figures] == [
        *(
            (name, latency, 300)
            for latency in (0.0, 20.0)
            for name in ("read-only", "write-only", "baseline", "w2z")
        ),
        ("w2z tenth", 0.0, 30),
    ]
    assert all(
        f.objects_per_s > 0 and f.peak_rss_mb > 0 and f.cpu_us_per_object["client"] > 0
        for f in report.figures
    )
    assert all(0 < f.indexed_per_s <= f.objects_per_s for f in report.figures)
    assert {r.settle_s for f in report.figures if f.scenario == "read-only" for r in f.runs} == {0.0}
    assert [t.name.split(":")[0] for t in report.targets] == ["local", "latency 20 ms", "memory"]
    written = list(tmp_path.glob("bench-*-300x8.json"))
    assert len(written) == 1
    assert Report.model_validate(json.loads(written[0].read_text())) == report
    assert "w2z / min(read-only, write-only)" in capsys.readouterr().out

    assert summary.main([str(written[0]), str(written[0])]) == 0
    assert "median of 2" in capsys.readouterr().out


def test_the_sync_benchmark_compares_the_sync_by_time_with_the_merge(
    capsys: pytest.CaptureFixture[str],
) -> None:
    report = sync.main(["--objects", "300", "--dim", "8"])

    assert report.changed == 3
    assert (report.by_time.changes_found_by, report.by_merge.changes_found_by) == ("time", "merge")
    assert [(f.added, f.updated) for f in (report.by_time, report.by_merge)] == [(1, 2), (1, 2)]
    assert (report.by_time.objects_read, report.by_merge.objects_read) == (3, 301 + 3)
    assert report.read_ratio == round(3 / 304, 4)
    assert "by time / merge: time" in capsys.readouterr().out
