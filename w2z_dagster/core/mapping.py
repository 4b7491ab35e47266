"""How a Weaviate collection becomes one Milvus collection: the planner behind `MigrationPlan`.

Everything is decided here, once, from the typed source schema (table-driven: types, metrics, indexes);
`transform` only executes the plan per object. The decisions and their reasons are written up in docs/mapping.md.
"""

from __future__ import annotations

from typing import NamedTuple

from w2z_dagster.core.keyword import (
    KeywordGroup,
    keyword_groups,
    keyword_names,
    keyword_plan,
    scalar_index_type,
)
from w2z_dagster.core.names import NameAllocator, collection_name, name_problem
from w2z_dagster.core.plan import (
    DATE_BYTES,
    ID_FIELD,
    LEGACY_VECTOR_FIELD,
    MULTI_TENANT_ID_BYTES,
    TENANT_BYTES,
    TENANT_FIELD,
    UPDATED_FIELD,
    UUID_BYTES,
    UUID_FIELD,
    FieldRole,
    IndexPlan,
    MappingOptions,
    MigrationPlan,
    MilvusField,
    PlanError,
    SkippedProperty,
)
from w2z_dagster.core.profiles import TargetLimits, TargetProfile, limits_for
from w2z_dagster.core.schema import CollectionSchema, PropertySpec, VectorSpec, WeaviateType

# Weaviate's own HNSW defaults, used when the source reports no index parameters.
WEAVIATE_HNSW_DEFAULTS = {"maxConnections": 32, "efConstruction": 128}

FULL = -1
"""Sentinel length in the type table: the profile's largest VARCHAR."""


class TypeRule(NamedTuple):
    data_type: str
    element_type: str | None = None
    max_length: int | None = None
    note: str = ""


TYPE_TABLE: dict[WeaviateType, TypeRule] = {
    WeaviateType.TEXT: TypeRule("VARCHAR", max_length=FULL, note="length counted in UTF-8 bytes"),
    WeaviateType.TEXT_ARRAY: TypeRule("ARRAY", "VARCHAR", FULL),
    WeaviateType.INT: TypeRule("INT64"),
    WeaviateType.INT_ARRAY: TypeRule("ARRAY", "INT64"),
    WeaviateType.NUMBER: TypeRule("DOUBLE"),
    WeaviateType.NUMBER_ARRAY: TypeRule("ARRAY", "DOUBLE"),
    WeaviateType.BOOLEAN: TypeRule("BOOL"),
    WeaviateType.BOOLEAN_ARRAY: TypeRule("ARRAY", "BOOL"),
    WeaviateType.DATE: TypeRule(
        "VARCHAR", max_length=DATE_BYTES, note="UTC RFC 3339, microseconds, fixed width: sorts and filters"
    ),
    WeaviateType.DATE_ARRAY: TypeRule("ARRAY", "VARCHAR", DATE_BYTES, note="UTC RFC 3339, microseconds"),
    WeaviateType.UUID: TypeRule("VARCHAR", max_length=UUID_BYTES),
    WeaviateType.UUID_ARRAY: TypeRule("ARRAY", "VARCHAR", UUID_BYTES),
    WeaviateType.GEO: TypeRule("JSON", note='{"latitude", "longitude"} as float32-exact doubles'),
    WeaviateType.PHONE: TypeRule("JSON", note="the phoneNumber object as Weaviate returns it"),
    WeaviateType.BLOB: TypeRule("VARCHAR", max_length=FULL, note="base64 text, as Weaviate returns it"),
    WeaviateType.OBJECT: TypeRule("JSON", note="nested dates as UTC RFC 3339 text"),
    WeaviateType.OBJECT_ARRAY: TypeRule("JSON", note="nested dates as UTC RFC 3339 text"),
    WeaviateType.REFERENCE: TypeRule("ARRAY", "VARCHAR", UUID_BYTES, note="target object UUIDs"),
}


class MetricRule(NamedTuple):
    metric: str
    parity: bool
    note: str = ""


_NO_METRIC = "Milvus has no {} metric for float vectors: indexed with L2, so search results differ"

METRIC_TABLE: dict[str, MetricRule] = {
    "cosine": MetricRule("COSINE", True),
    "dot": MetricRule("IP", True),
    "l2-squared": MetricRule("L2", True),
    "hamming": MetricRule("L2", False, _NO_METRIC.format("hamming")),
    "manhattan": MetricRule("L2", False, _NO_METRIC.format("manhattan")),
}


def build_plan(
    schema: CollectionSchema, profile: TargetProfile, options: MappingOptions | None = None
) -> MigrationPlan:
    options = options or MappingOptions()
    profile = TargetProfile(profile)
    limits = limits_for(profile)
    if options.missing_vector == "null" and not limits.nullable_vectors:
        raise PlanError(
            f"missing_vector='null' is not supported on the {profile} profile (it stores null vectors "
            "as zeros); use missing_vector='reject'"
        )
    names = NameAllocator(limits.max_name_bytes)
    notes: list[str] = []
    fields = _system_fields(schema.multi_tenant, names)

    vector_fields, indexes, parity, dimensions = _vector_fields(schema, limits, options, names, notes)
    fields += vector_fields
    groups = _keyword_groups(schema, limits, options, len(indexes), notes)
    for text_field, sparse_field in keyword_names(groups):
        names.reserve(text_field)
        names.reserve(sparse_field)

    stored = [p for p in schema.properties if options.blobs == "store" or p.data_type != WeaviateType.BLOB]
    skipped = tuple(
        SkippedProperty(source=p.name, source_type=p.data_type.value, reason="blob skipped (blobs='skip')")
        for p in schema.properties
        if p not in stored
    )
    property_names = names.allocate(p.name for p in stored)
    for prop in stored:
        field = _property_field(prop, property_names[prop.name], limits)
        fields.append(field)
        _note_rename("property", prop.name, property_names[prop.name], notes)
        index_type = scalar_index_type(field, prop, limits) if options.search_indexes else None
        if index_type is not None:
            indexes.append(IndexPlan(field=field.name, index_type=index_type, metric=""))
    keyword_fields, functions, keyword_indexes = keyword_plan(groups, schema.inverted_index, limits, notes)
    fields += keyword_fields
    indexes += keyword_indexes
    fields.append(_updated_field())
    fields = [f.model_copy(update={"description": _field_description(f, schema)}) for f in fields]

    if len(fields) > limits.max_fields:
        raise PlanError(
            f"collection '{schema.name}' needs {len(fields)} Milvus fields; {profile} allows at most "
            f"{limits.max_fields}; skip blobs or split the collection"
        )
    target = collection_name(schema.name, limits.max_name_bytes)
    if target != schema.name:
        notes.append(f"collection '{schema.name}' is created as '{target}' (Milvus name rules)")
    return MigrationPlan(
        source=schema.name,
        source_schema=schema,
        description=_fit(
            f"{schema.description}; " if schema.description else "", f"Weaviate collection '{schema.name}'"
        ),
        target=target,
        profile=profile,
        multi_tenant=schema.multi_tenant,
        fields=tuple(fields),
        indexes=tuple(indexes),
        functions=tuple(functions),
        notes=tuple(notes),
        search_parity_expected=parity,
        dimensions=dimensions,
        skipped=skipped,
        source_properties=tuple(stored),
        options=options,
    )


def _keyword_groups(
    schema: CollectionSchema, limits: TargetLimits, options: MappingOptions, dense: int, notes: list[str]
) -> list[KeywordGroup]:
    """The analyzer groups that fit beside the dense vectors: a sparse field counts as a vector field."""
    if not options.search_indexes:
        if any(p.is_text and p.index_searchable for p in schema.properties):
            notes.append("keyword search and filter indexes are not carried (W2Z_SEARCH_INDEXES=false)")
        return []
    groups = keyword_groups(schema, limits, notes)
    room = max((options.max_vector_fields or limits.max_vector_fields) - dense, 0)
    for group in groups[room:]:
        left_out = ", ".join(p.name for p in group.properties)
        notes.append(
            f"keyword search on {left_out} is not carried: its sparse field would exceed the target's "
            "vector fields"
        )
    return groups[:room]


def _system_fields(multi_tenant: bool, names: NameAllocator) -> list[MilvusField]:
    for name in (ID_FIELD, UUID_FIELD, TENANT_FIELD) if multi_tenant else (ID_FIELD,):
        names.reserve(name)
    names.reserve(UPDATED_FIELD)
    return _key_fields(multi_tenant)


def _updated_field() -> MilvusField:
    """The source's last-update time per row: what lets a nightly sync skip unchanged objects."""
    return MilvusField(
        name=UPDATED_FIELD,
        data_type="INT64",
        role=FieldRole.UPDATED,
        source_type="last update time",
        note="Weaviate's last-update time of the object, in ms since the epoch (w2z's sync bookkeeping)",
    )


def _key_fields(multi_tenant: bool) -> list[MilvusField]:
    if not multi_tenant:
        return [
            MilvusField(
                name=ID_FIELD,
                data_type="VARCHAR",
                max_length=UUID_BYTES,
                is_primary=True,
                role=FieldRole.ID,
                source_type="object id",
                note="the Weaviate UUID",
            )
        ]
    return [
        MilvusField(
            name=ID_FIELD,
            data_type="VARCHAR",
            max_length=MULTI_TENANT_ID_BYTES,
            is_primary=True,
            role=FieldRole.ID,
            source_type="tenant + object id",
            note="'<tenant>:<uuid>', so one UUID in two tenants never collides",
        ),
        MilvusField(
            name=UUID_FIELD,
            data_type="VARCHAR",
            max_length=UUID_BYTES,
            role=FieldRole.UUID,
            source_type="object id",
            note="the bare Weaviate UUID",
        ),
        MilvusField(
            name=TENANT_FIELD,
            data_type="VARCHAR",
            max_length=TENANT_BYTES,
            is_partition_key=True,
            role=FieldRole.TENANT,
            source_type="tenant",
            note="not nullable: Milvus forbids a nullable partition key",
        ),
    ]


def _vector_fields(
    schema: CollectionSchema,
    limits: TargetLimits,
    options: MappingOptions,
    names: NameAllocator,
    notes: list[str],
) -> tuple[list[MilvusField], list[IndexPlan], dict[str, bool], dict[str, int]]:
    """Vector fields, their indexes, search parity per field and dimension per Weaviate vector name."""
    legacy = [v for v in schema.vectors if v.legacy]
    if legacy:
        names.reserve(LEGACY_VECTOR_FIELD)
    named = names.allocate(v.name for v in schema.vectors if not v.legacy)
    fields: list[MilvusField] = []
    indexes: list[IndexPlan] = []
    parity: dict[str, bool] = {}
    dimensions: dict[str, int] = {}
    for spec in schema.vectors:
        name = LEGACY_VECTOR_FIELD if spec.legacy else named[spec.name]
        if not spec.legacy:
            _note_rename("vector", spec.name, name, notes)
        metric = METRIC_TABLE.get(spec.distance)
        if metric is None:
            raise PlanError(
                f"vector '{spec.name}' uses distance '{spec.distance}', which w2z cannot map; "
                f"known distances: {', '.join(METRIC_TABLE)}"
            )
        dim = _dimension(spec, options, limits)
        if dim is not None:
            dimensions[spec.name] = dim
        label = "legacy vector" if spec.legacy else f"vector '{spec.name}'"
        source_type = f"{label} ({spec.distance}, {spec.index_type})"
        if spec.vectorizer:
            notes.append(
                f"{label} is embedded by {_embedder(spec)}: after cut-over the application must embed its "
                "queries with the same model"
            )
        if spec.multi:
            note = "multi-vector as a JSON list of float32 vectors; not searchable in Milvus"
            notes.append(f"{label} is a multi-vector: stored in JSON field '{name}', not searchable")
            fields.append(
                MilvusField(
                    name=name,
                    data_type="JSON",
                    nullable=True,
                    role=FieldRole.MULTI_VECTOR,
                    source=spec.name,
                    source_type=f"multi-{source_type}",
                    note=note,
                )
            )
            parity[name] = False
            continue
        index, index_note = _index(spec, name, metric.metric, limits)
        field_notes = [n for n in (metric.note, index_note) if n]
        notes.extend(f"{label}: {n}" for n in field_notes)
        fields.append(
            MilvusField(
                name=name,
                data_type="FLOAT_VECTOR",
                dim=dim,
                nullable=options.missing_vector == "null",
                role=FieldRole.VECTOR,
                source=spec.name,
                source_type=source_type,
                note="; ".join(field_notes),
            )
        )
        indexes.append(index)
        parity[name] = metric.parity
    dense = [f for f in fields if f.role == FieldRole.VECTOR]
    max_vectors = options.max_vector_fields or limits.max_vector_fields
    if not dense:
        raise PlanError(
            f"collection '{schema.name}' has no single-vector space; Milvus needs at least one "
            "FLOAT_VECTOR field (multi-vectors are stored as JSON)"
        )
    if len(dense) > max_vectors:
        raise PlanError(
            f"collection '{schema.name}' has {len(dense)} vectors; the target allows at most "
            f"{max_vectors} vector fields per collection; use a target configured for more and set "
            "W2Z_MAX_VECTOR_FIELDS=N"
        )
    return fields, indexes, parity, dimensions


def _dimension(spec: VectorSpec, options: MappingOptions, limits: TargetLimits) -> int | None:
    given = options.vector_dimensions.get(spec.name)
    if spec.dimension is not None and given is not None and given != spec.dimension:
        raise PlanError(
            f"vector '{spec.name}' was observed with dimension {spec.dimension} but W2Z_VECTOR_DIMENSIONS "
            f"says {given}; correct or drop the entry"
        )
    dim = spec.dimension if spec.dimension is not None else given
    if dim is None:
        if spec.multi:
            return None
        raise PlanError(
            f"vector '{spec.name}' has no known dimension (no object carries it yet); set "
            f"W2Z_VECTOR_DIMENSIONS='{spec.name}=N'"
        )
    if not limits.min_dim <= dim <= limits.max_dim:
        raise PlanError(
            f"vector '{spec.name}' has dimension {dim}; Milvus FLOAT_VECTOR allows "
            f"{limits.min_dim} to {limits.max_dim}"
        )
    return dim


def _index(spec: VectorSpec, field: str, metric: str, limits: TargetLimits) -> tuple[IndexPlan, str]:
    """Carry the Weaviate index over where the target honours index choices."""
    if limits.autoindex_only:
        note = f"Weaviate {spec.index_type} index becomes AUTOINDEX (Zilliz Cloud chooses the index)"
        return IndexPlan(field=field, index_type="AUTOINDEX", metric=metric), note
    if spec.index_type in ("hnsw", "dynamic"):
        source = {**WEAVIATE_HNSW_DEFAULTS, **spec.index_params}
        params = {"M": source["maxConnections"], "efConstruction": source["efConstruction"]}
        note = (
            "Weaviate dynamic index (flat, then HNSW) built as HNSW" if spec.index_type == "dynamic" else ""
        )
        return IndexPlan(field=field, index_type="HNSW", metric=metric, params=params), note
    if spec.index_type in ("flat", "none"):
        note = "Weaviate had no vector index; exact FLAT index" if spec.index_type == "none" else ""
        return IndexPlan(field=field, index_type="FLAT", metric=metric), note
    note = f"Weaviate index '{spec.index_type}' has no Milvus equivalent; AUTOINDEX"
    return IndexPlan(field=field, index_type="AUTOINDEX", metric=metric), note


def _property_field(prop: PropertySpec, name: str, limits: TargetLimits) -> MilvusField:
    rule = TYPE_TABLE[prop.data_type]
    is_array = rule.data_type == "ARRAY"
    max_length = limits.max_varchar_bytes if rule.max_length == FULL else rule.max_length
    reference = prop.data_type == WeaviateType.REFERENCE
    source_type = prop.data_type.value
    if reference:
        source_type = f"cross-reference → {', '.join(prop.reference_targets)}"
    notes = [rule.note] if rule.note else []
    if name != prop.name:
        notes.append(f"renamed: '{prop.name}' {_rename_reason(prop.name)}")
    return MilvusField(
        name=name,
        data_type=rule.data_type,
        element_type=rule.element_type,
        max_length=max_length,
        max_capacity=limits.max_array_capacity if is_array else None,
        nullable=True,
        role=FieldRole.REFERENCE if reference else FieldRole.PROPERTY,
        source=prop.name,
        source_type=source_type,
        weaviate_type=prop.data_type,
        note="; ".join(notes),
    )


DESCRIPTION_BYTES = 255
"""Kept within the target's name limit: the description is for people reading the Zilliz console."""


def _embedder(spec: VectorSpec) -> str:
    return f"{spec.vectorizer} (model {spec.model})" if spec.model else str(spec.vectorizer)


def _fit(text: str, origin: str) -> str:
    """The Weaviate text, then where the field comes from, cut to DESCRIPTION_BYTES at a character."""
    described = f"{text}{origin}"
    if len(described.encode()) <= DESCRIPTION_BYTES:
        return described
    return described.encode()[: DESCRIPTION_BYTES - len("…".encode())].decode(errors="ignore") + "…"


def _field_description(field: MilvusField, schema: CollectionSchema) -> str:
    """What the Milvus console shows: Weaviate's description, and the Weaviate name and type behind it."""
    if field.role in (FieldRole.PROPERTY, FieldRole.REFERENCE):
        prop = next(p for p in schema.properties if p.name == field.source)
        own = f"{prop.description}; " if prop.description else ""
        return _fit(own, f"Weaviate property '{prop.name}' ({field.source_type})")
    if field.role in (FieldRole.VECTOR, FieldRole.MULTI_VECTOR):
        spec = next(v for v in schema.vectors if v.name == field.source)
        embedded = f", embedded by {_embedder(spec)}" if spec.vectorizer else ", vectors from the application"
        return _fit("", f"Weaviate {field.source_type}{embedded}")
    return _fit("", field.note)


def _rename_reason(name: str) -> str:
    return name_problem(name) or "is already taken by another field"


def _note_rename(kind: str, source: str, target: str, notes: list[str]) -> None:
    if source != target:
        notes.append(f"{kind} '{source}' is stored as field '{target}' ({source!r} {_rename_reason(source)})")
