"""The two clients as Dagster resources; they hand out the core's source and sink, nothing more."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from w2z_dagster.core.mapping import MappingOptions
from w2z_dagster.core.profiles import TargetProfile, profile_for_uri
from w2z_dagster.core.retry import RetryPolicy
from w2z_dagster.core.settings import Settings, derive_grpc_endpoint
from w2z_dagster.core.sink import MilvusSink, open_sink
from w2z_dagster.core.source import WeaviateSource, open_source


class WeaviateResource(dg.ConfigurableResource):
    """Source Weaviate, reached through the real weaviate-client over REST and gRPC."""

    endpoint: str
    grpc_endpoint: str | None = None
    api_key: str | None = None
    max_retries: int = 3
    retry_delay: float = 1.0

    @contextmanager
    def open(self, include_blobs: bool = False) -> Iterator[WeaviateSource]:
        """`include_blobs` follows the plan: Weaviate returns blobs only when asked for them."""
        with open_source(
            self.endpoint,
            self.grpc_endpoint or derive_grpc_endpoint(self.endpoint),
            self.api_key,
            RetryPolicy(self.max_retries, self.retry_delay),
            include_blobs,
        ) as source:
            yield source


class ZillizResource(dg.ConfigurableResource):
    """Target Zilliz Cloud, Milvus, or a local Milvus Lite file."""

    uri: str
    api_key: str | None = None
    database: str = "default"
    profile: str | None = None
    max_retries: int = 3
    retry_delay: float = 1.0
    store_blobs: bool = False
    missing_vector: str = "reject"
    max_vector_fields: int | None = None
    vector_dimensions: str = ""
    dead_letter_dir: str | None = None

    def target_profile(self) -> TargetProfile:
        return TargetProfile(self.profile) if self.profile else profile_for_uri(self.uri)

    def mapping_options(self) -> MappingOptions:
        return MappingOptions.from_settings(
            self.store_blobs, self.missing_vector, self.max_vector_fields, self.vector_dimensions
        )

    @contextmanager
    def open(self) -> Iterator[MilvusSink]:
        with open_sink(
            self.uri, self.api_key, self.database, RetryPolicy(self.max_retries, self.retry_delay)
        ) as sink:
            yield sink


def _secret(name: str, present: bool) -> dg.EnvVar | None:
    """EnvVar keeps the value out of the UI and the run config; absent means an unauthenticated endpoint."""
    return dg.EnvVar(name) if present or os.environ.get(name) else None


def _from_environment(name: str, value: str) -> str | dg.EnvVar:
    """A value set in the environment goes in as EnvVar, so the UI shows its name (a URI may hold a password)."""
    return dg.EnvVar(name) if os.environ.get(name) else value


def resources_from_settings(settings: Settings) -> dict[str, dg.ConfigurableResource]:
    return {
        "weaviate": WeaviateResource(
            endpoint=settings.weaviate_endpoint,
            grpc_endpoint=settings.weaviate_grpc_endpoint,
            api_key=_secret("WEAVIATE_API_KEY", settings.weaviate_api_key is not None),
            max_retries=settings.migration_max_retries,
            retry_delay=settings.migration_retry_delay,
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
            dead_letter_dir=settings.dead_letter_dir,
            max_retries=settings.migration_max_retries,
            retry_delay=settings.migration_retry_delay,
        ),
    }
