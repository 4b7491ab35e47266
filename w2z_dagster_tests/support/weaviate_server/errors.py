"""One error type that knows how it looks on both protocols, so handlers raise it once."""

from __future__ import annotations

import grpc


class ServerError(Exception):
    """A request failure carrying what real Weaviate answers on gRPC and on REST.

    Plain Go errors surface as gRPC UNKNOWN and REST 422 in real Weaviate; UNAVAILABLE is never
    used because it makes the client sleep and retry for up to a minute.
    """

    def __init__(
        self,
        message: str,
        *,
        grpc_code: grpc.StatusCode = grpc.StatusCode.UNKNOWN,
        http_status: int = 422,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.grpc_code = grpc_code
        self.http_status = http_status


def not_implemented(feature: str) -> ServerError:
    """Reject a feature loudly: a silently ignored option would make tests pass for the wrong reason."""
    return ServerError(
        f"w2z test server: {feature} is not implemented",
        grpc_code=grpc.StatusCode.UNIMPLEMENTED,
        http_status=501,
    )


def not_found(message: str) -> ServerError:
    return ServerError(message, http_status=404)
