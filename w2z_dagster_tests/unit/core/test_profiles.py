from __future__ import annotations

import pytest
from pydantic import ValidationError

from w2z_dagster.core.profiles import (
    TargetLimits,
    TargetProfile,
    limits_for,
    profile_for_server,
    profile_for_uri,
)


@pytest.mark.parametrize(
    ("uri", "profile"),
    [
        ("./target.db", TargetProfile.LITE),
        ("/tmp/w2z/target.db", TargetProfile.LITE),
        ("target.db", TargetProfile.LITE),
        ("/var/lib/milvus-lite-data", TargetProfile.LITE),
        ("relative/dir", TargetProfile.LITE),
        (r"C:\data\target.db", TargetProfile.LITE),
        ("http://localhost:19530", TargetProfile.MILVUS),
        ("https://milvus.internal.example.com:443", TargetProfile.MILVUS),
        ("tcp://10.0.0.5:19530", TargetProfile.MILVUS),
        ("https://in03-abc.serverless.gcp-us-west1.cloud.zilliz.com", TargetProfile.ZILLIZ_SERVERLESS),
        (
            "https://in03-abc.serverless.aws-eu-central-1.cloud.zilliz.com:443",
            TargetProfile.ZILLIZ_SERVERLESS,
        ),
        ("https://in01-abc.aws-us-west-2.vectordb.zillizcloud.com:19530", TargetProfile.ZILLIZ_DEDICATED),
        ("https://in01-abc.api.gcp-us-west1.zillizcloud.com", TargetProfile.ZILLIZ_DEDICATED),
        ("https://in05-abc.cloud.zilliz.com", TargetProfile.ZILLIZ_DEDICATED),
    ],
)
def test_profile_for_uri(uri: str, profile: TargetProfile) -> None:
    assert profile_for_uri(uri) == profile


def test_profile_values_are_the_documented_names() -> None:
    assert [p.value for p in TargetProfile] == ["zilliz-serverless", "zilliz-dedicated", "milvus", "lite"]


@pytest.mark.parametrize(
    ("profile", "vector_fields", "autoindex", "nullable_vectors"),
    [
        ("zilliz-serverless", 4, True, True),
        ("zilliz-dedicated", 10, True, True),
        ("milvus", 4, False, True),
        ("lite", 4, False, False),
    ],
)
def test_limits_per_profile(
    profile: str, vector_fields: int, autoindex: bool, nullable_vectors: bool
) -> None:
    limits = limits_for(TargetProfile(profile))
    assert limits.max_vector_fields == vector_fields
    assert limits.autoindex_only is autoindex
    assert limits.nullable_vectors is nullable_vectors
    assert (
        limits.max_fields,
        limits.max_varchar_bytes,
        limits.max_array_capacity,
        limits.max_json_bytes,
        limits.min_dim,
        limits.max_dim,
        limits.max_name_bytes,
        limits.max_request_bytes,
    ) == (64, 65_535, 4_096, 65_536, 2, 32_768, 255, 64 * 1024 * 1024)


def test_lite_enforces_the_milvus_size_limits() -> None:
    lite, milvus = limits_for(TargetProfile.LITE), limits_for(TargetProfile.MILVUS)
    # Lite's own capabilities (null vectors, tokenizers, scalar indexes) differ; its size limits do not.
    capabilities = {"nullable_vectors", "analyzer_tokenizers", "scalar_index"}
    assert lite.model_dump(exclude=capabilities) == milvus.model_dump(exclude=capabilities)


def test_limits_are_frozen() -> None:
    with pytest.raises(ValidationError):
        TargetLimits().max_fields = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("guessed", "version", "profile"),
    [
        (TargetProfile.MILVUS, "milvus_lite-3.2.2", TargetProfile.LITE),
        (TargetProfile.MILVUS, "v2.6.3", TargetProfile.MILVUS),
        (TargetProfile.MILVUS, "", TargetProfile.MILVUS),
        (TargetProfile.ZILLIZ_DEDICATED, "milvus_lite-3.2.2", TargetProfile.ZILLIZ_DEDICATED),
    ],
)
def test_a_milvus_uri_served_by_milvus_lite_is_planned_as_lite(
    guessed: TargetProfile, version: str, profile: TargetProfile
) -> None:
    assert profile_for_server(guessed, version) is profile
