"""gRPC Aggregate: the object count (optionally filtered) per collection or tenant.

`len(collection)` and `aggregate.over_all(total_count=True)` use this; property aggregations,
grouping and vector-restricted aggregations are rejected.
"""

from __future__ import annotations

import time

from weaviate.proto.v1 import aggregate_pb2

from .errors import not_implemented
from .filters import compile_filter
from .store import Store

_UNSUPPORTED = (
    ("group_by", "aggregate group-by"),
    ("object_limit", "aggregate object_limit"),
    ("hybrid", "aggregate over hybrid search"),
    ("near_vector", "aggregate over near_vector"),
    ("near_object", "aggregate over near_object"),
    ("near_text", "aggregate over near_text"),
    ("near_image", "aggregate over near_image"),
    ("near_audio", "aggregate over near_audio"),
    ("near_video", "aggregate over near_video"),
    ("near_depth", "aggregate over near_depth"),
    ("near_thermal", "aggregate over near_thermal"),
    ("near_imu", "aggregate over near_imu"),
)


def aggregate(store: Store, req: aggregate_pb2.AggregateRequest) -> aggregate_pb2.AggregateReply:
    started = time.perf_counter()
    for name, feature in _UNSUPPORTED:
        if req.HasField(name):
            raise not_implemented(feature)
    if req.aggregations:
        raise not_implemented("property aggregations")
    with store.lock:
        coll = store.collection(req.collection)
        predicate = (
            compile_filter(req.filters, coll.info, store, req.tenant) if req.HasField("filters") else None
        )
        shard = store.shard(coll, req.tenant)
        count = len(shard) if predicate is None else sum(1 for k, o in shard.in_order() if predicate(k, o))
    single = aggregate_pb2.AggregateReply.Single(aggregations=aggregate_pb2.AggregateReply.Aggregations())
    if req.objects_count:
        single.objects_count = count
    return aggregate_pb2.AggregateReply(took=time.perf_counter() - started, single_result=single)
