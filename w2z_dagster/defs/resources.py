"""The two clients as Dagster resources, and the one place settings become them.

Every knob of a deployment is a documented resource field. `resources_from_settings` fills them from
the environment once (the code location at load, the CLI at start), and assets, sensor and CLI read them
from there; secrets and the target URI go in as `dg.EnvVar`, so the UI shows their names, not values.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

import dagster as dg
from pydantic import Field
from upath import UPath

from w2z_dagster.core import selection
from w2z_dagster.core.mapping import build_plan
from w2z_dagster.core.plan import MappingOptions, MigrationPlan
from w2z_dagster.core.profiles import TargetProfile, profile_for_server, profile_for_uri
from w2z_dagster.core.retry import RetryPolicy
from w2z_dagster.core.schema import CollectionSchema
from w2z_dagster.core.settings import BatchSize, Settings, derive_grpc_endpoint
from w2z_dagster.core.sink import MilvusSink, open_sink
from w2z_dagster.core.source import WeaviateSource, open_source
from w2z_dagster.defs.io_managers import CATALOG, CatalogIOManager

MAX_RETRIES = Field(
    3, ge=0, description="Retries of a transient failure of one call (MIGRATION_MAX_RETRIES)."
)
RETRY_DELAY = Field(
    1.0, gt=0, description="First backoff in seconds; exponential, jittered, capped (MIGRATION_RETRY_DELAY)."
)

FAST_PATHS = Field(
    True,
    description="Use the fast paths on library internals (W2Z_FAST_PATHS; core/fast_paths.py); off: the "
    "public library paths only, correct but more CPU per object.",
)


class WeaviateResource(dg.ConfigurableResource):
    """Source Weaviate, reached through the real weaviate-client over REST and gRPC."""

    endpoint: str = Field(description="Weaviate REST URL (WEAVIATE_ENDPOINT).")
    grpc_endpoint: str | None = Field(
        None,
        description="Weaviate gRPC URL (WEAVIATE_GRPC_ENDPOINT); derived from the REST URL when unset: "
        "same host, port 50051, or grpc-<host>:443 on Weaviate Cloud.",
    )
    api_key: str | None = Field(None, description="Weaviate API key (WEAVIATE_API_KEY); unset: anonymous.")
    batch_size: BatchSize = Field(
        250, description="Objects per cursor page and write (MIGRATION_BATCH_SIZE); run config overrides it."
    )
    include_collections: str = Field(
        "*", description="Comma-separated shell patterns of collections to migrate (W2Z_INCLUDE_COLLECTIONS)."
    )
    exclude_collections: str = Field(
        "",
        description="Comma-separated shell patterns of collections to leave out (W2Z_EXCLUDE_COLLECTIONS).",
    )
    sync_margin_seconds: float = Field(
        120.0,
        ge=0,
        description="A sync re-reads the changes of this many seconds before its watermark: clock skew "
        "between Weaviate nodes and writes whose update time precedes their visibility "
        "(W2Z_SYNC_MARGIN_SECONDS; docs/cutover.md).",
    )
    max_lag_seconds: float = Field(
        3600.0, gt=0, description="The `lag` check fails above this many seconds (W2Z_MAX_LAG_SECONDS)."
    )
    max_retries: int = MAX_RETRIES
    retry_delay: float = RETRY_DELAY
    fast_paths: bool = FAST_PATHS

    def selected(self, available: list[str]) -> list[str]:
        """The collections the patterns select, in the source's order."""
        return selection.select(available, self.include_collections, self.exclude_collections)

    @contextmanager
    def open(self, include_blobs: bool = False) -> Iterator[WeaviateSource]:
        """`include_blobs` follows the plan: Weaviate returns blobs only when asked for them."""
        with open_source(
            self.endpoint,
            self.grpc_endpoint or derive_grpc_endpoint(self.endpoint),
            self.api_key,
            RetryPolicy(self.max_retries, self.retry_delay),
            include_blobs,
            self.fast_paths,
        ) as source:
            yield source


class ZillizResource(dg.ConfigurableResource):
    """Target Zilliz Cloud, Milvus, or a local Milvus Lite file."""

    uri: str = Field(
        description="Zilliz Cloud / Milvus URI, or a Milvus Lite file (ZILLIZ_CLOUD_URI); may carry "
        "user:password@, which is never shown."
    )
    api_key: str | None = Field(None, description="Zilliz API key or user:password (ZILLIZ_CLOUD_API_KEY).")
    database: str = Field("default", description="Target database (ZILLIZ_CLOUD_DATABASE).")
    profile: TargetProfile | None = Field(
        None, description="Limits to enforce (ZILLIZ_TARGET_PROFILE); chosen from the URI when unset."
    )
    store_blobs: bool = Field(False, description="Store blob properties as base64 text (W2Z_STORE_BLOBS).")
    missing_vector: Literal["reject", "null"] = Field(
        "reject", description="What to do with an object missing a vector (W2Z_MISSING_VECTOR)."
    )
    max_vector_fields: int | None = Field(
        None, ge=1, description="Vector fields the target allows per collection (W2Z_MAX_VECTOR_FIELDS)."
    )
    vector_dimensions: str = Field(
        "", description="`name=dim,...` for vectors no object has yet (W2Z_VECTOR_DIMENSIONS)."
    )
    search_indexes: bool = Field(
        True,
        description="Carry keyword search (BM25) and filter indexes (W2Z_SEARCH_INDEXES); false for a "
        "target older than Milvus 2.5.",
    )
    dead_letter_dir: str | None = Field(
        None,
        description="Where objects the target cannot hold are kept: a path or object-store URL every run "
        "reads (W2Z_DEAD_LETTER_DIR); unset: beside the instance's local storage.",
    )
    max_retries: int = MAX_RETRIES
    retry_delay: float = RETRY_DELAY
    fast_paths: bool = FAST_PATHS

    def dead_letter_folder(self, instance: dg.DagsterInstance, partition: str) -> UPath:
        """Where a collection's rejected objects are kept: one folder per collection, not per run, so the
        rejects of a run that failed and was resumed still reach verification.

        Without `dead_letter_dir`, beside the instance's local storage; deployments where each run has
        its own machine point it at a shared volume or an object-store URL that every run reads.
        """
        if self.dead_letter_dir:
            return UPath(self.dead_letter_dir) / partition
        return UPath(instance.storage_directory()) / "w2z" / "dead_letters" / partition

    def target_profile(self, server_version: str = "") -> TargetProfile:
        """The configured profile, else the URI's guess refined by the server's version when known."""
        return self.profile or profile_for_server(profile_for_uri(self.uri), server_version)

    def plan(self, schema: CollectionSchema, server_version: str = "") -> MigrationPlan:
        """The mapping of `schema` onto this target, with the user's mapping choices."""
        options = MappingOptions.from_settings(
            self.store_blobs,
            self.missing_vector,
            self.max_vector_fields,
            self.vector_dimensions,
            search_indexes=self.search_indexes,
        )
        return build_plan(schema, self.target_profile(server_version), options)

    @contextmanager
    def open(self) -> Iterator[MilvusSink]:
        with open_sink(
            self.uri,
            self.api_key,
            self.database,
            RetryPolicy(self.max_retries, self.retry_delay),
            self.fast_paths,
        ) as sink:
            yield sink


def _secret(name: str, present: bool) -> dg.EnvVar | None:
    """EnvVar keeps the value out of the UI and the run config; absent means an unauthenticated endpoint."""
    return dg.EnvVar(name) if present or os.environ.get(name) else None


def _from_environment(name: str, value: str) -> str | dg.EnvVar:
    """Set in the environment, the value goes in as EnvVar too: a URI may carry a password."""
    return dg.EnvVar(name) if os.environ.get(name) else value


def resources_from_settings(
    settings: Settings,
) -> dict[str, dg.ConfigurableResource | dg.ConfigurableIOManager]:
    shared = {
        "max_retries": settings.migration_max_retries,
        "retry_delay": settings.migration_retry_delay,
        "fast_paths": settings.fast_paths,
    }
    return {
        CATALOG: CatalogIOManager(),
        "weaviate": WeaviateResource(
            endpoint=settings.weaviate_endpoint,
            grpc_endpoint=settings.weaviate_grpc_endpoint,
            api_key=_secret("WEAVIATE_API_KEY", settings.weaviate_api_key is not None),
            batch_size=settings.migration_batch_size,
            include_collections=settings.include_collections,
            exclude_collections=settings.exclude_collections,
            sync_margin_seconds=settings.sync_margin_seconds,
            max_lag_seconds=settings.max_lag_seconds,
            **shared,
        ),
        "zilliz": ZillizResource(
            uri=_from_environment("ZILLIZ_CLOUD_URI", settings.zilliz_cloud_uri),
            api_key=_secret("ZILLIZ_CLOUD_API_KEY", settings.zilliz_cloud_api_key is not None),
            database=settings.zilliz_cloud_database,
            profile=settings.zilliz_target_profile,
            store_blobs=settings.store_blobs,
            missing_vector=settings.missing_vector,
            max_vector_fields=settings.max_vector_fields,
            vector_dimensions=settings.vector_dimensions,
            search_indexes=settings.search_indexes,
            dead_letter_dir=settings.dead_letter_dir,
            **shared,
        ),
    }
