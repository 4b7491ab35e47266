"""The `w2z` argument parser: its commands, their options and the option types."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import NoReturn

from w2z_dagster.cli import collections, cutover, migrate, translate_filter, verify
from w2z_dagster.core.export import DEFAULT_FILE_BYTES, MB
from w2z_dagster.core.settings import MAX_BATCH_SIZE, check_batch_size
from w2z_dagster.core.slices import DEFAULT_MIN_SLICE_OBJECTS, MAX_SLICES

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
DEFAULT_OUTPUT_DIR = "export"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


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

    migrate_parser = commands.add_parser(
        "migrate",
        parents=[with_collections],
        help="migrate collections (or --dry-run, or --mode download)",
        description="Materialize source_schema, zilliz_collection, migrated_batches and verification_report "
        "for each collection, one Dagster run per collection. A failed run resumes from its last "
        "checkpoint when run again.",
    )
    migrate_parser.add_argument(
        "--limit",
        type=_positive,
        help="stop after N objects per collection, for trials; "
        "verification is skipped then (default: no limit)",
    )
    migrate_parser.add_argument(
        "--batch-size",
        type=_batch_size,
        help=f"objects per cursor page and write, 1 to {MAX_BATCH_SIZE} (default: MIGRATION_BATCH_SIZE, 250)",
    )
    migrate_parser.add_argument(
        "--restart", action="store_true", help="ignore the checkpoint and start from the first object"
    )
    migrate_parser.add_argument(
        "--slices",
        type=int,
        choices=range(1, MAX_SLICES + 1),
        default=1,
        metavar=f"1-{MAX_SLICES}",
        help="copy each collection in up to this many slices, one Dagster run each (a collection under "
        "two --min-slice-objects stays one); the CLI runs them one after another, a run launcher side by "
        "side (default: 1, one stream)",
    )
    migrate_parser.add_argument(
        "--min-slice-objects",
        type=_positive,
        default=DEFAULT_MIN_SLICE_OBJECTS,
        help=f"with --slices, no slice smaller than this (default: {DEFAULT_MIN_SLICE_OBJECTS:,})",
    )
    migrate_parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the plan (counts, mapped schema, target state, estimated size); write nothing",
    )
    migrate_parser.add_argument(
        "--mode",
        choices=("migrate", "download"),
        default="migrate",
        help="migrate into the target, or download: export Parquet files for Milvus bulk import without "
        "touching the target (default: migrate)",
    )
    migrate_parser.add_argument(
        "--output-dir",
        type=Path,
        default=Path(DEFAULT_OUTPUT_DIR),
        help=f"where --mode download writes, one directory per collection (default: {DEFAULT_OUTPUT_DIR})",
    )
    migrate_parser.add_argument(
        "--file-size-mb",
        type=_positive,
        default=DEFAULT_FILE_BYTES // MB,
        help="--mode download starts a new Parquet file after this much data "
        f"(default: {DEFAULT_FILE_BYTES // MB})",
    )
    migrate_parser.set_defaults(handler=migrate.command)

    verify_parser = commands.add_parser(
        "verify",
        parents=[with_collections],
        help="verify migrated collections again",
        description="Materialize only verification_report for each collection migrated with this "
        "DAGSTER_HOME. Exit code 1 when any verification fails.",
    )
    verify_parser.set_defaults(handler=verify.command)

    cutover_parser = commands.add_parser(
        "cutover",
        parents=[with_collections],
        help="final sync, full verification and the cut-over report",
        description="Materialize the whole chain for each collection (a final sync after the copy, then "
        "every check), and write the cut-over report as JSON and Markdown. Exit code 0 only when every "
        "blocking check passed; 1 otherwise, with the report naming what failed.",
    )
    cutover_parser.add_argument(
        "--report-dir",
        type=Path,
        help="where the reports go, one JSON and one Markdown file per collection "
        "(default: W2Z_CUTOVER_DIR, cutover-reports)",
    )
    cutover_parser.add_argument(
        "--batch-size",
        type=_batch_size,
        help=f"objects per page and write, 1 to {MAX_BATCH_SIZE} (default: MIGRATION_BATCH_SIZE, 250)",
    )
    cutover_parser.set_defaults(handler=cutover.command)

    listing = commands.add_parser(
        "collections",
        parents=[plain],
        help="list the source's collections and their target names",
        description="What Weaviate has (tenants, objects, vectors), the Milvus name w2z would give each "
        "collection, and whether the include/exclude patterns select it.",
    )
    listing.set_defaults(handler=collections.command)

    translating = commands.add_parser(
        "translate-filter",
        parents=[plain],
        help="print the Milvus filter expression for a Weaviate where filter",
        description="Translate a Weaviate REST `where` filter (JSON) into the Milvus boolean expression over "
        "the collection as w2z migrates it: field names as mapped, dates as stored, the tenant as a "
        "condition. Pieces Milvus cannot express are named on one line (exit code 2).",
    )
    translating.add_argument(
        "collection", metavar="COLLECTION", help="the Weaviate collection, by exact name"
    )
    translating.add_argument(
        "where",
        nargs="?",
        metavar="WHERE",
        help="the where filter as JSON; '-' or nothing reads it from stdin",
    )
    translating.add_argument("--file", type=Path, help="read the where filter from this JSON file")
    translating.add_argument(
        "--tenant", help="the tenant the query runs in (required on a multi-tenant collection)"
    )
    translating.set_defaults(handler=translate_filter.command)
    return parser
