"""Connecting to the test server: well-known routes, init checks, API-key auth on both protocols."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import httpx
import pytest
import weaviate
from weaviate.classes.init import Auth
from weaviate.exceptions import UnexpectedStatusCodeError
from weaviate.proto.v1 import health_weaviate_pb2, search_get_pb2, weaviate_pb2_grpc

from w2z_dagster_tests.support.weaviate_server import WeaviateTestServer, start_server


@pytest.mark.parametrize("weaviate_server", [{"modules": []}], indirect=True)
def test_meta_and_well_known_routes(weaviate_server: WeaviateTestServer) -> None:
    with httpx.Client(base_url=weaviate_server.http_url, trust_env=False) as http:
        assert http.get("/v1/meta").json() == {
            "hostname": weaviate_server.http_url,
            "modules": {},
            "version": "1.32.0",
            "grpcMaxMessageSize": 104858000,
        }
        assert http.get("/v1/.well-known/openid-configuration").status_code == 404
        assert http.get("/v1/.well-known/ready").status_code == 200
        assert http.get("/v1/.well-known/live").status_code == 200
        assert http.get("/v1/nope").status_code == 404


def test_full_init_checks_use_oidc_discovery_meta_and_grpc_health(
    weaviate_server: WeaviateTestServer,
) -> None:
    client = weaviate_server.connect(skip_init_checks=False)
    try:
        assert client.is_ready()
        assert client.is_live()
        assert client.get_meta()["version"] == "1.32.0"
    finally:
        client.close()
    faults = weaviate_server.faults
    assert faults.calls("GET /v1/.well-known/openid-configuration") == 1
    assert faults.calls("GET /v1/meta") == 2
    assert faults.calls("Check") == 2
    assert faults.calls("GET /v1/.well-known/ready") == 1


def test_connect_to_local_with_custom_ports(weaviate_server: WeaviateTestServer) -> None:
    client = weaviate.connect_to_local(
        host=weaviate_server.host,
        port=weaviate_server.http_port,
        grpc_port=weaviate_server.grpc_port,
        skip_init_checks=True,
    )
    try:
        client.collections.create("Thing")
        assert len(client.collections.get("Thing")) == 0
    finally:
        client.close()


def test_ports_are_distinct_free_ports_and_urls_match() -> None:
    with start_server() as first, start_server() as second:
        ports = {first.http_port, first.grpc_port, second.http_port, second.grpc_port}
        assert len(ports) == 4
        assert first.http_url == f"http://127.0.0.1:{first.http_port}"


@pytest.fixture
def secured() -> Iterator[WeaviateTestServer]:
    server = start_server(api_key="s3cret")
    yield server
    server.stop()


def test_api_key_grants_access_without_oidc_discovery(secured: WeaviateTestServer) -> None:
    client = secured.connect(skip_init_checks=False)
    try:
        client.collections.create("Guarded")
        assert len(client.collections.get("Guarded")) == 0
    finally:
        client.close()
    assert secured.faults.calls("GET /v1/.well-known/openid-configuration") == 0


def test_api_key_rejects_missing_or_wrong_key_on_rest(secured: WeaviateTestServer) -> None:
    with httpx.Client(base_url=secured.http_url, trust_env=False) as http:
        missing = http.get("/v1/schema")
        wrong = http.get("/v1/schema", headers={"Authorization": "Bearer nope"})
        right = http.get("/v1/schema", headers={"Authorization": "Bearer s3cret"})
        ready = http.get("/v1/.well-known/ready")
    assert (missing.status_code, wrong.status_code, right.status_code, ready.status_code) == (
        401,
        401,
        200,
        200,
    )
    assert wrong.json() == {"code": 401, "message": "extract auth: unauthorized: invalid api key"}
    with pytest.raises(UnexpectedStatusCodeError, match="401"):
        weaviate.connect_to_custom(
            http_host=secured.host,
            http_port=secured.http_port,
            http_secure=False,
            grpc_host=secured.host,
            grpc_port=secured.grpc_port,
            grpc_secure=False,
            auth_credentials=Auth.api_key("nope"),
            skip_init_checks=True,
        )


def test_api_key_rejects_missing_or_wrong_key_on_grpc(secured: WeaviateTestServer) -> None:
    with grpc.insecure_channel(f"{secured.host}:{secured.grpc_port}") as channel:
        stub = weaviate_pb2_grpc.WeaviateStub(channel)
        request = search_get_pb2.SearchRequest(collection="Missing")
        codes = []
        for metadata in ([], [("authorization", "Bearer nope")], [("authorization", "Bearer s3cret")]):
            with pytest.raises(grpc.RpcError) as info:
                stub.Search(request, metadata=metadata)
            codes.append((info.value.code(), info.value.details()))
        health = channel.unary_unary(
            "/grpc.health.v1.Health/Check",
            request_serializer=health_weaviate_pb2.WeaviateHealthCheckRequest.SerializeToString,
            response_deserializer=health_weaviate_pb2.WeaviateHealthCheckResponse.FromString,
        )(health_weaviate_pb2.WeaviateHealthCheckRequest())
    assert codes == [
        (
            grpc.StatusCode.UNAUTHENTICATED,
            "extract auth: anonymous access not enabled, please provide an auth scheme such as OIDC",
        ),
        (grpc.StatusCode.UNAUTHENTICATED, "extract auth: unauthorized: invalid api key"),
        (grpc.StatusCode.UNKNOWN, "could not find class Missing in schema"),
    ]
    assert health.status == health_weaviate_pb2.WeaviateHealthCheckResponse.SERVING
