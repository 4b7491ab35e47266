"""The opt-in for running the suite against real servers, which the fixtures empty before each test.

`conftest.py` takes its source and target from `W2Z_TEST_WEAVIATE_ENDPOINT` / `W2Z_TEST_MILVUS_URI` when
they are set, and then deletes every collection on them. An endpoint left over in a shell must not do
that by accident, so the session refuses to start unless `W2Z_TEST_ALLOW_WIPE=1` says it may.
"""

from __future__ import annotations

from collections.abc import Mapping

ENDPOINTS = ("W2Z_TEST_WEAVIATE_ENDPOINT", "W2Z_TEST_MILVUS_URI")
ALLOW_WIPE = "W2Z_TEST_ALLOW_WIPE"


def wipe_refusal(environ: Mapping[str, str]) -> str | None:
    """The one line the session stops with, or None when no real server is named or wiping is allowed."""
    named = [name for name in ENDPOINTS if environ.get(name)]
    if not named or environ.get(ALLOW_WIPE) == "1":
        return None
    return (
        f"{' and '.join(named)} set: the tests delete every collection there first; "
        f"set {ALLOW_WIPE}=1 to allow it, or unset {'them' if len(named) > 1 else 'it'}"
    )
