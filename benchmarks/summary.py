"""Medians over several benchmark runs: `python -m benchmarks.summary benchmarks/results/*.json`.

One `make bench` at full size takes minutes, so the medians a noisy machine needs come from running the
same command several times and merging the records, not from one very long command.
"""

from __future__ import annotations

import sys
from pathlib import Path

from benchmarks.report import Report, merged, table


def main(paths: list[str]) -> int:
    reports = [Report.model_validate_json(Path(p).read_text()) for p in paths]
    settings = {
        (
            r.objects,
            r.dim,
            r.page_size,
            r.write_batch_rows,
            r.insert,
            r.latency_ms,
            tuple(f.scenario for f in r.figures),
        )
        for r in reports
    }
    if len(settings) != 1:
        print(
            f"the runs differ in their settings and cannot be merged: {sorted(map(str, settings))}",
            file=sys.stderr,
        )
        return 2
    print(table(merged(reports)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
