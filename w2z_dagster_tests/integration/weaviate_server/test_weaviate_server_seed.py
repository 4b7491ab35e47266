"""The demo data set, read through the real client, and the CLI run as a subprocess."""

from __future__ import annotations

import signal
import subprocess
import sys
import uuid

import pytest
import weaviate
from weaviate.classes.init import AdditionalConfig, Auth, GrpcConfig
from weaviate.classes.query import MetadataQuery, QueryReference
from weaviate.classes.tenants import TenantActivityStatus
from weaviate.exceptions import WeaviateQueryError

from w2z_dagster_tests.support.weaviate_server import WeaviateTestServer
from w2z_dagster_tests.support.weaviate_server.seed import (
    DEMO_COUNTS,
    INACTIVE_TENANT,
    TENANT_OBJECTS,
    demo_uuid,
    seed_demo,
)
from w2z_dagster_tests.support.weaviate_server.store import Store


def _snapshot(store: Store) -> list[tuple]:
    return [
        (name, tenant, key, obj.props, dict(obj.refs), obj.vector, dict(obj.vectors))
        for name, coll in sorted(store.collections.items())
        for tenant, shard in sorted(coll.shards.items())
        for key, obj in shard.in_order()
    ]


def test_demo_seed_through_the_client(
    weaviate_server: WeaviateTestServer, weaviate_client: weaviate.WeaviateClient
) -> None:
    weaviate_server.seed_demo()
    collections = weaviate_client.collections
    assert sorted(collections.list_all()) == sorted(DEMO_COUNTS)
    for name, count in DEMO_COUNTS.items():
        if name != "DemoTenants":
            assert len(collections.get(name)) == count
    tenants = collections.get("DemoTenants")
    statuses = {n: t.activity_status for n, t in tenants.tenants.get().items()}
    assert statuses == {
        "tenant_a": TenantActivityStatus.ACTIVE,
        "tenant_b": TenantActivityStatus.ACTIVE,
        "tenant_c": TenantActivityStatus.INACTIVE,
    }
    for tenant, count in TENANT_OBJECTS.items():
        if tenant != INACTIVE_TENANT:
            assert len(tenants.with_tenant(tenant)) == count
    with pytest.raises(WeaviateQueryError, match="tenant not active"):
        tenants.with_tenant(INACTIVE_TENANT).query.fetch_objects()

    articles = collections.get("DemoArticle")
    refs = [
        QueryReference(link_on="author", return_properties=["name"]),
        QueryReference.MultiTarget(link_on="related", target_collection="DemoArticle"),
    ]
    dangling = articles.query.fetch_object_by_id(demo_uuid("DemoArticle", 1), return_references=refs)
    linked = articles.query.fetch_object_by_id(
        demo_uuid("DemoArticle", 101), include_vector=True, return_references=refs
    )
    assert dangling is not None and linked is not None
    assert dangling.references["author"].objects == []
    assert [o.properties for o in linked.references["author"].objects] == [{"name": "Author 101"}]
    assert [o.uuid for o in linked.references["related"].objects] == [uuid.UUID(demo_uuid("DemoArticle", 1))]
    assert sorted(linked.vector) == ["body_vec", "colbert", "title_vec"]
    assert (
        len(linked.vector["title_vec"]),
        len(linked.vector["colbert"]),
        len(linked.vector["colbert"][0]),
    ) == (32, 4, 8)
    sparse = articles.query.fetch_object_by_id(demo_uuid("DemoArticle", 7))
    assert sparse is not None
    assert (sparse.properties["price"], sparse.properties["phone"], sparse.properties["meta"]) == (
        None,
        None,
        None,
    )

    legacy = collections.get("DemoLegacy").query.fetch_objects(limit=1, include_vector=True).objects[0]
    assert len(legacy.vector["default"]) == 24
    indexes = collections.get("DemoIndexes").config.get().vector_config
    assert {n: v.vector_index_config.distance_metric.value for n, v in indexes.items()} == {
        "hnsw_dot": "dot",
        "dynamic_manhattan": "manhattan",
        "hfresh_cosine": "cosine",
        "flat_hamming": "hamming",
    }
    near = collections.get("DemoIndexes").query.near_vector(
        [0.0] * 12, target_vector="hnsw_dot", limit=3, return_metadata=MetadataQuery(distance=True)
    )
    assert len(near.objects) == 3


def test_demo_seed_is_deterministic() -> None:
    first, second = Store(), Store()
    seed_demo(first)
    seed_demo(second)
    snapshot = _snapshot(first)
    assert len(snapshot) == sum(DEMO_COUNTS.values())
    assert snapshot == _snapshot(second)


def test_cli_serves_the_demo_until_sigterm() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "w2z_dagster_tests.support.weaviate_server",
            "--http-port",
            "0",
            "--grpc-port",
            "0",
            "--api-key",
            "cli-key",
            "--seed",
            "demo",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline().split()
        assert line[0] == "ready"
        http_port, grpc_port = (int(part.split("=")[1]) for part in line[1:])
        client = weaviate.connect_to_local(
            host="127.0.0.1",
            port=http_port,
            grpc_port=grpc_port,
            auth_credentials=Auth.api_key("cli-key"),
            additional_config=AdditionalConfig(
                grpc_config=GrpcConfig(channel_options=[("grpc.enable_http_proxy", 0)])
            ),
            skip_init_checks=True,
        )
        try:
            assert len(client.collections.get("DemoArticle")) == DEMO_COUNTS["DemoArticle"]
            assert (
                sum(1 for _ in client.collections.get("DemoAuthor").iterator(include_vector=True))
                == DEMO_COUNTS["DemoAuthor"]
            )
        finally:
            client.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
