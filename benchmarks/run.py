"""`make bench`: every scenario on the same data in one command, a table, the targets, and a JSON record.

Each server is its own process (the test Weaviate, Milvus Lite, and with latency a delaying proxy in
front of Milvus), each scenario runs in a child process on a fresh Milvus, and each figure is the median
of `--repeat` runs, because a 2-core shared machine is noisy. Besides objects/s and peak RSS, every run
records the CPU time the scenario and both servers spent, which is what decides throughput when all of
them share two cores.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack, closing
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import servers
from benchmarks.report import TENTH, Figure, Report, table, targets
from benchmarks.scenarios import SCENARIOS, Measured, Setup

RESULTS = Path(__file__).resolve().parent / "results"


def _scenario(name: str, setup: Setup, workdir: str) -> Measured:
    """Run in a scratch directory: w2z reads `.env` and writes its log relative to the working directory."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.scenarios", name, setup.model_dump_json()],
        cwd=workdir,
        env={**os.environ, "PYTHONPATH": str(servers.ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"scenario {name} failed:\n{done.stderr[-4000:]}")
    return Measured.model_validate_json(done.stdout.strip().splitlines()[-1])


def _run(name: str, setup: Setup, latency: float, weaviate: servers.Weaviate) -> Measured:
    with ExitStack() as stack:
        milvus = None if name == "read-only" else stack.enter_context(servers.milvus(latency))
        home = stack.enter_context(tempfile.TemporaryDirectory(prefix="w2z-bench-dagster-"))
        pids = [weaviate.pid, *([milvus.pid] if milvus else [])]
        quiet = stack.enter_context(closing(servers.QuietClock(milvus.pid))) if milvus else None
        before = [servers.cpu_seconds(p) for p in pids]
        measured = _scenario(
            name,
            setup.model_copy(update={"milvus_uri": milvus.uri if milvus else "", "dagster_home": home}),
            home,
        )
        spent = [servers.cpu_seconds(p) - b for p, b in zip(pids, before, strict=True)]
        settle = quiet.after(measured.ended_at) - measured.ended_at if quiet else 0.0
    return measured.model_copy(
        update={"weaviate_cpu_s": spent[0], "milvus_cpu_s": spent[1] if milvus else 0.0, "settle_s": settle}
    )


def _measure(name: str, setup: Setup, latency: float, repeat: int, weaviate: servers.Weaviate) -> Figure:
    runs = []
    for _ in range(repeat):
        runs.append(_run(name, setup, latency, weaviate))
        run = runs[-1]
        rate, settled = run.objects / run.seconds, run.objects / (run.seconds + run.settle_s)
        print(
            f"  {name:<11} {latency * 1000:>4.0f} ms  {rate:>9.0f} objects/s acknowledged, "
            f"{settled:>6.0f} indexed  {run.note}",
            flush=True,
        )
    return Figure.of(name, latency * 1000, runs)


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=768)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per call on both sides; 0 skips")
    parser.add_argument(
        "--page-size", type=int, default=250, help="cursor page = w2z batch_size (the old default)"
    )
    parser.add_argument(
        "--write-batch-rows",
        type=int,
        default=1000,
        help="rows per write for write-only and w2z; 0 = one page",
    )
    parser.add_argument("--upsert-only", action="store_true", help="w2z and write-only never insert")
    parser.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help="comma-separated subset, for comparing one setting (the targets need all four)",
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs per figure; the median is reported")
    parser.add_argument("--out", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> Report:
    args = parse(argv)
    names = args.scenarios.split(",")
    if unknown := set(names) - set(SCENARIOS):
        raise SystemExit(f"unknown scenarios {sorted(unknown)}; choose from {', '.join(SCENARIOS)}")
    started_at = datetime.now(UTC)
    load = time.perf_counter()
    with servers.weaviate(args.objects, args.dim) as weaviate:
        load_seconds = time.perf_counter() - load
        print(
            f"loaded {args.objects} objects x {args.dim} dims into the test Weaviate in {load_seconds:.0f} s"
        )
        setup = Setup(
            weaviate_http=weaviate.http,
            weaviate_grpc=weaviate.grpc,
            objects=args.objects,
            dim=args.dim,
            page_size=args.page_size,
            write_batch_rows=args.write_batch_rows or None,
            insert=not args.upsert_only,
        )
        figures = []
        for latency in [0.0, args.latency] if args.latency else [0.0]:
            weaviate.set_latency(latency)
            figures.extend(_measure(name, setup, latency, args.repeat, weaviate) for name in names)
        weaviate.set_latency(0.0)
        if "w2z" in names:
            tenth_setup = setup.model_copy(update={"limit": max(1, args.objects // 10)})
            tenth = _measure("w2z", tenth_setup, 0.0, args.repeat, weaviate)
            figures.append(tenth.model_copy(update={"scenario": TENTH}))
    report = Report(
        objects=args.objects,
        dim=args.dim,
        page_size=args.page_size,
        write_batch_rows=setup.write_batch_rows,
        insert=setup.insert,
        latency_ms=args.latency * 1000,
        repeat=args.repeat,
        started_at=started_at.isoformat(),
        load_seconds=load_seconds,
        figures=figures,
        targets=[],
    )
    report = report.model_copy(update={"targets": targets(report)})
    print(table(report), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"bench-{started_at:%Y%m%dT%H%M%S}-{args.objects}x{args.dim}.json"
    path.write_text(json.dumps(report.model_dump(mode="json"), indent=2))
    print(f"wrote {path}", flush=True)
    return report


if __name__ == "__main__":
    main()
