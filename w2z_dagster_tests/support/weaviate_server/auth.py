"""API-key checking shared by both protocols, with real Weaviate's failure messages."""

from __future__ import annotations

import hmac

from .errors import ServerError
from .faults import SC


def check_bearer(header: str | None, api_key: str | None) -> None:
    """Raise unless `header` is `Bearer <api_key>`; with no key configured, access is anonymous."""
    if api_key is None:
        return
    if not header:
        raise ServerError(
            "extract auth: anonymous access not enabled, please provide an auth scheme such as OIDC",
            grpc_code=SC.UNAUTHENTICATED,
            http_status=401,
        )
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), api_key.encode()):
        raise ServerError(
            "extract auth: unauthorized: invalid api key", grpc_code=SC.UNAUTHENTICATED, http_status=401
        )
