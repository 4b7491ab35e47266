"""Credentials in a target URI are shown redacted and known to the secret mask."""

from __future__ import annotations

import pytest

from w2z_dagster.core.uri import redacted, uri_secrets


@pytest.mark.parametrize(
    ("uri", "shown", "secrets"),
    [
        ("https://alice:pa%40ss@in01.zillizcloud.com:443", "https://alice:***@in01.zillizcloud.com:443",
         {"alice:pa%40ss", "pa%40ss", "pa@ss"}),
        ("http://root:Milvus@localhost:19530", "http://root:***@localhost:19530", {"root:Milvus", "Milvus"}),
        ("https://tokenonly@host:443/db", "https://***@host:443/db", {"tokenonly"}),
        ("http://localhost:19530", "http://localhost:19530", set()),
        ("./w2z_milvus.db", "./w2z_milvus.db", set()),
        ("/data/user:odd@name.db", "/data/user:odd@name.db", set()),
    ],
)  # fmt: skip
def test_a_uri_is_redacted_and_its_secrets_listed(uri: str, shown: str, secrets: set[str]) -> None:
    assert redacted(uri) == shown
    assert set(uri_secrets(uri)) == secrets
