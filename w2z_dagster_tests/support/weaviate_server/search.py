"""gRPC Search: cursor pages, filtered lists, brute-force `near_vector` / `near_text`, BM25 and hybrid.

A plain or cursor fetch walks the shard's sorted uuid keys (exclusive `after`, UUID byte order); a
filtered list comes back in internal doc-id (write) order; a vector search is ranked by distance,
a keyword search by BM25 score (`bm25.py`), a hybrid search by fused score (`hybrid.py`).
Options the server does not implement are rejected, never ignored.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from weaviate.proto.v1 import base_pb2, base_search_pb2, search_get_pb2

from . import wire
from .bm25 import KeywordQuery, search_bm25
from .class_info import ClassInfo, VectorSpec
from .errors import ServerError, not_implemented
from .filters import Predicate, compile_filter
from .hybrid import SUB_SEARCH_LIMIT, Candidate, fuse
from .search_reply import MetaPlan, PropsPlan, properties
from .store import Shard, Store, StoredObject
from .target_vectors import Combination, rank_targets
from .vectorizer import embed_query
from .vectors import multi_matrix, rank

DEFAULT_LIMIT = 10
MAX_RESULTS = 10000

_NEAR_FIELDS = (
    "near_vector",
    "near_object",
    "near_text",
    "near_image",
    "near_audio",
    "near_video",
    "near_depth",
    "near_thermal",
    "near_imu",
)
_UNSUPPORTED = (
    ("group_by", "group-by"),
    ("generative", "generative search"),
    ("rerank", "rerank"),
    ("boost", "boost"),
    *((name, f"{name} search") for name in _NEAR_FIELDS[1:] if name != "near_text"),
)


class Hit(NamedTuple):
    """A tuple, not a dataclass: cursor pages build one per object on the migration's hot path."""

    key: bytes
    obj: StoredObject
    distance: float | None = None
    score: float | None = None
    explain: str | None = None


@dataclass(frozen=True, slots=True)
class NearVector:
    """The first (often only) target's space and query; further targets in `others`."""

    spec: VectorSpec
    query: np.ndarray
    distance: float | None
    certainty: float | None
    others: tuple[tuple[VectorSpec, np.ndarray], ...] = ()
    combination: Combination | None = None

    def ranked(
        self, shard: Shard, predicate: Predicate | None, limit: int
    ) -> Iterable[tuple[bytes, StoredObject, float]]:
        """Nearest first; over several targets the `limit` best of their combination."""
        if self.combination is None:
            return rank(shard, self.spec, self.query, predicate)
        targets = [(self.spec, self.query), *self.others]
        return rank_targets(shard, targets, self.combination, predicate, limit)


def search(store: Store, req: search_get_pb2.SearchRequest) -> bytes:
    """The serialized `SearchReply` (see `wire` for why bytes)."""
    started = time.perf_counter()
    with store.lock:
        coll = store.collection(req.collection)
        info = coll.info
        near = None
        if req.HasField("near_vector"):
            near = _near_vector(info, req.near_vector)
        elif req.HasField("near_text"):
            near = _near_text(info, req.near_text, lambda: store.shard(coll, req.tenant))
        certainty_ok = near is not None and near.spec.distance == "cosine" and not near.spec.multi
        meta = MetaPlan.from_request(info, req.metadata, certainty_ok=certainty_ok)
        plan = PropsPlan.build(store, info, req.properties if req.HasField("properties") else None)
        predicate = compile_filter(req.filters, info, store, req.tenant) if req.HasField("filters") else None
        limit = req.limit or DEFAULT_LIMIT
        after = _check_cursor(req) if req.after else b""
        _reject_unsupported(req)
        prefix = "explorer: get class: vector search: " if near else "explorer: list class: search: "
        if req.offset + limit > MAX_RESULTS:
            raise ServerError(
                f"{prefix}invalid pagination params: query maximum results exceeded: "
                "the total limit calculated from the provided offset "
                f"'{req.offset}' and limit '{limit}' exceeds the configured value for "
                f"QUERY_MAXIMUM_RESULTS '{MAX_RESULTS}'. If you've supplied a negative offset or limit, "
                "this may be an underflow error"
            )
        try:
            shard = store.shard(coll, req.tenant)
        except ServerError as exc:
            raise ServerError(f"{prefix}object search at index {info.name.lower()}: {exc.message}") from None
        total = req.offset + limit
        if req.HasField("bm25_search"):
            hits = _keyword_hits(info, shard, req.bm25_search, predicate, total)
        elif req.HasField("hybrid_search"):
            hits = _hybrid_hits(info, shard, req.hybrid_search, predicate, total)
        else:
            hits = _hits(shard, near, predicate, after, total)
        hits = hits[req.offset :]
        store.objects_read += len(hits)
        results = [
            wire.search_result(
                props, wire.metadata_result(info, h.key, h.obj, meta, h.distance, h.score, h.explain)
            )
            for props, h in zip(_properties(store, info, plan, hits, req.tenant), hits, strict=True)
        ]
    return wire.search_reply(time.perf_counter() - started, results)


def _properties(store: Store, info: ClassInfo, plan: PropsPlan, hits: list[Hit], tenant: str) -> list[bytes]:
    """Each hit's `PropertiesResult`; as bytes directly unless references must be resolved."""
    if plan.refs:
        return [properties(store, info, h.obj, plan, tenant).SerializeToString() for h in hits]
    fields = [
        ((name, wire.map_key(name)), wire.value_bytes(info.props[name].data_type, enc))
        for name, enc in plan.fields
    ]
    return [wire.properties_result(info, h.obj.props, fields) for h in hits]


def _hits(
    shard: Shard, near: NearVector | None, predicate: Predicate | None, after: bytes, total: int
) -> list[Hit]:
    if near is not None:
        out: list[Hit] = []
        for key, obj, dist in near.ranked(shard, predicate, total):
            if near.distance is not None and dist > near.distance + 1e-6:
                break
            if near.certainty is not None and 1 - dist / 2 < near.certainty:
                break
            out.append(Hit(key, obj, dist))
            if len(out) == total:
                break
        return out
    if predicate is not None:
        matches = sorted((o.doc_id, k, o) for k, o in shard.in_order() if predicate(k, o))
        return [Hit(k, o) for _, k, o in matches[:total]]
    return [Hit(k, o) for k, o in shard.page(after, total)]


def _keyword_hits(
    info: ClassInfo, shard: Shard, bm25: base_search_pb2.BM25, predicate: Predicate | None, total: int
) -> list[Hit]:
    options = bm25.search_operator if bm25.HasField("search_operator") else None
    query = KeywordQuery.from_grpc(bm25.query, bm25.properties, options)
    return [
        Hit(r.key, r.obj, None, r.score, r.explain)
        for r in search_bm25(info, shard, query, predicate)[:total]
    ]


def _hybrid_hits(
    info: ClassInfo, shard: Shard, req: base_search_pb2.Hybrid, predicate: Predicate | None, total: int
) -> list[Hit]:
    """`hybrid.Search`: the keyword and the vector set, each up to the hybrid limit, then fused."""
    if req.HasField("selection"):
        raise not_implemented("diversity selection (MMR)")
    alpha = req.alpha_param if req.use_alpha_param else req.alpha
    limit = max(SUB_SEARCH_LIMIT, total)
    weights: list[float] = []
    names: list[str] = []
    sets: list[list[Candidate]] = []
    if alpha < 1 and req.query:
        options = req.bm25_search_operator if req.HasField("bm25_search_operator") else None
        query = KeywordQuery.from_grpc(req.query, req.properties, options)
        keyword = search_bm25(info, shard, query, predicate)[:limit]
        sets.append([Candidate(r.key, r.obj, np.float32(r.score)) for r in keyword])
        weights.append(1 - alpha)
        names.append("keyword")
    if alpha > 0:
        near = _hybrid_vector(info, req, shard)
        vector = []
        for key, obj, dist in near.ranked(shard, predicate, limit):
            if req.HasField("vector_distance") and dist > req.vector_distance:
                break
            vector.append(Candidate(key, obj, np.float32(1 - np.float32(dist))))
            if len(vector) == limit:
                break
        if req.HasField("vector_distance") and sets:
            below = {c.key for c in vector}
            sets[0] = [c for c in sets[0] if c.key in below]
        sets.append(vector)
        weights.append(alpha)
        names.append("vector")
    fused = fuse(req.fusion_type, weights, names, sets)[:total]
    return [Hit(c.key, c.obj, None, float(c.score), c.explain) for c in fused]


def _hybrid_vector(info: ClassInfo, req: base_search_pb2.Hybrid, shard: Shard) -> NearVector:
    """The vector half: a given vector, a nested near_vector / near_text, or the query embedded."""

    def near_text(info: ClassInfo, nt: base_search_pb2.NearTextSearch) -> NearVector:
        return _near_text(info, nt, lambda: shard)

    for name, parse in (("near_vector", _near_vector), ("near_text", near_text)):
        if req.HasField(name):
            nested = type(getattr(req, name))()
            nested.CopyFrom(getattr(req, name))
            if not nested.HasField("targets") and not nested.target_vectors:
                if req.HasField("targets"):
                    nested.targets.CopyFrom(req.targets)
                nested.target_vectors.extend(req.target_vectors)
            return parse(info, nested)
    targets = req.targets if req.HasField("targets") else None
    specs, combination = _target_specs(info, targets, list(req.target_vectors), "hybrid")
    if req.vectors or req.vector_bytes or req.vector:
        nv = base_search_pb2.NearVector(vectors=req.vectors, vector_bytes=req.vector_bytes, vector=req.vector)
        queries = [_as_query(*_query_vector(nv, spec.name)) for spec in specs]
    else:
        queries = [embed_query(spec, [req.query]) for spec in specs]
    return _near(specs, queries, combination, None, None)


def _near(
    specs: list[VectorSpec],
    queries: list[np.ndarray],
    combination: Combination | None,
    distance: float | None,
    certainty: float | None,
) -> NearVector:
    others = tuple(zip(specs[1:], queries[1:], strict=True))
    return NearVector(specs[0], queries[0], distance, certainty, others, combination)


def _as_query(data: bytes, multi: bool) -> np.ndarray:
    return multi_matrix(data) if multi else np.frombuffer(data, dtype="<f4")


def _target_specs(
    info: ClassInfo, targets: base_search_pb2.Targets | None, names: list[str], kind: str
) -> tuple[list[VectorSpec], Combination | None]:
    """The searched spaces and, for several, how their distances combine."""
    if targets is not None:
        names = list(targets.target_vectors)
    if len(names) <= 1:
        return [_target_spec(info, names[0] if names else None)], None
    if len(set(names)) != len(names):
        raise not_implemented(f"{kind} with several vectors for one target vector")
    return [_target_spec(info, name) for name in names], Combination.from_grpc(targets, names)


def _near_text(
    info: ClassInfo, nt: base_search_pb2.NearTextSearch, shard_of: Callable[[], Shard]
) -> NearVector:
    """`near_text`: the concepts through the vector space's (stand-in) vectorizer, then moved."""
    if nt.HasField("selection"):
        raise not_implemented("diversity selection (MMR)")
    targets = nt.targets if nt.HasField("targets") else None
    specs, combination = _target_specs(info, targets, list(nt.target_vectors), "near_text")
    if any(spec.multi for spec in specs):
        raise not_implemented("near_text on a multi-vector space")
    if nt.HasField("distance") and nt.HasField("certainty"):
        raise ServerError("near_text: cannot provide distance and certainty")
    _reject_threshold_with_targets(combination, nt)
    moves = [(nt.move_to, True)] if nt.HasField("move_to") else []
    moves += [(nt.move_away, False)] if nt.HasField("move_away") else []
    return _near(
        specs,
        [_moved(spec, embed_query(spec, list(nt.query)), moves, shard_of) for spec in specs],
        combination,
        nt.distance if nt.HasField("distance") else None,
        nt.certainty if nt.HasField("certainty") else None,
    )


def _moved(
    spec: VectorSpec,
    vector: np.ndarray,
    moves: list[tuple[base_search_pb2.NearTextSearch.Move, bool]],
    shard_of: Callable[[], Shard],
) -> np.ndarray:
    """`vectorFromNearTextParam`: move to, then away from, the mean of the concepts' and objects' vectors.

    Both use half the force (`searcher_movements.go`): to is `v (1 - f/2) + t f/2` with f in [0, 1],
    away is `v + f/2 (v - t)` with f >= 0; a force of 0 or nothing to move by leaves the vector.
    """
    half = np.float32(0.5)
    for move, toward in moves:
        force = np.float32(move.force)
        if force <= 0 or not (move.concepts or move.uuids):
            continue
        parts = [embed_query(spec, list(move.concepts))] if move.concepts else []
        parts += [_object_vector(shard_of(), spec, object_id) for object_id in move.uuids]
        target = (np.sum(np.stack(parts), axis=0, dtype=np.float32) / np.float32(len(parts))).astype(
            np.float32
        )
        if toward:
            if force > 1:
                raise ServerError(f"movement: force must be between 0 and 1: got {float(force):f}")
            vector = vector * (np.float32(1) - force * half) + target * (force * half)
        else:
            vector = vector + force * half * (vector - target)
        vector = vector.astype(np.float32)
    return vector


def _object_vector(shard: Shard, spec: VectorSpec, object_id: str) -> np.ndarray:
    try:
        key = uuid.UUID(object_id).bytes
    except ValueError:
        raise ServerError(f"invalid uuid {object_id!r} to move by") from None
    obj = shard.get(key)
    data = None if obj is None else (obj.vector if spec.name == "" else obj.vectors.get(spec.name))
    if data is None:
        raise ServerError(f"vectorize move: no vector {spec.name!r} for object with id {object_id}")
    return np.frombuffer(data, dtype="<f4")


def _reject_threshold_with_targets(
    combination: Combination | None, near: base_search_pb2.NearVector | base_search_pb2.NearTextSearch
) -> None:
    if combination is not None and (near.HasField("distance") or near.HasField("certainty")):
        raise not_implemented("distance or certainty thresholds over several target vectors")


def _check_cursor(req: search_get_pb2.SearchRequest) -> bytes:
    """The cursor restrictions of `explorer_validate_scroll.go` / `cursor_validator.go`."""
    prefix = "cursor api: invalid 'after' parameter: "
    others = ("group_by", "hybrid_search", "bm25_search", *_NEAR_FIELDS)
    if any(req.HasField(name) for name in others):
        raise ServerError(f"{prefix}other params cannot be set with after and limit parameters")
    conflicts = [
        name
        for name, present in (
            ("offset", req.offset > 0),
            ("where", req.HasField("filters")),
            ("sort", bool(req.sort_by)),
        )
        if present
    ]
    if conflicts:
        raise ServerError(f"{prefix}{','.join(conflicts)} cannot be set with after and limit parameters")
    try:
        return uuid.UUID(req.after).bytes
    except ValueError:
        raise ServerError(
            f"{prefix}after parameter '{req.after}' is not a valid uuid: "
            f"invalid UUID length: {len(req.after)}"
        ) from None


def _reject_unsupported(req: search_get_pb2.SearchRequest) -> None:
    for name, feature in _UNSUPPORTED:
        if req.HasField(name):
            raise not_implemented(feature)
    if req.sort_by:
        raise not_implemented("sorting")
    if req.autocut:
        raise not_implemented("autocut")
    if req.metadata.query_profile:
        raise not_implemented("query profiling")


def _near_vector(info: ClassInfo, nv: base_search_pb2.NearVector) -> NearVector:
    if nv.HasField("selection"):
        raise not_implemented("diversity selection (MMR)")
    targets = nv.targets if nv.HasField("targets") else None
    specs, combination = _target_specs(info, targets, list(nv.target_vectors), "near_vector")
    if combination is not None:
        _reject_threshold_with_targets(combination, nv)
        return _near(specs, [_checked_query(nv, spec) for spec in specs], combination, None, None)
    spec = specs[0]
    query = _checked_query(nv, spec)
    if nv.HasField("distance") and nv.HasField("certainty"):
        raise ServerError("near_vector: cannot provide distance and certainty")
    if nv.HasField("certainty") and (spec.distance != "cosine" or spec.multi):
        raise ServerError(
            "can't compute and return certainty when vector index is configured with "
            f"{spec.distance} distance"
        )
    return NearVector(
        spec=spec,
        query=query,
        distance=nv.distance if nv.HasField("distance") else None,
        certainty=nv.certainty if nv.HasField("certainty") else None,
    )


def _checked_query(nv: base_search_pb2.NearVector, spec: VectorSpec) -> np.ndarray:
    data, multi = _query_vector(nv, spec.name)
    if multi and not spec.multi:
        raise ServerError(
            "near_vector: provided vector is a multi vector but vector index supports regular vectors"
        )
    if spec.multi and not multi:
        raise ServerError(
            "near_vector: provided vector is a regular vector but vector index supports multi vectors"
        )
    return _as_query(data, multi)


def _target_spec(info: ClassInfo, target: str | None) -> VectorSpec:
    if target is None:
        if info.legacy is not None:
            return info.legacy
        if len(info.named) > 1:
            raise ServerError(
                f"extract target vectors: class {info.name} has multiple vectors, "
                "but no target vectors were provided"
            )
        if not info.named:
            raise ServerError(f"class {info.name} has no vector index")
        return next(iter(info.named.values()))
    spec = info.named.get(target)
    if spec is None:
        raise ServerError(
            f"extract target vectors: class {info.name} does not have named vector {target} configured. "
            f"Available named vectors {list(info.named)}"
        )
    return spec


def _query_vector(nv: base_search_pb2.NearVector, target: str) -> tuple[bytes, bool]:
    multi = base_pb2.Vectors.VECTOR_TYPE_MULTI_FP32
    if nv.vectors:
        if len(nv.vectors) > 1:
            raise ServerError(f"near_vector: only 1 vector supported, found {len(nv.vectors)} vectors")
        return nv.vectors[0].vector_bytes, nv.vectors[0].type == multi
    if nv.vector_bytes:
        return nv.vector_bytes, False
    if nv.vector:
        return np.asarray(nv.vector, dtype="<f4").tobytes(), False
    for entry in nv.vector_for_targets:
        if entry.name == target:
            if entry.vectors:
                return entry.vectors[0].vector_bytes, entry.vectors[0].type == multi
            return entry.vector_bytes, False
    if target in nv.vector_per_target:
        return nv.vector_per_target[target], False
    raise ServerError("near_vector: vector is required")
