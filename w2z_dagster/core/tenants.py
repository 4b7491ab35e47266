"""Which tenants of a collection can be read, shared by every step that walks a collection tenant by tenant."""

from __future__ import annotations

from w2z_dagster.core.schema import CollectionSchema


def tenants_to_read(schema: CollectionSchema) -> list[str | None]:
    """Only active tenants can be read; inactive ones are reported by the caller, never dropped silently.

    A collection without multi-tenancy is one stream under the tenant `None`.
    """
    if not schema.multi_tenant:
        return [None]
    return [t.name for t in schema.tenants if t.active]
