"""Settings keep the older script's names and defaults, and refuse what Weaviate would refuse later."""

import shutil
from pathlib import Path

import pytest

from w2z_dagster.core.settings import SettingsError, check_batch_size, derive_grpc_endpoint, load_settings


def test_defaults_are_the_older_scripts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir("/")
    settings = load_settings()
    assert settings.migration_batch_size == 250
    assert settings.migration_max_retries == 3
    assert settings.migration_retry_delay == 1.0
    assert settings.zilliz_cloud_database == "default"
    assert settings.zilliz_cloud_uri == "./w2z_milvus.db"


def test_environment_names_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEAVIATE_ENDPOINT", "http://weaviate.internal:8080")
    monkeypatch.setenv("WEAVIATE_API_KEY", "s3cret")
    monkeypatch.setenv("MIGRATION_BATCH_SIZE", "500")
    settings = load_settings()
    assert derive_grpc_endpoint(settings.weaviate_endpoint) == "http://weaviate.internal:50051"
    assert settings.migration_batch_size == 500
    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize(
    ("rest", "grpc"),
    [
        ("http://localhost:8080", "http://localhost:50051"),
        (
            "https://abc.c0.europe-west3.gcp.weaviate.cloud",
            "https://grpc-abc.c0.europe-west3.gcp.weaviate.cloud:443",
        ),
        ("weaviate:8080", "http://weaviate:50051"),
    ],
)
def test_grpc_endpoint_is_derived_from_rest(rest: str, grpc: str) -> None:
    assert derive_grpc_endpoint(rest) == grpc


@pytest.mark.parametrize("size", [0, -1, 10_001])
def test_batch_size_out_of_range_says_how_to_fix(size: int) -> None:
    with pytest.raises(ValueError) as error:
        check_batch_size(size)
    assert str(error.value) == (
        f"batch size {size} is out of range: use a value from 1 to 10000 (MIGRATION_BATCH_SIZE or --batch-size)"
    )


def test_the_example_env_file_loads_with_its_empty_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copy(Path(__file__).resolve().parents[3] / ".env.example", tmp_path / ".env")
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.weaviate_api_key is None and settings.max_vector_fields is None
    assert (settings.store_blobs, settings.missing_vector, settings.vector_dimensions) == (
        False,
        "reject",
        "",
    )
    assert settings.sync_cron == "0 2 * * *"


def test_follow_mode_is_off_and_the_sync_settings_have_their_documented_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir("/")
    settings = load_settings()
    assert (settings.follow_interval, settings.follow_collections) == (None, "*")
    assert (settings.sync_margin_seconds, settings.max_lag_seconds) == (120.0, 3600.0)
    assert settings.cutover_dir == "cutover-reports"


def test_a_follow_interval_below_one_second_is_refused_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir("/")
    monkeypatch.setenv("W2Z_FOLLOW_INTERVAL", "0")
    with pytest.raises(
        SettingsError,
        match=r"^invalid setting W2Z_FOLLOW_INTERVAL: Input should be greater than or equal to 1$",
    ):
        load_settings()
