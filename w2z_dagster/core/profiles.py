"""Target profiles and the limits w2z enforces for each.

Milvus Lite accepts names, sizes and values that a real Milvus server or Zilliz Cloud rejects, so a
migration rehearsed on Lite could fail on the real target. w2z therefore checks the server limits
itself; the `lite` profile deliberately enforces the same limits as `milvus`.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import PurePath
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict


class TargetProfile(StrEnum):
    ZILLIZ_SERVERLESS = "zilliz-serverless"
    ZILLIZ_DEDICATED = "zilliz-dedicated"
    MILVUS = "milvus"
    LITE = "lite"


class TargetLimits(BaseModel):
    """Server limits (Milvus defaults, Zilliz Cloud docs); see docs/mapping.md for the sources."""

    model_config = ConfigDict(frozen=True)

    max_fields: int = 64
    max_vector_fields: int = 4
    max_varchar_bytes: int = 65_535
    max_array_capacity: int = 4_096
    max_json_bytes: int = 65_536
    min_dim: int = 2
    max_dim: int = 32_768
    max_name_bytes: int = 255
    max_request_bytes: int = 64 * 1024 * 1024
    autoindex_only: bool = False
    nullable_vectors: bool = True
    analyzer_tokenizers: frozenset[str] = frozenset({"standard", "whitespace", "jieba", "lindera", "icu"})
    scalar_index: Literal["typed", "inverted", "autoindex"] = "typed"
    """typed: INVERTED / STL_SORT / BITMAP by type; inverted: INVERTED only, no ARRAY; autoindex: Zilliz's."""


_LIMITS: dict[TargetProfile, TargetLimits] = {
    TargetProfile.ZILLIZ_SERVERLESS: TargetLimits(
        max_vector_fields=4, autoindex_only=True, scalar_index="autoindex"
    ),
    TargetProfile.ZILLIZ_DEDICATED: TargetLimits(
        max_vector_fields=10, autoindex_only=True, scalar_index="autoindex"
    ),
    TargetProfile.MILVUS: TargetLimits(max_vector_fields=4),
    # Lite reads a null vector back as zeros, so a nullable vector would not round-trip; its analyzers
    # have the standard and jieba tokenizers only, its scalar index is INVERTED on non-array fields.
    TargetProfile.LITE: TargetLimits(
        max_vector_fields=4,
        nullable_vectors=False,
        analyzer_tokenizers=frozenset({"standard", "jieba"}),
        scalar_index="inverted",
    ),
}

_SERVER_SCHEMES = frozenset({"http", "https", "tcp", "grpc", "grpcs"})


def limits_for(profile: TargetProfile) -> TargetLimits:
    return _LIMITS[TargetProfile(profile)]


def profile_for_server(guessed: TargetProfile, server_version: str) -> TargetProfile:
    """A `milvus` URI guess served by Milvus Lite (`milvus-lite server`, version `milvus_lite-…`) is `lite`:
    its analyzers and scalar indexes are Lite's."""
    if guessed is TargetProfile.MILVUS and server_version.startswith("milvus_lite"):
        return TargetProfile.LITE
    return guessed


def profile_for_uri(uri: str) -> TargetProfile:
    """Guess the profile from a MilvusClient URI; callers may override the guess.

    A `.db` path is what pymilvus itself treats as Milvus Lite, and anything that is not a server URL
    can only be a local Lite directory.
    """
    parts = urlsplit(uri.strip())
    if PurePath(parts.path).suffix == ".db" or parts.scheme.lower() not in _SERVER_SCHEMES:
        return TargetProfile.LITE
    host = (parts.hostname or "").lower()
    if "zilliz" in host and "serverless" in host:
        return TargetProfile.ZILLIZ_SERVERLESS
    if host.endswith(("zillizcloud.com", "zilliz.com")):
        return TargetProfile.ZILLIZ_DEDICATED
    return TargetProfile.MILVUS
