"""Target URIs that carry credentials.

pymilvus accepts `https://user:password@host:port`, so a `ZILLIZ_CLOUD_URI` may hold a password. Whatever
shows a URI (errors, logs, the dry-run plan) shows it redacted, and the secret mask learns its password.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit, urlunsplit

REDACTED = "***"


def _userinfo(uri: str) -> str | None:
    netloc = urlsplit(uri).netloc if "://" in uri else ""
    return netloc.rpartition("@")[0] or None


def redacted(uri: str) -> str:
    """The URI with its password (or a lone user token) replaced, so it can be printed anywhere."""
    userinfo = _userinfo(uri)
    if userinfo is None:
        return uri
    parts = urlsplit(uri)
    user, has_password, _ = userinfo.partition(":")
    shown = f"{user}:{REDACTED}" if has_password else REDACTED
    return urlunsplit(parts._replace(netloc=f"{shown}@{parts.netloc.rpartition('@')[2]}"))


def uri_secrets(uri: str) -> list[str]:
    """The texts of the URI that must never be shown: its userinfo, and the password as typed and decoded."""
    userinfo = _userinfo(uri)
    if userinfo is None:
        return []
    user, has_password, password = userinfo.partition(":")
    secret = password if has_password else user
    return [s for s in {userinfo, secret, unquote(secret)} if s]
