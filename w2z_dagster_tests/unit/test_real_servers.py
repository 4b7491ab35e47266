"""The real-server mode of the fixtures empties its servers, so it runs only when explicitly allowed."""

from __future__ import annotations

import pytest

from w2z_dagster_tests.support.real_servers import wipe_refusal

WEAVIATE = {"W2Z_TEST_WEAVIATE_ENDPOINT": "http://localhost:8080"}
MILVUS = {"W2Z_TEST_MILVUS_URI": "http://localhost:19530"}


def test_no_real_server_named_needs_no_opt_in() -> None:
    assert wipe_refusal({}) is None
    assert wipe_refusal({"W2Z_TEST_WEAVIATE_ENDPOINT": "", "W2Z_TEST_ALLOW_WIPE": "0"}) is None


@pytest.mark.parametrize(
    ("environ", "refusal"),
    [
        (
            WEAVIATE,
            "W2Z_TEST_WEAVIATE_ENDPOINT set: the tests delete every collection there first; "
            "set W2Z_TEST_ALLOW_WIPE=1 to allow it, or unset it",
        ),
        (
            {**WEAVIATE, **MILVUS, "W2Z_TEST_ALLOW_WIPE": "yes"},
            "W2Z_TEST_WEAVIATE_ENDPOINT and W2Z_TEST_MILVUS_URI set: the tests delete every collection there "
            "first; set W2Z_TEST_ALLOW_WIPE=1 to allow it, or unset them",
        ),
    ],
)
def test_a_named_real_server_without_the_opt_in_is_refused_in_one_line(
    environ: dict[str, str], refusal: str
) -> None:
    assert wipe_refusal(environ) == refusal


def test_the_opt_in_allows_either_server() -> None:
    assert wipe_refusal({**WEAVIATE, "W2Z_TEST_ALLOW_WIPE": "1"}) is None
    assert wipe_refusal({**MILVUS, "W2Z_TEST_ALLOW_WIPE": "1"}) is None
