"""What a Search returns per object: selected properties, resolved references and metadata.

Mirrors `prepare_reply.go`: selected top-level properties an object lacks come back as null, nested
fields it lacks are omitted, dangling references are dropped, `id_as_bytes` is always filled (the
client's cursor depends on it) and metadata fields are present exactly when real Weaviate sets them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from weaviate.proto.v1 import base_pb2, search_get_pb2
from weaviate.proto.v1 import properties_pb2 as pp

from .class_info import ClassInfo, Prop
from .errors import ServerError
from .objects import resolve_ref
from .schema_json import lowercase_first, uppercase_first
from .store import Store, StoredObject
from .value_encoding import NULL, Encoder, NestedSelection, encoder

_MULTI = base_pb2.Vectors.VECTOR_TYPE_MULTI_FP32
_SINGLE = base_pb2.Vectors.VECTOR_TYPE_SINGLE_FP32


@dataclass(frozen=True, slots=True)
class MetaPlan:
    uuid: bool = False
    legacy_vector: bool = False
    vectors: tuple[str, ...] = ()
    creation: bool = False
    update: bool = False
    distance: bool = False
    certainty: bool = False
    score: bool = False
    explain_score: bool = False

    @classmethod
    def from_request(
        cls, info: ClassInfo, req: search_get_pb2.MetadataRequest, *, certainty_ok: bool
    ) -> MetaPlan:
        """`vector=true` means the legacy vector plus every named vector, as the Go parser decides."""
        return cls(
            uuid=req.uuid,
            legacy_vector=req.vector,
            vectors=tuple(info.named) if req.vector and info.named else tuple(req.vectors),
            creation=req.creation_time_unix,
            update=req.last_update_time_unix,
            distance=req.distance,
            certainty=req.certainty and certainty_ok,
            score=req.score,
            explain_score=req.explain_score,
        )


@dataclass(frozen=True, slots=True)
class RefPlan:
    prop: str
    target: str
    props: PropsPlan
    meta: MetaPlan


@dataclass(frozen=True, slots=True)
class PropsPlan:
    fields: list[tuple[str, Encoder]]
    refs: list[RefPlan] = field(default_factory=list)

    @classmethod
    def build(cls, store: Store, info: ClassInfo, req: search_get_pb2.PropertiesRequest | None) -> PropsPlan:
        """Unset selects every non-reference, non-blob property; blobs only come back when named."""
        everything = [(p.name, encoder(p)) for p in info.non_ref_non_blob]
        if req is None:
            return cls(everything)
        fields: dict[str, Encoder] = dict(everything) if req.return_all_nonref_properties else {}
        for name in () if req.return_all_nonref_properties else req.non_ref_properties:
            prop = _lookup(info, name)
            if prop.is_ref:
                raise ServerError(f"property {prop.name} of class {info.name} is a reference, not a property")
            fields[prop.name] = encoder(prop)
        for obj_req in req.object_properties:
            prop = _lookup(info, obj_req.prop_name)
            if not prop.is_nested:
                raise ServerError(f"property {prop.name} of class {info.name} is not an object property")
            fields[prop.name] = encoder(prop, _nested_selection(prop.nested, obj_req, prop.name))
        refs = [_ref_plan(store, info, ref_req) for ref_req in req.ref_properties]
        return cls(list(fields.items()), refs)


def _lookup(info: ClassInfo, name: str) -> Prop:
    prop = info.props.get(lowercase_first(name))
    if prop is None:
        raise ServerError(
            "extract properties request: "
            f"get property by name {lowercase_first(name)} for class {info.name}: "
            f"no such prop with name '{lowercase_first(name)}' found in class '{info.name}' in the schema. "
            "Check your schema files for which properties in this class are available"
        )
    return prop


def _nested_selection(
    nested: Mapping[str, Prop], req: search_get_pb2.ObjectPropertiesRequest, path: str
) -> NestedSelection:
    selection: dict[str, NestedSelection | None] = {}
    for name in req.primitive_properties:
        if name not in nested:
            raise ServerError(f"getting data type of nested property {path}.{name}: property not found")
        selection[name] = None
    for sub in req.object_properties:
        child = nested.get(sub.prop_name)
        if child is None or not child.is_nested:
            raise ServerError(f"getting nested property {path}.{sub.prop_name}: not an object property")
        selection[sub.prop_name] = _nested_selection(child.nested, sub, f"{path}.{sub.prop_name}")
    return selection


def _ref_plan(store: Store, info: ClassInfo, req: search_get_pb2.RefPropertiesRequest) -> RefPlan:
    prop = _lookup(info, req.reference_property)
    if not prop.is_ref:
        raise ServerError(f"property {prop.name} of class {info.name} is not a reference property")
    if len(prop.targets) == 1:
        target = prop.targets[0]
    elif req.target_collection:
        target = uppercase_first(req.target_collection)
    else:
        raise ServerError(
            f"multi target references from collection {info.name} and property {req.reference_property} "
            f"with need an explicitlinked collection. Available linked collections are {list(prop.targets)}"
        )
    target_info = store.collection(target).info
    props = PropsPlan.build(store, target_info, req.properties if req.HasField("properties") else None)
    meta = MetaPlan.from_request(target_info, req.metadata, certainty_ok=False)
    return RefPlan(prop.name, target, props, meta)


def metadata(
    info: ClassInfo,
    key: bytes,
    obj: StoredObject,
    plan: MetaPlan,
    distance: float | None,
    score: float | None = None,
    explain: str | None = None,
) -> search_get_pb2.MetadataResult:
    md = search_get_pb2.MetadataResult()
    if plan.uuid:
        md.id = str(uuid.UUID(bytes=key))
        md.id_as_bytes = key
    if plan.legacy_vector and obj.vector:
        md.vector_bytes = obj.vector
    for name in plan.vectors:
        data = obj.vectors.get(name)
        if data:
            spec = info.named[name]
            md.vectors.add(name=name, vector_bytes=data, type=_MULTI if spec.multi else _SINGLE)
    if plan.creation:
        md.creation_time_unix = obj.created
        md.creation_time_unix_present = True
    if plan.update:
        md.last_update_time_unix = obj.updated
        md.last_update_time_unix_present = True
    if plan.score:
        md.score = score or 0.0
        md.score_present = True
    if plan.explain_score:
        md.explain_score = explain or ""
        md.explain_score_present = True
    if distance is not None and plan.distance:
        md.distance = distance
        md.distance_present = True
    if distance is not None and plan.certainty:
        md.certainty = 1 - distance / 2
        md.certainty_present = True
    return md


def properties(
    store: Store, info: ClassInfo, obj: StoredObject, plan: PropsPlan, tenant: str
) -> search_get_pb2.PropertiesResult:
    values = obj.props
    fields = {name: NULL if (v := values.get(name)) is None else enc(v) for name, enc in plan.fields}
    out = search_get_pb2.PropertiesResult(target_collection=info.name, ref_props_requested=bool(plan.refs))
    if fields:
        out.non_ref_props.CopyFrom(pp.Properties(fields=fields))
    for ref_plan in plan.refs:
        stored = obj.refs.get(ref_plan.prop)
        if stored is None:
            continue
        ref_result = out.ref_props.add(prop_name=ref_plan.prop)
        target_info = store.collection(ref_plan.target).info
        for target, target_id in stored:
            if target and target != ref_plan.target:
                continue
            found = resolve_ref(store, ref_plan.target, target_id, tenant)
            if found is None:
                continue
            child = properties(store, target_info, found[1], ref_plan.props, tenant)
            child.metadata.CopyFrom(
                metadata(target_info, uuid.UUID(target_id).bytes, found[1], ref_plan.meta, None)
            )
            ref_result.properties.append(child)
    return out
