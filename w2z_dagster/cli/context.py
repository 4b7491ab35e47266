"""What every `w2z` command shares: the context (settings, consoles, the two resources), the Dagster
instance and the table style."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from rich.console import Console
from rich.table import Table

from w2z_dagster.cli.home import prepare_home
from w2z_dagster.cli.logs import LOGGER, MaskedStream, SecretMask, setup_logging
from w2z_dagster.core import selection
from w2z_dagster.core.profiles import TargetProfile
from w2z_dagster.core.settings import SettingsError, load_settings

# authlib (under weaviate-client) forces its deprecation warnings on at import; no w2z user can act on
# them, and they would break the promise of one clear line on stderr for bad input. Every command module
# imports this one first, so this is the one place weaviate-client is first imported.
with warnings.catch_warnings(record=True):
    import dagster as dg

    from w2z_dagster.core.sink import MilvusSink
    from w2z_dagster.core.source import WeaviateSource
    from w2z_dagster.defs.resources import WeaviateResource, ZillizResource, resources_from_settings

if TYPE_CHECKING:
    from w2z_dagster.core.plan import MigrationPlan
    from w2z_dagster.core.schema import CollectionSchema

PLAIN_WIDTH = 200

log = logging.getLogger(LOGGER)


class UsageError(Exception):
    """Bad input: reported as one line on stderr with exit code 2."""


class Context:
    """What every command needs: settings read once, consoles, and the resources every run uses too."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        try:
            self.settings = load_settings()
        except SettingsError as exc:
            raise UsageError(str(exc)) from None
        self.mask = SecretMask(self.settings.secrets())
        self.out = _console(sys.stdout, self.mask)
        self.err = _console(sys.stderr, self.mask)
        try:
            setup_logging(args.log_level, self.settings.log_file, self.mask, self.err)
        except OSError as exc:
            raise UsageError(
                f"cannot write the log file {self.settings.log_file} (W2Z_LOG_FILE): {exc}"
            ) from exc
        self.resources = resources_from_settings(self.settings)
        # The CLI's own reads use the resources outside a run: their EnvVars are resolved here.
        self.weaviate: WeaviateResource = self.resources["weaviate"].process_config_and_initialize()
        self.zilliz: ZillizResource = self.resources["zilliz"].process_config_and_initialize()

    @cached_property
    def definitions(self) -> dg.Definitions:
        """The code location's definitions from this context's settings, for the runs the CLI starts."""
        from w2z_dagster.definitions import build_definitions

        return build_definitions(self.settings)

    @property
    def batch_size(self) -> int:
        return getattr(self.args, "batch_size", None) or self.weaviate.batch_size

    @property
    def profile(self) -> TargetProfile:
        return self.zilliz.target_profile()

    @contextmanager
    def source(self) -> Iterator[WeaviateSource]:
        with self.weaviate.open(self.zilliz.store_blobs) as source:
            yield source

    @contextmanager
    def sink(self) -> Iterator[MilvusSink]:
        with self.zilliz.open() as sink:
            yield sink

    def target_absent(self) -> bool:
        """A Milvus Lite file that does not exist yet holds nothing, and opening it would create it."""
        uri = self.zilliz.uri
        return "://" not in uri and not Path(uri).exists()

    def select(self, source: WeaviateSource) -> list[str]:
        available = source.list_collections()
        names: Sequence[str] | None = getattr(self.args, "collections", None)
        include, exclude = self.weaviate.include_collections, self.weaviate.exclude_collections
        if names:
            found, unknown = selection.requested(available, names)
            if unknown:
                raise UsageError(selection.unknown_message(unknown, available))
            excluded = [n for n in found if not selection.is_selected(n, include, exclude)]
            if excluded:
                raise UsageError(selection.excluded_message(excluded, include, exclude))
            return found
        chosen = self.weaviate.selected(available)
        if not chosen:
            log.warning(
                f"No collection selected: Weaviate has {len(available)} "
                f"(W2Z_INCLUDE_COLLECTIONS={include!r}, W2Z_EXCLUDE_COLLECTIONS={exclude!r})"
            )
        return chosen

    def plan(self, schema: CollectionSchema) -> MigrationPlan:
        """The plan exactly as the `zilliz_collection` asset builds it."""
        return self.zilliz.plan(schema)


def _console(stream: TextIO, mask: SecretMask) -> Console:
    """Everything the CLI prints goes through the mask too: tables carry error texts from anywhere."""
    masked = MaskedStream(stream, mask)
    console = Console(file=masked)
    return console if console.is_terminal else Console(file=masked, width=PLAIN_WIDTH)


@contextmanager
def open_instance() -> Iterator[dg.DagsterInstance]:
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


def check_target(ctx: Context) -> None:
    """Fail before the first run when the target cannot be reached at all."""
    if not ctx.target_absent():
        with ctx.sink():
            pass


def new_table(*columns: str, title: str | None = None) -> Table:
    shown = Table(title=title, title_justify="left")
    for column in columns:
        shown.add_column(column, overflow="fold")
    return shown
