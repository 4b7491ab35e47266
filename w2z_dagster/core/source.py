"""The Weaviate side: the only module that reads through weaviate-client.

Everything is read through the real client (REST for schema, gRPC for objects), so what works against
the project's test server works unchanged against a real cluster. The one client internal it leans on
(the vector decoder) is fenced in `core/fast_paths.py`.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid as uuid_lib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import weaviate
from weaviate.classes.init import AdditionalConfig, Auth, Timeout
from weaviate.classes.query import Filter, HybridFusion, MetadataQuery, QueryReference
from weaviate.collections.classes.config import ConsistencyLevel
from weaviate.config import GrpcConfig

from w2z_dagster.core import fast_paths
from w2z_dagster.core.class_json import LEGACY_VECTOR, parse_class
from w2z_dagster.core.retry import RetryPolicy
from w2z_dagster.core.schema import (
    CollectionSchema,
    HybridQuery,
    PropertySpec,
    SourceObject,
    TenantSpec,
    WeaviateType,
    to_millis,
)

DIMENSION_SAMPLE = 100
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
QUERY_TIMEOUT_SECONDS = 120


class SourceError(RuntimeError):
    """A source problem the user must fix; the message says what and how."""


def _endpoint(url: str) -> tuple[str, int, bool]:
    parts = urlsplit(url if "://" in url else f"http://{url}")
    secure = parts.scheme == "https"
    return parts.hostname or "localhost", parts.port or (443 if secure else 80), secure


def connect(rest_endpoint: str, grpc_endpoint: str, api_key: str | None) -> weaviate.WeaviateClient:
    """Connect with REST and gRPC ports taken from two URLs, the way real deployments are addressed."""
    http_host, http_port, http_secure = _endpoint(rest_endpoint)
    grpc_host, grpc_port, grpc_secure = _endpoint(grpc_endpoint)
    try:
        return weaviate.connect_to_custom(
            http_host=http_host,
            http_port=http_port,
            http_secure=http_secure,
            grpc_host=grpc_host,
            grpc_port=grpc_port,
            grpc_secure=grpc_secure,
            auth_credentials=Auth.api_key(api_key) if api_key else None,
            additional_config=AdditionalConfig(
                timeout=Timeout(init=10, query=QUERY_TIMEOUT_SECONDS, insert=QUERY_TIMEOUT_SECONDS),
                grpc_config=GrpcConfig(channel_options=[("grpc.enable_http_proxy", 0)]),
            ),
            skip_init_checks=False,
        )
    except weaviate.exceptions.AuthenticationFailedError as exc:
        raise SourceError(
            f"Weaviate at {rest_endpoint} refused the credentials: check WEAVIATE_API_KEY"
        ) from exc
    except weaviate.exceptions.UnexpectedStatusCodeError as exc:
        if getattr(exc, "status_code", None) in (401, 403):
            raise SourceError(
                f"Weaviate at {rest_endpoint} refused the credentials (HTTP {exc.status_code}): "
                "check WEAVIATE_API_KEY"
            ) from exc
        raise SourceError(
            f"Weaviate at {rest_endpoint} answered HTTP {exc.status_code}: check WEAVIATE_ENDPOINT"
        ) from exc
    except weaviate.exceptions.WeaviateBaseError as exc:
        raise SourceError(
            f"cannot reach Weaviate at {rest_endpoint} (gRPC {grpc_endpoint}): check WEAVIATE_ENDPOINT and "
            f"WEAVIATE_GRPC_ENDPOINT ({type(exc).__name__})"
        ) from exc


def _plain(value: Any) -> Any:
    """weaviate-client returns its own classes for some types; the core works on builtins only."""
    if value is None or isinstance(value, (str, bool, int, float, dt.datetime)):
        return value
    if isinstance(value, uuid_lib.UUID):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "latitude") and hasattr(value, "longitude"):
        return {"latitude": value.latitude, "longitude": value.longitude}
    if hasattr(value, "international_formatted"):
        return {
            "input": value.number,
            "default_country": value.default_country,
            "country_code": value.country_code,
            "national": value.national,
            "national_formatted": value.national_formatted,
            "international_formatted": value.international_formatted,
            "valid": value.valid,
        }
    return value


def _class_json(config: Any) -> dict[str, Any]:
    """The class JSON back from weaviate-client's parsed config.

    Its `to_dict` drops the legacy vector of a class that also has named vectors; the parsed fields
    still hold it, so it is put back.
    """
    raw = config.to_dict()
    if config.vector_index_config is not None and "vectorIndexConfig" not in raw:
        raw["vectorIndexConfig"] = config.vector_index_config.to_dict()
        raw["vectorIndexType"] = getattr(config.vector_index_type, "value", config.vector_index_type)
    return raw


class WeaviateSource:
    """Read side of one migration: schema, tenants, counts, cursor pages, lookups by id, and search.

    With `fast_paths.vector_arrays`, cursor pages carry vectors as float32 arrays over the reply's bytes
    (`core/fast_paths.py`); every other read, and every read without it, gets the client's lists.
    """

    def __init__(
        self,
        client: weaviate.WeaviateClient,
        retry: RetryPolicy,
        include_blobs: bool = False,
        fast: fast_paths.FastPaths = fast_paths.OFF,
    ) -> None:
        self.client = client
        self.retry = retry
        self.include_blobs = include_blobs
        self.fast_paths = fast

    def list_collections(self) -> list[str]:
        return sorted(self.retry.call(lambda: list(self.client.collections.list_all(simple=True))))

    def _collection(self, name: str, tenant: str | None = None) -> Any:
        handle = self.client.collections.use(name).with_consistency_level(ConsistencyLevel.ONE)
        return handle.with_tenant(tenant) if tenant else handle

    def tenants(self, name: str) -> tuple[TenantSpec, ...]:
        got = self.retry.call(lambda: self._collection(name).tenants.get())
        return tuple(
            TenantSpec(name=t.name, status=str(getattr(t.activity_status, "value", t.activity_status)))
            for t in sorted(got.values(), key=lambda t: t.name)
        )

    def count(self, name: str, tenant: str | None = None) -> int:
        result = self.retry.call(lambda: self._collection(name, tenant).aggregate.over_all(total_count=True))
        return int(result.total_count or 0)

    def read_schema(self, name: str) -> CollectionSchema:
        """Schema from the schema API, never inferred from one object; dimensions from the data itself."""
        if not self.retry.call(lambda: self.client.collections.exists(name)):
            known = ", ".join(self.list_collections()) or "none"
            raise SourceError(f"collection '{name}' does not exist in Weaviate (collections: {known})")
        config = self.retry.call(lambda: self.client.collections.export_config(name))
        schema = parse_class(_class_json(config))
        tenants = self.tenants(name) if schema.multi_tenant else ()
        readable = [t.name for t in tenants if t.active] if schema.multi_tenant else [None]
        counts = {t or "": self.count(name, t) for t in readable}
        dims = self._observe_dimensions(schema, readable)
        vectors = tuple(v.model_copy(update={"dimension": dims.get(v.name)}) for v in schema.vectors)
        return schema.model_copy(
            update={
                "tenants": tenants,
                "vectors": vectors,
                "object_count": sum(counts.values()),
                "counts_by_tenant": counts if schema.multi_tenant else {},
            }
        )

    def _observe_dimensions(self, schema: CollectionSchema, tenants: Sequence[str | None]) -> dict[str, int]:
        dims: dict[str, int] = {}
        for tenant in tenants:
            for obj in self._objects(self._collection(schema.name, tenant), schema, limit=DIMENSION_SAMPLE):
                for vname, vec in (obj.vector or {}).items():
                    if vec and vname not in dims:
                        first = vec[0]
                        dims[vname] = len(first) if isinstance(first, list) else len(vec)
            if len(dims) == len(schema.vectors):
                break
        return dims

    def _property_names(self, schema: CollectionSchema) -> list[str]:
        return [
            p.name
            for p in schema.properties
            if p.data_type is not WeaviateType.REFERENCE
            and (self.include_blobs or p.data_type is not WeaviateType.BLOB)
        ]

    def _references(self, schema: CollectionSchema) -> list[QueryReference] | None:
        refs = []
        for prop in schema.properties:
            if prop.data_type is not WeaviateType.REFERENCE:
                continue
            if len(prop.reference_targets) == 1:
                refs.append(QueryReference(link_on=prop.name, return_properties=[]))
            else:
                refs.extend(
                    QueryReference.MultiTarget(
                        link_on=prop.name, target_collection=target, return_properties=[]
                    )
                    for target in prop.reference_targets
                )
        return refs or None

    def _to_source(self, obj: Any, tenant: str | None, refs: list[PropertySpec]) -> SourceObject:
        references = {}
        for prop in refs:
            found = (obj.references or {}).get(prop.name)
            references[prop.name] = [str(o.uuid) for o in found.objects] if found else []
        vectors = dict(obj.vector or {})
        return SourceObject(
            uuid=str(obj.uuid),
            tenant=tenant,
            properties={k: _plain(v) for k, v in obj.properties.items()},
            references=references,
            vectors=vectors,
            updated=obj.metadata.last_update_time,
        )

    def _objects(self, handle: Any, schema: CollectionSchema, **query: Any) -> list[Any]:
        """One query with everything the mapping needs.

        weaviate-client drops named vectors when an object also has a legacy vector, so a collection with
        both asks for its named vectors by name and fetches the legacy ones in a second, id-filtered query.
        """
        mixed = any(v.legacy for v in schema.vectors) and len(schema.vectors) > 1
        vectors: bool | list[str] = bool(schema.vectors)
        if mixed:
            vectors = [v.name for v in schema.vectors if not v.legacy]
        result = self.retry.call(
            lambda: handle.query.fetch_objects(
                include_vector=vectors,
                return_properties=self._property_names(schema),
                return_references=self._references(schema),
                return_metadata=MetadataQuery(last_update_time=True),
                **query,
            )
        )
        objects = list(result.objects)
        if mixed and objects:
            legacy = self.retry.call(
                lambda: handle.query.fetch_objects(
                    limit=len(objects),
                    filters=_among([str(o.uuid) for o in objects]),
                    include_vector=True,
                    return_properties=[],
                )
            )
            by_id = {o.uuid: o.vector.get(LEGACY_VECTOR) for o in legacy.objects}
            for obj in objects:
                if by_id.get(obj.uuid) is not None:
                    obj.vector[LEGACY_VECTOR] = by_id[obj.uuid]
        return objects

    def pages(
        self,
        schema: CollectionSchema,
        tenant: str | None,
        after: str | None,
        page_size: int,
        before: str | None = None,
    ) -> Iterator[list[SourceObject]]:
        """Cursor pages in UUID order, resumable from any `after`; ends on the first empty page.

        With `before` (a slice's upper boundary, `core/slices.py`) it ends at the first object at or
        above it instead: the cursor itself has no upper bound, so the page that crosses it is cut.
        """
        handle = self._collection(schema.name, tenant)
        ref_props = [p for p in schema.properties if p.data_type is WeaviateType.REFERENCE]
        while True:
            with fast_paths.vector_arrays(self.fast_paths.vector_arrays):
                objects = self._objects(handle, schema, limit=page_size, after=after)
            crossed = before is not None and bool(objects) and str(objects[-1].uuid) >= before
            if crossed:
                objects = [o for o in objects if str(o.uuid) < before]
            if objects:
                yield [self._to_source(o, tenant, ref_props) for o in objects]
            if crossed or not objects:
                return
            after = str(objects[-1].uuid)

    def first_after(self, name: str, tenant: str | None, after: str | None) -> str | None:
        """The first uuid above `after`, which need not exist (the cursor seeks): the slice planner's probe."""
        result = self.retry.call(
            lambda: self._collection(name, tenant).query.fetch_objects(
                limit=1, after=after, return_properties=[]
            )
        )
        return str(result.objects[0].uuid) if result.objects else None

    def ids(self, name: str, tenant: str | None, page_size: int = 2000) -> Iterator[tuple[str, int]]:
        """(uuid, last-update ms) in UUID order, without properties or vectors: cheap enough to merge."""
        handle = self._collection(name, tenant)
        after: str | None = None
        while True:
            result = self.retry.call(
                lambda a=after: handle.query.fetch_objects(
                    limit=page_size,
                    after=a,
                    return_properties=[],
                    return_metadata=MetadataQuery(last_update_time=True),
                )
            )
            if not result.objects:
                return
            for obj in result.objects:
                yield str(obj.uuid), to_millis(obj.metadata.last_update_time)
            after = str(result.objects[-1].uuid)

    def fetch(self, schema: CollectionSchema, tenant: str | None, uuids: Sequence[str]) -> list[SourceObject]:
        if not uuids:
            return []
        handle = self._collection(schema.name, tenant)
        ref_props = [p for p in schema.properties if p.data_type is WeaviateType.REFERENCE]
        objects = self._objects(handle, schema, limit=len(uuids), filters=_among(uuids))
        return sorted((self._to_source(o, tenant, ref_props) for o in objects), key=lambda o: o.uuid)

    def count_updated(self, name: str, tenant: str | None, since_ms: int, until_ms: int) -> int:
        """Objects last updated in [since_ms, until_ms): a filtered aggregate, no object on the wire."""
        result = self.retry.call(
            lambda: self._collection(name, tenant).aggregate.over_all(
                total_count=True, filters=_updated_between(since_ms, until_ms)
            )
        )
        return int(result.total_count or 0)

    def updated(
        self,
        schema: CollectionSchema,
        tenant: str | None,
        since_ms: int,
        until_ms: int,
        limit: int,
        offset: int = 0,
    ) -> list[SourceObject]:
        """Objects last updated in [since_ms, until_ms), whole, in Weaviate's doc-id order.

        A cursor refuses filters, so a filtered list pages only by offset (offset + limit at most
        QUERY_MAXIMUM_RESULTS); `core/watermark.py` keeps each window small enough for one page.
        """
        handle = self._collection(schema.name, tenant)
        ref_props = [p for p in schema.properties if p.data_type is WeaviateType.REFERENCE]
        objects = self._objects(
            handle, schema, limit=limit, offset=offset or None, filters=_updated_between(since_ms, until_ms)
        )
        return [self._to_source(o, tenant, ref_props) for o in objects]

    def near_vector(
        self,
        name: str,
        tenant: str | None,
        vector: Sequence[float],
        target: str,
        k: int,
        where: Mapping[str, Any] | None = None,
        among: Sequence[str] | None = None,
    ) -> list[tuple[str, float]]:
        """The `k` nearest objects (passing the `where` filter, or among the given UUIDs) with Weaviate's
        distance to each: `among` is how parity asks where Weaviate would have put another engine's hit."""
        target_vector = None if target == LEGACY_VECTOR else target
        filters = _among(among) if among is not None else None if where is None else filter_from_where(where)
        result = self.retry.call(
            lambda: self._collection(name, tenant).query.near_vector(
                near_vector=list(vector),
                limit=k,
                target_vector=target_vector,
                filters=filters,
                return_properties=[],
                return_metadata=MetadataQuery(distance=True),
            )
        )
        return [(str(o.uuid), float(o.metadata.distance or 0.0)) for o in result.objects]

    def bm25(
        self,
        name: str,
        tenant: str | None,
        text: str,
        properties: Sequence[str],
        k: int,
        among: Sequence[str] | None = None,
    ) -> list[tuple[str, float]]:
        """The `k` best BM25 matches of `text` in `properties` with their scores, best first; `among`
        restricts them to those UUIDs, which Weaviate scores against the whole collection as unfiltered."""
        result = self.retry.call(
            lambda: self._collection(name, tenant).query.bm25(
                query=text,
                query_properties=list(properties),
                limit=k,
                filters=None if among is None else _among(among),
                return_properties=[],
                return_metadata=MetadataQuery(score=True),
            )
        )
        return [(str(o.uuid), float(o.metadata.score or 0.0)) for o in result.objects]

    def hybrid(self, name: str, tenant: str | None, query: HybridQuery, k: int) -> list[tuple[str, float]]:
        """The `k` best hybrid matches (keyword in `query.properties`, vector in `query.target`), best first."""
        fusion = HybridFusion.RANKED if query.fusion == "ranked" else HybridFusion.RELATIVE_SCORE
        result = self.retry.call(
            lambda: self._collection(name, tenant).query.hybrid(
                query=query.text,
                vector=list(query.vector),
                target_vector=None if query.target == LEGACY_VECTOR else query.target,
                query_properties=list(query.properties),
                alpha=query.alpha,
                fusion_type=fusion,
                limit=k,
                return_properties=[],
                return_metadata=MetadataQuery(score=True),
            )
        )
        return [(str(o.uuid), float(o.metadata.score or 0.0)) for o in result.objects]

    def class_json(self, name: str) -> dict[str, Any]:
        """The class JSON as Weaviate reports it: tokenization and index flags the schema model omits."""
        return _class_json(self.retry.call(lambda: self.client.collections.export_config(name)))

    def matching(self, name: str, tenant: str | None, where: Mapping[str, Any], limit: int) -> list[str]:
        """UUIDs of at most `limit` objects passing the filter (a cursor cannot be combined with one)."""
        filters = filter_from_where(where)
        result = self.retry.call(
            lambda: self._collection(name, tenant).query.fetch_objects(
                filters=filters, limit=limit, return_properties=[]
            )
        )
        return [str(o.uuid) for o in result.objects]

    def count_matching(self, name: str, tenant: str | None, where: Mapping[str, Any]) -> int:
        filters = filter_from_where(where)
        result = self.retry.call(
            lambda: self._collection(name, tenant).aggregate.over_all(filters=filters, total_count=True)
        )
        return int(result.total_count or 0)


_FILTER_METHODS = {
    "Equal": "equal",
    "NotEqual": "not_equal",
    "GreaterThan": "greater_than",
    "GreaterThanEqual": "greater_or_equal",
    "LessThan": "less_than",
    "LessThanEqual": "less_or_equal",
    "Like": "like",
    "IsNull": "is_none",
    "ContainsAny": "contains_any",
    "ContainsAll": "contains_all",
    "ContainsNone": "contains_none",
}


def filter_from_where(where: Mapping[str, Any]) -> Any:
    """A REST `where` filter on ids and plain properties as the v4 client's `Filter`.

    The core draws filters as `where` JSON (what `filter_translation` reads too); this is the way back for
    the queries verification sends. Dates (`valueDate`) go as datetimes, as the client sends them.
    """
    operator = where["operator"]
    if operator in ("And", "Or", "Not"):
        parts = [filter_from_where(w) for w in where["operands"]]
        if operator == "Not":
            return Filter.not_(parts[0] if len(parts) == 1 else Filter.any_of(parts))
        return Filter.all_of(parts) if operator == "And" else Filter.any_of(parts)
    (path,) = where["path"]
    key = next(k for k in where if k.startswith("value"))
    value = where[key]
    if key.startswith("valueDate"):
        value = (
            [dt.datetime.fromisoformat(v) for v in value]
            if isinstance(value, list)
            else (dt.datetime.fromisoformat(value))
        )
    target = Filter.by_id() if path in ("id", "_id") else Filter.by_property(path)
    return getattr(target, _FILTER_METHODS[operator])(value)


def _updated_between(since_ms: int, until_ms: int) -> Any:
    """Exact milliseconds (a float of seconds would round some ms down): Weaviate keeps ms."""
    start = _EPOCH + dt.timedelta(milliseconds=since_ms)
    end = _EPOCH + dt.timedelta(milliseconds=until_ms)
    return Filter.by_update_time().greater_or_equal(start) & Filter.by_update_time().less_than(end)


@contextmanager
def open_source(
    rest_endpoint: str,
    grpc_endpoint: str,
    api_key: str | None,
    retry: RetryPolicy,
    include_blobs: bool = False,
    use_fast_paths: bool = True,
) -> Iterator[WeaviateSource]:
    """`use_fast_paths` is W2Z_FAST_PATHS: off, only weaviate-client's public decoding is used."""
    client = connect(rest_endpoint, grpc_endpoint, api_key)
    try:
        yield WeaviateSource(client, retry, include_blobs, fast_paths.chosen(use_fast_paths))
    finally:
        client.close()


def _among(uuids: Sequence[str]) -> Any:
    return Filter.by_id().contains_any(list(uuids))
