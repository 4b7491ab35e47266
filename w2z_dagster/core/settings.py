"""Settings from the environment and `.env`, under the names the older migration script used.

Keeping the older script's variable names lets teams reuse their existing `.env` unchanged.
`load_settings` is the one place they are read: the code location calls it once at load, the CLI once
at start, and both turn the result into the same Dagster resources.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from w2z_dagster.core.profiles import TargetProfile
from w2z_dagster.core.uri import uri_secrets

MAX_BATCH_SIZE = 10_000
DEFAULT_GRPC_PORT = 50051


def check_batch_size(value: int) -> int:
    """Weaviate refuses cursor pages above 10,000 objects, and a page of nothing never ends."""
    if not 1 <= value <= MAX_BATCH_SIZE:
        raise ValueError(
            f"batch size {value} is out of range: use a value from 1 to {MAX_BATCH_SIZE} "
            "(MIGRATION_BATCH_SIZE or --batch-size)"
        )
    return value


BatchSize = Annotated[int, AfterValidator(check_batch_size)]


class SettingsError(ValueError):
    """A setting the user must correct; the message is one line naming each bad variable."""


class Settings(BaseSettings):
    """Every knob of w2z; flags and Dagster run config override these per run."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    weaviate_endpoint: str = Field("http://localhost:8080", validation_alias="WEAVIATE_ENDPOINT")
    weaviate_grpc_endpoint: str | None = Field(None, validation_alias="WEAVIATE_GRPC_ENDPOINT")
    weaviate_api_key: SecretStr | None = Field(None, validation_alias="WEAVIATE_API_KEY")
    zilliz_cloud_uri: str = Field("./w2z_milvus.db", validation_alias="ZILLIZ_CLOUD_URI")
    zilliz_cloud_api_key: SecretStr | None = Field(None, validation_alias="ZILLIZ_CLOUD_API_KEY")
    zilliz_cloud_database: str = Field("default", validation_alias="ZILLIZ_CLOUD_DATABASE")
    zilliz_target_profile: TargetProfile | None = Field(None, validation_alias="ZILLIZ_TARGET_PROFILE")
    migration_batch_size: BatchSize = Field(250, validation_alias="MIGRATION_BATCH_SIZE")
    migration_max_retries: int = Field(3, validation_alias="MIGRATION_MAX_RETRIES")
    migration_retry_delay: float = Field(1.0, validation_alias="MIGRATION_RETRY_DELAY")
    include_collections: str = Field("*", validation_alias="W2Z_INCLUDE_COLLECTIONS")
    exclude_collections: str = Field("", validation_alias="W2Z_EXCLUDE_COLLECTIONS")
    log_file: str = Field("logs/migration.log", validation_alias="W2Z_LOG_FILE")
    sync_cron: str = Field("0 2 * * *", validation_alias="W2Z_SYNC_CRON")
    store_blobs: bool = Field(False, validation_alias="W2Z_STORE_BLOBS")
    missing_vector: Literal["reject", "null"] = Field("reject", validation_alias="W2Z_MISSING_VECTOR")
    max_vector_fields: int | None = Field(None, validation_alias="W2Z_MAX_VECTOR_FIELDS")
    vector_dimensions: str = Field("", validation_alias="W2Z_VECTOR_DIMENSIONS")
    search_indexes: bool = Field(True, validation_alias="W2Z_SEARCH_INDEXES")
    dead_letter_dir: str | None = Field(None, validation_alias="W2Z_DEAD_LETTER_DIR")
    fast_paths: bool = Field(True, validation_alias="W2Z_FAST_PATHS")
    sync_margin_seconds: float = Field(120.0, ge=0, validation_alias="W2Z_SYNC_MARGIN_SECONDS")
    follow_interval: int | None = Field(None, ge=1, validation_alias="W2Z_FOLLOW_INTERVAL")
    follow_collections: str = Field("*", validation_alias="W2Z_FOLLOW_COLLECTIONS")
    max_lag_seconds: float = Field(3600.0, gt=0, validation_alias="W2Z_MAX_LAG_SECONDS")
    cutover_dir: str = Field("cutover-reports", validation_alias="W2Z_CUTOVER_DIR")

    def secrets(self) -> list[str]:
        """Every text no output may show: the API keys and the credentials a target URI may carry."""
        keys = [k.get_secret_value() for k in (self.weaviate_api_key, self.zilliz_cloud_api_key) if k]
        return [*keys, *uri_secrets(self.zilliz_cloud_uri)]


def load_settings() -> Settings:
    """The environment and `.env`, validated; every problem in one line, by variable name."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = ".".join(str(part) for part in error["loc"])
            problems.append(f"{name}: {error['msg'].removeprefix('Value error, ')}")
        raise SettingsError("invalid setting " + "; ".join(problems)) from None


def derive_grpc_endpoint(rest_endpoint: str) -> str:
    """Weaviate serves gRPC beside REST: port 50051 locally, `grpc-<host>:443` on Weaviate Cloud."""
    parts = urlsplit(rest_endpoint if "://" in rest_endpoint else f"http://{rest_endpoint}")
    host = parts.hostname or "localhost"
    if host.endswith((".weaviate.cloud", ".weaviate.network", ".weaviate.io")):
        return f"https://grpc-{host}:443"
    return f"{parts.scheme}://{host}:{DEFAULT_GRPC_PORT}"
