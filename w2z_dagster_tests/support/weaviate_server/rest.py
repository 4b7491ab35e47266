"""The REST side on stdlib `http.server`: the routes weaviate-client v4 calls, answered like Weaviate.

Routes are declared once as templates; the template text ("GET /v1/schema/{className}") is the key
for fault injection and call counting. Every request passes the same gate as gRPC calls.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from . import modules, references, tenants
from .auth import check_bearer
from .errors import ServerError, not_found, not_implemented
from .faults import FaultController, as_http
from .objects import ObjectInput, commit, fill_module_vectors, object_key, prepare
from .schema_json import (
    add_property_module_defaults,
    build_class,
    build_properties,
    uppercase_first,
    vectorizer_modules,
)
from .store import Collection, Store, StoredObject
from .value_encoding import refs_to_json, to_json
from .vectors import from_json, pack_single
from .vectors import to_json as vector_json

VERSION = "1.32.0"
GRPC_MAX_MESSAGE_SIZE = 104858000
_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Request:
    params: dict[str, str]
    query: dict[str, str]
    body: Any


Reply = tuple[int, Any]
"""HTTP status and JSON payload (None: empty body)."""


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    template: str
    handler: Callable[[RestApi, Request], Reply]
    auth: bool = True

    @property
    def key(self) -> str:
        return f"{self.method} {self.template}"

    @property
    def pattern(self) -> re.Pattern[str]:
        return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.template) + "$")


class RestApi:
    """Route handlers over the shared store; one instance per server."""

    def __init__(
        self, store: Store, faults: FaultController, api_key: str | None, host: str, version: str = VERSION
    ) -> None:
        self.store = store
        self.version = version
        self.faults = faults
        self.api_key = api_key
        self.host = host
        self.http_port = 0
        self._routes = [(r, r.pattern) for r in ROUTES]

    def handle(self, method: str, path: str, headers: dict[str, str], raw_body: bytes) -> Reply:
        path, _, query_string = path.partition("?")
        allowed = False
        for route, pattern in self._routes:
            match = pattern.match(path)
            if match is None:
                continue
            if route.method != method:
                allowed = True
                continue
            return self._call(route, match.groupdict(), query_string, headers, raw_body)
        if allowed:
            return 405, {"code": 405, "message": f"method {method} is not allowed on {path}"}
        return 404, {"code": 404, "message": f"path {path} was not found"}

    def _call(
        self,
        route: Route,
        params: dict[str, str],
        query_string: str,
        headers: dict[str, str],
        raw_body: bytes,
    ) -> Reply:
        code = self.faults.on_call(route.key)
        self.faults.run_hooks(route.key)
        latency = self.faults.latency
        if latency:
            time.sleep(latency)
        if code is not None:
            return as_http(code), _error(f"w2z test server: injected HTTP {as_http(code)} for {route.key}")
        try:
            if route.auth:
                check_bearer(headers.get("authorization"), self.api_key)
            query = {k: v[-1] for k, v in parse_qs(query_string).items()}
            try:
                body = json.loads(raw_body) if raw_body.strip() else None
            except ValueError:
                raise ServerError("request body is not valid JSON") from None
            return route.handler(self, Request(params, query, body))
        except ServerError as exc:
            if exc.http_status == 401:
                return 401, {"code": 401, "message": exc.message}
            return exc.http_status, _error(exc.message)
        except Exception as exc:
            _log.exception("%s failed", route.key)
            return 500, _error(f"w2z test server internal error in {route.key}: {exc!r}")


def _error(message: str) -> dict[str, Any]:
    return {"error": [{"message": message}]}


def _meta(api: RestApi, req: Request) -> Reply:
    return 200, {
        "hostname": f"http://{api.host}:{api.http_port}",
        "modules": modules.meta(api.store.modules),
        "version": api.version,
        "grpcMaxMessageSize": GRPC_MAX_MESSAGE_SIZE,
    }


def _nodes(api: RestApi, req: Request) -> Reply:
    with api.store.lock:
        shards = [s for c in api.store.collections.values() for s in c.shards.values()]
        count = sum(len(s) for s in shards)
    node = {
        "name": "node1",
        "status": "HEALTHY",
        "version": api.version,
        "gitHash": "w2z-test",
        "batchStats": {"queueLength": 0, "ratePerSecond": 0},
        "stats": {"objectCount": count, "shardCount": len(shards)},
        "shards": None,
    }
    return 200, {"nodes": [node]}


def _schema(api: RestApi, req: Request) -> Reply:
    with api.store.lock:
        return 200, {"classes": [c.json for c in api.store.collections.values()]}


def _create_class(api: RestApi, req: Request) -> Reply:
    with api.store.lock:
        class_json = build_class(req.body, api.store.collections, api.store.modules)
        api.store.collections[class_json["class"]] = Collection(class_json)
    return 200, class_json


def _get_class(api: RestApi, req: Request) -> Reply:
    coll = api.store.find(req.params["className"])
    return (200, coll.json) if coll is not None else (404, None)


def _delete_class(api: RestApi, req: Request) -> Reply:
    with api.store.lock:
        api.store.collections.pop(uppercase_first(req.params["className"]), None)
    return 200, None


def _update_class(api: RestApi, req: Request) -> Reply:
    raise not_implemented("updating a collection's configuration")


def _add_property(api: RestApi, req: Request) -> Reply:
    with api.store.lock:
        coll = api.store.collection(req.params["className"])
        taken = {p["name"].lower() for p in coll.json["properties"]}
        prop = build_properties([req.body], coll.info.name, taken)[0]
        add_property_module_defaults(prop, vectorizer_modules(coll.json))
        class_json = {**coll.json, "properties": [*coll.json["properties"], prop]}
        updated = Collection(class_json)
        updated.shards, updated.tenants = coll.shards, coll.tenants
        api.store.collections[coll.info.name] = updated
    return 200, prop


def _tenants(api: RestApi, req: Request) -> Reply:
    return 200, tenants.list_tenants(api.store, req.params["className"])


def _add_tenants(api: RestApi, req: Request) -> Reply:
    return 200, tenants.add_tenants(api.store, req.params["className"], req.body)


def _update_tenants(api: RestApi, req: Request) -> Reply:
    return 200, tenants.update_tenants(api.store, req.params["className"], req.body)


def _remove_tenants(api: RestApi, req: Request) -> Reply:
    tenants.remove_tenants(api.store, req.params["className"], req.body or [])
    return 200, None


def _get_tenant(api: RestApi, req: Request) -> Reply:
    tenant = tenants.get_tenant(api.store, req.params["className"], req.params["tenantName"])
    return (200, tenant) if tenant is not None else (404, None)


def _head_tenant(api: RestApi, req: Request) -> Reply:
    status, _ = _get_tenant(api, req)
    return status, None


def _object_input(body: Any, class_name: str, object_id: str, tenant: str) -> ObjectInput:
    if not isinstance(body, dict):
        raise ServerError("object body must be a JSON object")
    vector = body.get("vector")
    vectors = body.get("vectors") or {}
    if not isinstance(vectors, dict):
        raise ServerError("vectors must be an object")
    return ObjectInput(
        collection=class_name,
        tenant=str(body.get("tenant") or tenant),
        uuid=object_id,
        raw=dict(body.get("properties") or {}),
        vector=pack_single(vector) if vector else None,
        vectors={name: from_json(v) for name, v in vectors.items()},
    )


def _object_json(
    coll: Collection, key: bytes, obj: StoredObject, tenant: str, *, vectors: bool
) -> dict[str, Any]:
    info = coll.info
    props = {
        name: to_json(info.props[name], value) for name, value in obj.props.items() if name in info.props
    }
    props.update({name: refs_to_json(refs) for name, refs in obj.refs.items()})
    out: dict[str, Any] = {
        "class": info.name,
        "id": str(uuid.UUID(bytes=key)),
        "properties": props,
        "creationTimeUnix": obj.created,
        "lastUpdateTimeUnix": obj.updated,
    }
    if tenant:
        out["tenant"] = tenant
    if vectors and obj.vector:
        out["vector"] = vector_json(obj.vector, multi=False)
    if vectors and obj.vectors:
        out["vectors"] = {n: vector_json(v, info.named[n].multi) for n, v in obj.vectors.items()}
    return out


def _create_object(api: RestApi, req: Request) -> Reply:
    body = req.body if isinstance(req.body, dict) else {}
    class_name = uppercase_first(str(body.get("class") or ""))
    object_id = str(body.get("id") or uuid.uuid4())
    inp = _object_input(req.body, class_name, object_id, req.query.get("tenant", ""))
    with api.store.lock:
        coll = api.store.collection(class_name)
        prepared = prepare(api.store, inp)
        if prepared.shard.get(prepared.key) is not None:
            raise ServerError(f"id '{object_id}' already exists")
        commit(coll, prepared)
        return 200, _object_json(coll, prepared.key, prepared.obj, inp.tenant, vectors=True)


def _locate(api: RestApi, req: Request) -> tuple[Collection, bytes, StoredObject | None, str]:
    """The addressed object; call with the store lock held.

    The client names the tenant in the query string, except for PUT and PATCH, where it travels
    in the object body.
    """
    coll = api.store.collection(req.params["className"])
    key = object_key(req.params["id"])
    in_body = req.body.get("tenant") if isinstance(req.body, dict) else None
    tenant = str(in_body or req.query.get("tenant", ""))
    return coll, key, api.store.shard(coll, tenant).get(key), tenant


def _get_object(api: RestApi, req: Request) -> Reply:
    with api.store.lock:
        coll, key, obj, tenant = _locate(api, req)
        if obj is None:
            return 404, None
        include = req.query.get("include", "")
        api.store.objects_read += 1
        return 200, _object_json(coll, key, obj, tenant, vectors="vector" in include)


def _head_object(api: RestApi, req: Request) -> Reply:
    with api.store.lock:
        return (204 if _locate(api, req)[2] is not None else 404), None


def _replace_object(api: RestApi, req: Request) -> Reply:
    """PUT keeps the creation time and replaces everything else (`usecases/objects/update.go`)."""
    with api.store.lock:
        coll, key, existing, tenant = _locate(api, req)
        if existing is None:
            raise not_found(f"object {req.params['id']} not found")
        inp = _object_input(req.body, coll.info.name, req.params["id"], tenant)
        prepared = prepare(api.store, inp)
        commit(coll, prepared, created=existing.created)
        return 200, _object_json(coll, key, prepared.obj, inp.tenant, vectors=True)


def _merge_object(api: RestApi, req: Request) -> Reply:
    """PATCH merges properties, appends references and replaces only the vectors it names."""
    with api.store.lock:
        coll, _key, existing, tenant = _locate(api, req)
        if existing is None:
            raise not_found(f"object {req.params['id']} not found")
        inp = _object_input(req.body, coll.info.name, req.params["id"], tenant)
        prepared = prepare(api.store, inp, vectorize_missing=False)
        info, obj = coll.info, prepared.obj
        obj.props = {**existing.props, **obj.props}
        obj.refs = {**existing.refs, **{n: [*existing.refs.get(n, []), *r] for n, r in obj.refs.items()}}
        legacy_kept = info.legacy is not None and info.legacy.module is None
        obj.vector = obj.vector or (existing.vector if legacy_kept else None)
        kept = {n: v for n, v in existing.vectors.items() if info.named[n].module is None}
        obj.vectors = {**kept, **obj.vectors}
        fill_module_vectors(info, obj)
        commit(coll, prepared, created=existing.created)
    return 204, None


def _delete_object(api: RestApi, req: Request) -> Reply:
    with api.store.lock:
        coll, key, obj, tenant = _locate(api, req)
        if obj is None:
            return 404, None
        api.store.shard(coll, tenant, write=True).delete(key)
    return 204, None


def _ref_source(req: Request) -> references.RefSource:
    p = req.params
    return references.RefSource(p["className"], p["id"], p["propertyName"], req.query.get("tenant", ""))


def _add_reference(api: RestApi, req: Request) -> Reply:
    beacon = req.body.get("beacon") if isinstance(req.body, dict) else None
    if not isinstance(beacon, str):
        raise ServerError("reference must be an object with a beacon")
    with api.store.lock:
        references.add(api.store, _ref_source(req), beacon, check_target=True)
    return 200, None


def _replace_references(api: RestApi, req: Request) -> Reply:
    with api.store.lock:
        references.replace(api.store, _ref_source(req), req.body)
    return 200, None


def _delete_reference(api: RestApi, req: Request) -> Reply:
    beacon = req.body.get("beacon") if isinstance(req.body, dict) else None
    if not isinstance(beacon, str):
        raise ServerError("reference must be an object with a beacon")
    with api.store.lock:
        references.delete(api.store, _ref_source(req), beacon)
    return 204, None


def _batch_references(api: RestApi, req: Request) -> Reply:
    return 200, references.batch_add(api.store, req.body)


ROUTES = (
    Route("GET", "/v1/meta", _meta),
    Route("GET", "/v1/.well-known/openid-configuration", lambda api, req: (404, None), auth=False),
    Route("GET", "/v1/.well-known/ready", lambda api, req: (200, None), auth=False),
    Route("GET", "/v1/.well-known/live", lambda api, req: (200, None), auth=False),
    Route("GET", "/v1/nodes", _nodes),
    Route("GET", "/v1/schema", _schema),
    Route("POST", "/v1/schema", _create_class),
    Route("GET", "/v1/schema/{className}", _get_class),
    Route("PUT", "/v1/schema/{className}", _update_class),
    Route("DELETE", "/v1/schema/{className}", _delete_class),
    Route("POST", "/v1/schema/{className}/properties", _add_property),
    Route("GET", "/v1/schema/{className}/tenants", _tenants),
    Route("POST", "/v1/schema/{className}/tenants", _add_tenants),
    Route("PUT", "/v1/schema/{className}/tenants", _update_tenants),
    Route("DELETE", "/v1/schema/{className}/tenants", _remove_tenants),
    Route("GET", "/v1/schema/{className}/tenants/{tenantName}", _get_tenant),
    Route("HEAD", "/v1/schema/{className}/tenants/{tenantName}", _head_tenant),
    Route("POST", "/v1/objects", _create_object),
    Route("GET", "/v1/objects/{className}/{id}", _get_object),
    Route("HEAD", "/v1/objects/{className}/{id}", _head_object),
    Route("PUT", "/v1/objects/{className}/{id}", _replace_object),
    Route("PATCH", "/v1/objects/{className}/{id}", _merge_object),
    Route("DELETE", "/v1/objects/{className}/{id}", _delete_object),
    Route("POST", "/v1/objects/{className}/{id}/references/{propertyName}", _add_reference),
    Route("PUT", "/v1/objects/{className}/{id}/references/{propertyName}", _replace_references),
    Route("DELETE", "/v1/objects/{className}/{id}/references/{propertyName}", _delete_reference),
    Route("POST", "/v1/batch/references", _batch_references),
)
ROUTE_KEYS = tuple(r.key for r in ROUTES)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: HttpServer

    def _dispatch(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, payload = self.server.api.handle(self.command, self.path, headers, raw)
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        if data:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data and self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _dispatch

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request logging; tests would drown in it."""


class HttpServer(ThreadingHTTPServer):
    """Threaded HTTP server that can be stopped even while clients hold keep-alive connections."""

    daemon_threads = False
    block_on_close = True

    def __init__(self, address: tuple[str, int], api: RestApi) -> None:
        self.api = api
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Unblock handler threads waiting on idle keep-alive sockets so `server_close` can join them."""
        with self._open_lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
