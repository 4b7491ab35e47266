"""What every `w2z` command shares: the context (settings, consoles, source, sink), the Dagster instance
and the table style."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from w2z_dagster.cli.home import prepare_home
from w2z_dagster.cli.logs import LOGGER, MaskedStream, SecretMask, setup_logging
from w2z_dagster.core import selection
from w2z_dagster.core.mapping import MigrationPlan, build_plan
from w2z_dagster.core.profiles import TargetProfile, profile_for_uri
from w2z_dagster.core.retry import RetryPolicy
from w2z_dagster.core.schema import CollectionSchema
from w2z_dagster.core.settings import Settings

# authlib (under weaviate-client) forces its deprecation warnings on at import; no w2z user can act on
# them, and they would break the promise of one clear line on stderr for bad input. Every command module
# imports this one first, so this is the one place weaviate-client is first imported.
with warnings.catch_warnings(record=True):
    from w2z_dagster.core.sink import MilvusSink, open_sink
    from w2z_dagster.core.source import WeaviateSource, open_source

if TYPE_CHECKING:
    import dagster as dg

PLAIN_WIDTH = 200

log = logging.getLogger(LOGGER)


class UsageError(Exception):
    """Bad input: reported as one line on stderr with exit code 2."""


class _Context:
    """What every command needs: settings, consoles, and the retry policy for its own reads."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.settings = _settings()
        self.mask = SecretMask(self.settings.secrets())
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
        prepare_home(Path(home))
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
