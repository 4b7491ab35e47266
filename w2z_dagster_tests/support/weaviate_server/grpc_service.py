"""The gRPC side: `weaviate.v1.Weaviate` and `grpc.health.v1.Health`, registered with the client's stubs.

Every call passes through one gate that counts it, applies injected latency and faults, then checks
the API key (the health check carries no credentials, as with the real server).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import grpc
from weaviate.proto.v1 import (
    aggregate_pb2,
    batch_delete_pb2,
    batch_pb2,
    health_weaviate_pb2,
    search_get_pb2,
    tenants_pb2,
)

from . import objects, references
from .aggregate import aggregate
from .auth import check_bearer
from .errors import ServerError, not_implemented
from .faults import FaultController, as_grpc
from .filters import compile_filter
from .search import search
from .store import Store
from .tenants import tenants_get
from .values import beacon

WEAVIATE_SERVICE = "weaviate.v1.Weaviate"
HEALTH_SERVICE = "grpc.health.v1.Health"
GRPC_METHODS = (
    "Search",
    "BatchObjects",
    "BatchReferences",
    "BatchDelete",
    "TenantsGet",
    "Aggregate",
    "BatchStream",
    "Check",
)
_log = logging.getLogger(__name__)


class WeaviateGrpc:
    def __init__(self, store: Store, faults: FaultController, api_key: str | None) -> None:
        self._store = store
        self._faults = faults
        self._api_key = api_key

    def handlers(self) -> list[grpc.GenericRpcHandler]:
        store = self._store
        weaviate = {
            "Search": self._unary(
                "Search", lambda r: search(store, r), search_get_pb2.SearchRequest, reply=None
            ),
            "BatchObjects": self._unary(
                "BatchObjects",
                self._batch_objects,
                batch_pb2.BatchObjectsRequest,
                batch_pb2.BatchObjectsReply,
            ),
            "BatchReferences": self._unary(
                "BatchReferences",
                self._batch_references,
                batch_pb2.BatchReferencesRequest,
                batch_pb2.BatchReferencesReply,
            ),
            "BatchDelete": self._unary(
                "BatchDelete",
                self._batch_delete,
                batch_delete_pb2.BatchDeleteRequest,
                batch_delete_pb2.BatchDeleteReply,
            ),
            "TenantsGet": self._unary(
                "TenantsGet",
                lambda r: tenants_get(store, r),
                tenants_pb2.TenantsGetRequest,
                tenants_pb2.TenantsGetReply,
            ),
            "Aggregate": self._unary(
                "Aggregate",
                lambda r: aggregate(store, r),
                aggregate_pb2.AggregateRequest,
                aggregate_pb2.AggregateReply,
            ),
            "BatchStream": grpc.stream_stream_rpc_method_handler(
                self._batch_stream,
                request_deserializer=batch_pb2.BatchStreamRequest.FromString,
                response_serializer=batch_pb2.BatchStreamReply.SerializeToString,
            ),
        }
        health = {
            "Check": self._unary(
                "Check",
                lambda _: health_weaviate_pb2.WeaviateHealthCheckResponse(
                    status=health_weaviate_pb2.WeaviateHealthCheckResponse.SERVING
                ),
                health_weaviate_pb2.WeaviateHealthCheckRequest,
                health_weaviate_pb2.WeaviateHealthCheckResponse,
                auth=False,
            )
        }
        return [
            grpc.method_handlers_generic_handler(WEAVIATE_SERVICE, weaviate),
            grpc.method_handlers_generic_handler(HEALTH_SERVICE, health),
        ]

    def _gate(self, name: str, context: grpc.ServicerContext, *, auth: bool) -> None:
        code = self._faults.on_call(name)
        self._faults.run_hooks(name)
        latency = self._faults.latency
        if latency:
            time.sleep(latency)
        if code is not None:
            status = as_grpc(code)
            context.abort(status, f"w2z test server: injected {status.name} for {name}")
        if auth:
            header = dict(context.invocation_metadata()).get("authorization")
            try:
                check_bearer(header, self._api_key)
            except ServerError as exc:
                context.abort(exc.grpc_code, exc.message)

    def _unary(
        self, name: str, fn: Callable[[Any], Any], request: Any, reply: Any, *, auth: bool = True
    ) -> grpc.RpcMethodHandler:
        """`reply` is the reply message type, or None where `fn` answers with the serialized reply."""

        def handle(req: Any, context: grpc.ServicerContext) -> Any:
            self._gate(name, context, auth=auth)
            try:
                return fn(req)
            except ServerError as exc:
                error = exc
            except Exception as exc:
                _log.exception("%s failed", name)
                error = ServerError(f"w2z test server internal error in {name}: {exc!r}")
            context.abort(error.grpc_code, error.message)

        return grpc.unary_unary_rpc_method_handler(
            handle,
            request_deserializer=request.FromString,
            response_serializer=None if reply is None else reply.SerializeToString,
        )

    def _batch_stream(self, requests: Iterator[Any], context: grpc.ServicerContext) -> Iterator[Any]:
        self._gate("BatchStream", context, auth=True)
        error = not_implemented("BatchStream (server-side batching needs Weaviate >= 1.36)")
        context.abort(error.grpc_code, error.message)
        yield from ()

    def _batch_objects(self, req: batch_pb2.BatchObjectsRequest) -> batch_pb2.BatchObjectsReply:
        started = time.perf_counter()
        inputs: list[tuple[int, objects.ObjectInput]] = []
        errors: dict[int, str] = {}
        for index, msg in enumerate(req.objects):
            try:
                inputs.append((index, objects.from_batch_object(self._store, msg)))
            except ServerError as exc:
                errors[index] = exc.message
        errors.update(objects.put_batch(self._store, inputs))
        return batch_pb2.BatchObjectsReply(
            took=time.perf_counter() - started,
            errors=[
                batch_pb2.BatchObjectsReply.BatchError(index=i, error=m) for i, m in sorted(errors.items())
            ],
        )

    def _batch_references(self, req: batch_pb2.BatchReferencesRequest) -> batch_pb2.BatchReferencesReply:
        started = time.perf_counter()
        errors = []
        with self._store.lock:
            for index, ref in enumerate(req.references):
                source = references.RefSource(ref.from_collection, ref.from_uuid, ref.name, ref.tenant)
                target = beacon(ref.to_collection if ref.HasField("to_collection") else "", ref.to_uuid)
                try:
                    references.add(self._store, source, target, check_target=False)
                except ServerError as exc:
                    errors.append(batch_pb2.BatchReferencesReply.BatchError(index=index, error=exc.message))
        return batch_pb2.BatchReferencesReply(took=time.perf_counter() - started, errors=errors)

    def _batch_delete(self, req: batch_delete_pb2.BatchDeleteRequest) -> batch_delete_pb2.BatchDeleteReply:
        started = time.perf_counter()
        with self._store.lock:
            coll = self._store.find(req.collection)
            if coll is None:
                raise ServerError(f"batch delete params: could not find class {req.collection} in schema")
            if not req.HasField("filters"):
                raise ServerError("batch delete params: no filters in batch delete request")
            predicate = compile_filter(req.filters, coll.info, self._store, req.tenant)
            keys = objects.delete_matching(
                self._store, coll.info.name, req.tenant, predicate, dry_run=req.dry_run
            )
        reply = batch_delete_pb2.BatchDeleteReply(
            took=time.perf_counter() - started, matches=len(keys), successful=len(keys), failed=0
        )
        if req.verbose:
            reply.objects.extend(batch_delete_pb2.BatchDeleteObject(uuid=k, successful=True) for k in keys)
        return reply
