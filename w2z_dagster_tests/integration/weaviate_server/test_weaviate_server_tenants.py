"""Multi-tenancy through the client: tenant management, TenantsGet, counts and the real read errors."""

from __future__ import annotations

import grpc
import pytest
import weaviate
from weaviate.classes.config import Configure, DataType, Property
from weaviate.classes.tenants import Tenant, TenantActivityStatus
from weaviate.collections import Collection
from weaviate.exceptions import UnexpectedStatusCodeError, WeaviateQueryError

from w2z_dagster_tests.support.weaviate_server import WeaviateTestServer

ACTIVE, INACTIVE = TenantActivityStatus.ACTIVE, TenantActivityStatus.INACTIVE


@pytest.fixture
def mt(weaviate_client: weaviate.WeaviateClient) -> Collection:
    collection = weaviate_client.collections.create(
        "Mt",
        multi_tenancy_config=Configure.multi_tenancy(enabled=True),
        properties=[Property(name="n", data_type=DataType.INT)],
    )
    collection.tenants.create([Tenant(name="a"), Tenant(name="b"), Tenant(name="c")])
    collection.with_tenant("a").data.insert_many([{"n": i} for i in range(3)])
    collection.with_tenant("b").data.insert_many([{"n": 9}])
    collection.tenants.update([Tenant(name="c", activity_status=INACTIVE)])
    return collection


def test_tenants_get_and_management(weaviate_server: WeaviateTestServer, mt: Collection) -> None:
    assert {n: t.activity_status for n, t in mt.tenants.get().items()} == {
        "a": ACTIVE,
        "b": ACTIVE,
        "c": INACTIVE,
    }
    assert list(mt.tenants.get_by_names(["b", "zz"])) == ["b"]
    assert mt.tenants.get_by_name("c").activity_status == INACTIVE
    assert mt.tenants.get_by_name("zz") is None
    assert (mt.tenants.exists("a"), mt.tenants.exists("zz")) == (True, False)
    assert weaviate_server.faults.calls("TenantsGet") == 2
    mt.tenants.create([Tenant(name="a", activity_status=INACTIVE)])
    assert mt.tenants.get_by_name("a").activity_status == ACTIVE
    mt.tenants.remove(["b"])
    mt.tenants.create([Tenant(name="b")])
    assert len(mt.with_tenant("b")) == 0
    with pytest.raises(UnexpectedStatusCodeError, match="offload-s3 module is not enabled"):
        mt.tenants.update([Tenant(name="a", activity_status=TenantActivityStatus.OFFLOADED)])


def test_counts_and_reads_are_per_tenant(mt: Collection) -> None:
    assert (len(mt.with_tenant("a")), len(mt.with_tenant("b"))) == (3, 1)
    assert sorted(o.properties["n"] for o in mt.with_tenant("a").iterator()) == [0, 1, 2]
    mt.tenants.update([Tenant(name="c", activity_status=ACTIVE)])
    assert len(mt.with_tenant("c")) == 0


def test_multi_tenancy_errors_are_unknown_not_unavailable(
    weaviate_server: WeaviateTestServer, mt: Collection
) -> None:
    cases = {
        mt: "class Mt has multi-tenancy enabled, but request was without tenant",
        mt.with_tenant("zz"): 'tenant not found: "zz"',
        mt.with_tenant("c"): "tenant not active: 'c'",
    }
    for handle, message in cases.items():
        before = weaviate_server.faults.calls("Search")
        with pytest.raises(WeaviateQueryError) as info:
            handle.query.fetch_objects()
        assert f"explorer: list class: search: object search at index mt: {message}" in str(info.value)
        assert info.value.__context__.code() == grpc.StatusCode.UNKNOWN
        assert weaviate_server.faults.calls("Search") - before == 1
    with pytest.raises(Exception, match="tenant not active: 'c'"):
        len(mt.with_tenant("c"))


def test_single_tenant_collection_rejects_a_tenant(weaviate_client: weaviate.WeaviateClient) -> None:
    plain = weaviate_client.collections.create("Plain")
    with pytest.raises(
        WeaviateQueryError, match="class Plain has multi-tenancy disabled, but request was with tenant"
    ):
        plain.with_tenant("a").query.fetch_objects()


def test_auto_tenant_creation_and_activation(weaviate_client: weaviate.WeaviateClient) -> None:
    auto = weaviate_client.collections.create(
        "Auto",
        multi_tenancy_config=Configure.multi_tenancy(
            enabled=True, auto_tenant_creation=True, auto_tenant_activation=True
        ),
        properties=[Property(name="n", data_type=DataType.INT)],
    )
    auto.with_tenant("fresh").data.insert_many([{"n": 1}])
    auto.tenants.update([Tenant(name="fresh", activity_status=INACTIVE)])
    assert len(auto.with_tenant("fresh")) == 1
    assert auto.tenants.get_by_name("fresh").activity_status == ACTIVE


def test_rest_object_routes_address_the_tenant(mt: Collection) -> None:
    tenant = mt.with_tenant("b")
    key = tenant.data.insert({"n": 1})
    assert tenant.data.exists(key)
    assert not mt.with_tenant("a").data.exists(key)
    tenant.data.update(key, properties={"n": 2})
    tenant.data.replace(key, properties={"n": 3})
    fetched = tenant.query.fetch_object_by_id(key)
    assert fetched is not None
    assert fetched.properties == {"n": 3}
    assert tenant.data.delete_by_id(key)
    assert len(tenant) == 1
