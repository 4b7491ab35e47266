"""`w2z`: the older migration script's command line, running the same Dagster assets as the UI.

`migrate` and `verify` materialize the assets through `runs.py`, so every CLI run is a Dagster run in the
instance's history. `--dry-run`, `--mode download` and `collections` only read: they never start a run,
register a partition or create anything on the target.

Exit codes: 0 all good; 1 a collection failed, was rejected in part, or failed verification; 2 bad
input (unknown collection, invalid option or setting, unreachable endpoint); 130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, NoReturn, TextIO

from dotenv import load_dotenv
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from w2z_dagster.core import selection
from w2z_dagster.core.mapping import MigrationPlan, PlanError, build_plan
from w2z_dagster.core.names import collection_name
from w2z_dagster.core.preview import CollectionPreview, TargetState, format_bytes, preview
from w2z_dagster.core.profiles import TargetProfile, limits_for, profile_for_uri
from w2z_dagster.core.retry import RetryPolicy
from w2z_dagster.core.schema import CollectionSchema
from w2z_dagster.core.settings import MAX_BATCH_SIZE, Settings, check_batch_size
from w2z_dagster.logs import LOGGER, MaskedStream, ProgressDisplay, SecretMask, setup_logging

# authlib (under weaviate-client) forces its deprecation warnings on at import; no w2z user can act on
# them, and they would break the promise of one clear line on stderr for bad input.
with warnings.catch_warnings(record=True):
    from w2z_dagster.core.export import DEFAULT_FILE_BYTES, MB, ExportError, ExportProgress, export_collection
    from w2z_dagster.core.sink import MilvusSink, SinkError, open_sink
    from w2z_dagster.core.source import SourceError, WeaviateSource, open_source

if TYPE_CHECKING:
    import dagster as dg

    from w2z_dagster.runs import RunSummary

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
DEFAULT_OUTPUT_DIR = "export"
PLAIN_WIDTH = 200

log = logging.getLogger(LOGGER)


class UsageError(Exception):
    """Bad input: reported as one line on stderr with exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# --- options -----------------------------------------------------------------------------------------


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be 1 or more")
    return value


def _batch_size(text: str) -> int:
    try:
        return check_batch_size(_positive(text))
    except argparse.ArgumentTypeError as exc:
        raise argparse.ArgumentTypeError(f"{exc}; use a value from 1 to {MAX_BATCH_SIZE}") from None
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _common(collections: bool) -> argparse.ArgumentParser:
    parent = _Parser(add_help=False)
    parent.add_argument(
        "--log-level",
        type=str.upper,
        choices=LOG_LEVELS,
        default="INFO",
        help="console and log file threshold (default: INFO); the log file is W2Z_LOG_FILE "
        "(default: logs/migration.log)",
    )
    if collections:
        parent.add_argument(
            "-c",
            "--collections",
            nargs="+",
            metavar="NAME",
            help="only these Weaviate collections, by exact name; they must pass the patterns too "
            "(default: every collection matching W2Z_INCLUDE_COLLECTIONS and not W2Z_EXCLUDE_COLLECTIONS)",
        )
    return parent


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="w2z",
        description="Migrate Weaviate collections into Zilliz Cloud / Milvus through w2z's Dagster assets. "
        "Settings come from the environment and .env (WEAVIATE_ENDPOINT, ZILLIZ_CLOUD_URI, ...); "
        "options override them. Runs are recorded in $DAGSTER_HOME when it is set.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    with_collections, plain = _common(collections=True), _common(collections=False)

    migrate = commands.add_parser(
        "migrate",
        parents=[with_collections],
        help="migrate collections (or --dry-run, or --mode download)",
        description="Materialize source_schema, zilliz_collection, migrated_batches and verification_report "
        "for each collection, one Dagster run per collection. A failed run resumes from its last "
        "checkpoint when run again.",
    )
    migrate.add_argument(
        "--limit",
        type=_positive,
        help="stop after N objects per collection, for trials; "
        "verification is skipped then (default: no limit)",
    )
    migrate.add_argument(
        "--batch-size",
        type=_batch_size,
        help=f"objects per cursor page and write, 1 to {MAX_BATCH_SIZE} (default: MIGRATION_BATCH_SIZE, 250)",
    )
    migrate.add_argument(
        "--restart", action="store_true", help="ignore the checkpoint and start from the first object"
    )
    migrate.add_argument(
        "--dry-run",
        action="store_true",
        help="print the plan (counts, mapped schema, target state, estimated size); write nothing",
    )
    migrate.add_argument(
        "--mode",
        choices=("migrate", "download"),
        default="migrate",
        help="migrate into the target, or download: export Parquet files for Milvus bulk import without "
        "touching the target (default: migrate)",
    )
    migrate.add_argument(
        "--output-dir",
        type=Path,
        default=Path(DEFAULT_OUTPUT_DIR),
        help=f"where --mode download writes, one directory per collection (default: {DEFAULT_OUTPUT_DIR})",
    )
    migrate.add_argument(
        "--file-size-mb",
        type=_positive,
        default=DEFAULT_FILE_BYTES // MB,
        help="--mode download starts a new Parquet file after this much data "
        f"(default: {DEFAULT_FILE_BYTES // MB})",
    )
    migrate.set_defaults(handler=_migrate)

    verify = commands.add_parser(
        "verify",
        parents=[with_collections],
        help="verify migrated collections again",
        description="Materialize only verification_report for each collection migrated with this "
        "DAGSTER_HOME. Exit code 1 when any verification fails.",
    )
    verify.set_defaults(handler=_verify)

    listing = commands.add_parser(
        "collections",
        parents=[plain],
        help="list the source's collections and their target names",
        description="What Weaviate has (tenants, objects, vectors), the Milvus name w2z would give each "
        "collection, and whether the include/exclude patterns select it.",
    )
    listing.set_defaults(handler=_collections)
    return parser


# --- shared plumbing ---------------------------------------------------------------------------------


class _Context:
    """What every command needs: settings, consoles, and the retry policy for its own reads."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.settings = _settings()
        self.mask = SecretMask(
            s.get_secret_value()
            for s in (self.settings.weaviate_api_key, self.settings.zilliz_cloud_api_key)
            if s is not None
        )
        self.out = _console(sys.stdout, self.mask)
        self.err = _console(sys.stderr, self.mask)
        try:
            setup_logging(args.log_level, self.settings.log_file, self.mask, self.err)
        except OSError as exc:
            raise UsageError(
                f"cannot write the log file {self.settings.log_file} (W2Z_LOG_FILE): {exc}"
            ) from exc
        self.retry = RetryPolicy(self.settings.migration_max_retries, self.settings.migration_retry_delay)

    @property
    def batch_size(self) -> int:
        return getattr(self.args, "batch_size", None) or self.settings.migration_batch_size

    @property
    def profile(self) -> TargetProfile:
        profile = self.settings.zilliz_target_profile
        return TargetProfile(profile) if profile else profile_for_uri(self.settings.zilliz_cloud_uri)

    @contextmanager
    def source(self) -> Iterator[WeaviateSource]:
        key = self.settings.weaviate_api_key
        with open_source(
            self.settings.weaviate_endpoint,
            self.settings.grpc_endpoint(),
            key.get_secret_value() if key else None,
            self.retry,
            self.settings.store_blobs,
        ) as source:
            yield source

    @contextmanager
    def sink(self) -> Iterator[MilvusSink]:
        key = self.settings.zilliz_cloud_api_key
        with open_sink(
            self.settings.zilliz_cloud_uri,
            key.get_secret_value() if key else None,
            self.settings.zilliz_cloud_database,
            self.retry,
        ) as sink:
            yield sink

    def target_absent(self) -> bool:
        """A Milvus Lite file that does not exist yet holds nothing, and opening it would create it."""
        uri = self.settings.zilliz_cloud_uri
        return "://" not in uri and not Path(uri).exists()

    def select(self, source: WeaviateSource) -> list[str]:
        available = source.list_collections()
        names: Sequence[str] | None = getattr(self.args, "collections", None)
        if names:
            found, unknown = selection.requested(available, names)
            if unknown:
                raise UsageError(selection.unknown_message(unknown, available))
            include, exclude = self.settings.include_collections, self.settings.exclude_collections
            excluded = [n for n in found if not selection.is_selected(n, include, exclude)]
            if excluded:
                raise UsageError(selection.excluded_message(excluded, include, exclude))
            return found
        chosen = selection.select(
            available, self.settings.include_collections, self.settings.exclude_collections
        )
        if not chosen:
            log.warning(
                f"No collection selected: Weaviate has {len(available)} "
                f"(W2Z_INCLUDE_COLLECTIONS={self.settings.include_collections!r}, "
                f"W2Z_EXCLUDE_COLLECTIONS={self.settings.exclude_collections!r})"
            )
        return chosen

    def plan(self, schema: CollectionSchema) -> MigrationPlan:
        """The plan exactly as the `zilliz_collection` asset builds it."""
        return build_plan(schema, self.profile, self.settings.mapping_options())


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = ".".join(str(part) for part in error["loc"])
            problems.append(f"{name}: {error['msg'].removeprefix('Value error, ')}")
        raise UsageError("invalid setting " + "; ".join(problems)) from None


def _console(stream: TextIO, mask: SecretMask) -> Console:
    """Everything the CLI prints goes through the mask too: tables carry error texts from anywhere."""
    masked = MaskedStream(stream, mask)
    console = Console(file=masked)
    return console if console.is_terminal else Console(file=masked, width=PLAIN_WIDTH)


@contextmanager
def _instance() -> Iterator[dg.DagsterInstance]:
    import dagster as dg

    home = os.environ.get("DAGSTER_HOME")
    if home:
        Path(home).mkdir(parents=True, exist_ok=True)
        with dg.DagsterInstance.get() as instance:
            yield instance
        return
    log.warning(
        "DAGSTER_HOME is not set: using a temporary Dagster instance, so these runs will not appear in "
        "the UI and cannot resume; set DAGSTER_HOME to keep them"
    )
    with dg.DagsterInstance.ephemeral() as instance:
        yield instance


def _check_target(ctx: _Context) -> None:
    """Fail before the first run when the target cannot be reached at all."""
    if not ctx.target_absent():
        with ctx.sink():
            pass


def _table(*columns: str, title: str | None = None) -> Table:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


# --- migrate -----------------------------------------------------------------------------------------


def _migrate(ctx: _Context) -> int:
    args = ctx.args
    if args.dry_run:
        return _dry_run(ctx)
    if args.mode == "download":
        return _download(ctx)
    with ctx.source() as source:
        names = ctx.select(source)
    if not names:
        return 0
    _check_target(ctx)
    runs = _dagster()
    config = {"batch_size": ctx.batch_size, "limit": args.limit, "restart": args.restart}
    assets = runs.MIGRATION_ASSETS if args.limit is None else runs.MIGRATION_ASSETS[:-1]
    if args.limit is not None:
        log.info(f"--limit {args.limit}: verification is skipped, a partial copy cannot match the source")
    with _instance() as instance:
        added = runs.register_partitions(instance, names)
        if added:
            log.info(f"Registered {len(added)} new collection partition(s): {', '.join(added)}")
        summaries = _run_each(ctx, instance, names, "Starting migration for collection", config, assets)
    _print_run_table(ctx, summaries)
    return 0 if all(s.ok for s, _ in summaries) else 1


def _dagster() -> ModuleType:
    """The Dagster layer, imported only by the commands that start runs (it is most of their start-up
    time); its preview warnings speak to the developers of the definitions, not to CLI users."""
    with warnings.catch_warnings(record=True):
        from w2z_dagster import runs
    return runs


def _run_each(
    ctx: _Context,
    instance: dg.DagsterInstance,
    names: Sequence[str],
    verb: str,
    config: dict[str, object] | None,
    assets: Sequence[str],
) -> list[tuple[RunSummary, float]]:
    """One run per collection, in order; an exception in one is recorded and the next one still runs."""
    runs = _dagster()
    limit = (config or {}).get("limit")
    summaries = []
    with ProgressDisplay(ctx.err) as display:
        for i, name in enumerate(names, 1):
            log.info(f"[{i}/{len(names)}] {verb}: {name}")
            display.start(name)
            watcher = runs.RunWatcher(
                lambda total: display.total(total if limit is None else min(total, limit)), display.completed
            )
            started = time.perf_counter()
            try:
                result = runs.materialize_collection(
                    instance, name, config, assets, on_event=watcher, tags=runs.CLI_TAGS
                )
                summary = runs.summarize(name, result)
            except Exception as exc:
                log.exception(f"{name}: the run could not start")
                summary = runs.RunSummary(
                    collection=name, run_id="", success=False, error=f"{type(exc).__name__}: {exc}"
                )
            seconds = time.perf_counter() - started
            _log_outcome(summary, seconds)
            summaries.append((summary, seconds))
    return summaries


def _log_outcome(summary: RunSummary, seconds: float) -> None:
    objects = "" if summary.objects is None else f", {summary.objects} objects"
    took = f"{objects} in {seconds:.1f} s (run {summary.run_id})"
    if summary.ok:
        verified = "" if summary.verification is None else ", verification PASS"
        log.info(f"✓ {summary.collection}: done{verified}{took}")
    else:
        log.error(f"✗ {summary.collection}: {summary.outcome}{took}")


def _verdict(summary: RunSummary) -> str:
    if summary.verification is None:
        return "—"
    return "PASS" if summary.verification else "FAIL"


def _print_run_table(ctx: _Context, summaries: list[tuple[RunSummary, float]]) -> None:
    table = _table("Collection", "Objects", "Rejected", "Seconds", "Verification", "Result", title="Summary")
    for summary, seconds in summaries:
        table.add_row(
            summary.collection,
            "" if summary.objects is None else f"{summary.objects:,}",
            "" if summary.rejected is None else f"{summary.rejected:,}",
            f"{seconds:.1f}",
            _verdict(summary),
            summary.outcome,
        )
    ctx.out.print(table)


# --- verify ------------------------------------------------------------------------------------------


def _verify(ctx: _Context) -> int:
    if not os.environ.get("DAGSTER_HOME"):
        raise UsageError(
            "w2z verify reads what `w2z migrate` recorded: set DAGSTER_HOME to the instance the migration used"
        )
    with ctx.source() as source:
        names = ctx.select(source)
    _check_target(ctx)
    runs = _dagster()
    with _instance() as instance:
        if ctx.args.collections:
            problems = [m for m in (runs.missing_record_message(instance, n) for n in names) if m]
            if problems:
                raise UsageError("; ".join(problems))
        else:
            names = [n for n in names if runs.missing_record_message(instance, n) is None]
            if not names:
                log.warning("No migrated collection to verify with this DAGSTER_HOME")
        summaries = _run_each(ctx, instance, names, "Verifying collection", None, ["verification_report"])
    table = _table("Collection", "Verification", "Result", "Run", title="Verification")
    for summary, _ in summaries:
        table.add_row(summary.collection, _verdict(summary), summary.outcome, summary.run_id)
    ctx.out.print(table)
    return 0 if all(s.ok for s, _ in summaries) else 1


# --- dry run -----------------------------------------------------------------------------------------


def _dry_run(ctx: _Context) -> int:
    previews: list[CollectionPreview] = []
    failures: list[tuple[str, str]] = []
    with ExitStack() as stack:
        source = stack.enter_context(ctx.source())
        names = ctx.select(source)
        sink = None if ctx.target_absent() or not names else stack.enter_context(ctx.sink())
        for name in names:
            try:
                schema = source.read_schema(name)
                plan = ctx.plan(schema)
            except (PlanError, SourceError) as exc:
                failures.append((name, str(exc)))
                continue
            described = sink.describe(plan.target) if sink is not None and sink.exists(plan.target) else None
            previews.append(preview(schema, plan, described, ctx.args.limit))
    for item in previews:
        _print_preview(ctx.out, item, ctx.batch_size)
    for name, problem in failures:
        ctx.out.print(f"[bold]{name}[/]: cannot be migrated: {problem}", highlight=False, soft_wrap=True)
    total = sum(p.estimated_bytes for p in previews)
    ctx.out.print(
        f"Dry run: {len(previews) + len(failures)} collection(s), "
        f"{sum(p.objects for p in previews):,} objects, about {format_bytes(total)} on the target; "
        "nothing was written.",
        highlight=False,
    )
    return 0 if not failures and all(p.ok for p in previews) else 1


_STATE_TEXT = {
    TargetState.CREATE: "does not exist: would be created",
    TargetState.REUSE: "exists with a matching schema: would be reused (upserts by UUID)",
    TargetState.CONFLICT: "exists with a different schema: the migration would fail",
}


def _print_preview(out: Console, item: CollectionPreview, batch_size: int) -> None:
    out.rule(f"{item.collection} → {item.target}")
    limited = "" if item.objects == item.source_objects else f" (--limit: {item.objects:,} would be copied)"
    out.print(f"Objects: {item.source_objects:,}{limited}; batches of {batch_size}", highlight=False)
    if any(t.name for t in item.tenants):
        tenants = _table("Tenant", "Status", "Objects")
        for t in item.tenants:
            tenants.add_row(
                t.name, t.status, "not readable, skipped" if t.objects is None else f"{t.objects:,}"
            )
        out.print(tenants)
    out.print(
        f"Target collection '{item.target}' ({item.profile}): {_STATE_TEXT[item.target_state]}",
        highlight=False,
    )
    for difference in item.differences:
        out.print(f"  - {difference}", highlight=False)
    mapping = _table("Weaviate property", "Weaviate type", "Milvus field", "Milvus type", "Notes")
    for row in item.mapping:
        mapping.add_row(*row.values())
    out.print(mapping)
    for index in item.indexes:
        out.print(f"Index {index}", highlight=False)
    for note in item.notes:
        out.print(f"Note: {note}", highlight=False)
    out.print(
        f"Estimated size: {item.objects:,} × {format_bytes(item.row_bytes)} ≈ {format_bytes(item.estimated_bytes)}",
        highlight=False,
    )


# --- download ----------------------------------------------------------------------------------------


def _download(ctx: _Context) -> int:
    args = ctx.args
    output = args.output_dir.resolve()
    rows: list[tuple[str, str, str, str, str, str]] = []
    ok = True
    with ctx.source() as source, ProgressDisplay(ctx.err) as display:
        names = ctx.select(source)
        for i, name in enumerate(names, 1):
            log.info(f"[{i}/{len(names)}] Starting download for collection: {name}")
            display.start(name)
            started = time.perf_counter()
            try:
                schema = source.read_schema(name)
                for tenant in schema.tenants:
                    if not tenant.active:
                        log.warning(f"{name}: tenant '{tenant.name}' is {tenant.status}, not exported")
                total = schema.object_count if args.limit is None else min(args.limit, schema.object_count)
                display.total(total)
                result = export_collection(
                    source,
                    schema,
                    ctx.plan(schema),
                    output,
                    ctx.batch_size,
                    args.limit,
                    args.file_size_mb * MB,
                    _export_progress(display, total),
                )
            except (PlanError, SourceError, ExportError, OSError) as exc:
                ok = False
                log.error(f"✗ {name} failed: {exc}")
                rows.append((name, "", "", f"{time.perf_counter() - started:.1f}", "", f"failed: {exc}"))
                continue
            state = "ok" if not result.rejected else f"{result.rejected} rejected: see rejects.jsonl"
            ok = ok and not result.rejected
            log.info(
                f"✓ {name}: {result.rows} documents in {len(result.files)} file(s) under {result.directory}"
            )
            rows.append(
                (
                    name,
                    f"{result.rows:,}",
                    str(len(result.files)),
                    f"{result.seconds:.1f}",
                    result.directory,
                    state,
                )
            )
    table = _table("Collection", "Rows", "Files", "Seconds", "Directory", "Result", title="Download")
    for row in rows:
        table.add_row(*row)
    ctx.out.print(table)
    return 0 if ok else 1


def _export_progress(display: ProgressDisplay, total: int) -> Callable[[ExportProgress], None]:
    def report(progress: ExportProgress) -> None:
        rejected = f", {progress.rejected} rejected so far" if progress.rejected else ""
        log.info(
            f"✓ Batch {progress.batches} exported: {progress.written} documents written{rejected}. "
            f"Total exported so far: {progress.read}/{total}"
        )
        display.completed(progress.read)

    return report


# --- collections -------------------------------------------------------------------------------------


def _collections(ctx: _Context) -> int:
    max_bytes = limits_for(ctx.profile).max_name_bytes
    table = _table("Collection", "Tenants", "Objects", "Vectors", "Target name", "Selected", title="Weaviate")
    with ctx.source() as source:
        for name in source.list_collections():
            schema = source.read_schema(name)
            active = sum(t.active for t in schema.tenants)
            tenants = f"{len(schema.tenants)} ({active} active)" if schema.multi_tenant else "—"
            vectors = ", ".join(
                f"{v.name}({v.dimension or '?'}{', multi' if v.multi else ''})" for v in schema.vectors
            )
            selected = selection.is_selected(
                name, ctx.settings.include_collections, ctx.settings.exclude_collections
            )
            table.add_row(
                name,
                tenants,
                f"{schema.object_count:,}",
                vectors or "—",
                collection_name(name, max_bytes),
                "yes" if selected else "no",
            )
    ctx.out.print(table)
    return 0


# --- entry point -------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    # Into the environment too, not only into Settings: the Dagster resources read secrets via EnvVar.
    load_dotenv(Path.cwd() / ".env", override=False)
    mask = SecretMask([])
    try:
        ctx = _Context(args)
        mask = ctx.mask
        return args.handler(ctx)
    except (UsageError, SourceError, SinkError) as exc:
        print(f"w2z {args.command}: error: {mask.mask(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            f"w2z {args.command}: interrupted; run it again to resume from the last checkpoint",
            file=sys.stderr,
        )
        return 130
