"""The migration plan: what one Weaviate collection becomes in Milvus, as plain models.

The plan is decided once (`mapping.build_plan`), recorded in the catalog, and then only followed:
`transform` turns objects into rows by it, `sink` creates and checks the target by it, verification
compares by it. These models are what all of them share.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from w2z_dagster.core.profiles import TargetLimits, TargetProfile, limits_for
from w2z_dagster.core.schema import CollectionSchema, PropertySpec, WeaviateType

ID_FIELD = "id"
UUID_FIELD = "uuid"
TENANT_FIELD = "tenant"
UPDATED_FIELD = "w2z_updated_ms"
LEGACY_VECTOR_FIELD = "vector"

UUID_BYTES = 36
# `YYYY-MM-DDTHH:MM:SS.ffffffZ`: fixed width, so string order is time order.
DATE_BYTES = 27
# Weaviate caps tenant names at 64 ASCII characters; 255 (the Milvus name limit) leaves headroom.
TENANT_BYTES = 255
MULTI_TENANT_ID_BYTES = TENANT_BYTES + 1 + UUID_BYTES


class FieldRole(StrEnum):
    ID = "id"
    UUID = "uuid"
    TENANT = "tenant"
    PROPERTY = "property"
    REFERENCE = "reference"
    VECTOR = "vector"
    MULTI_VECTOR = "multi_vector"
    UPDATED = "updated"
    KEYWORD_TEXT = "keyword_text"
    """The searchable text of one analyzer group, joined from its Weaviate properties (w2z writes it)."""
    SPARSE = "sparse"
    """A BM25 function's output: Milvus fills it from the keyword text, nothing writes it."""


PHYSICAL_ATTRIBUTES = frozenset(
    {
        "name",
        "data_type",
        "element_type",
        "max_length",
        "max_capacity",
        "dim",
        "nullable",
        "is_primary",
        "is_partition_key",
        "enable_analyzer",
        "analyzer_params",
    }
)
"""What Milvus itself stores of a field: all a target describes, and all a bulk-import schema needs."""


class MilvusField(BaseModel):
    """One target field, in the vocabulary of pymilvus `add_field` (DataType member names).

    `role`, `source`, `source_type`, `weaviate_type` and `note` say where a planned field comes from;
    a field described from an existing target leaves them at their defaults.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    data_type: str
    element_type: str | None = None
    max_length: int | None = None
    max_capacity: int | None = None
    dim: int | None = None
    nullable: bool = False
    is_primary: bool = False
    is_partition_key: bool = False
    enable_analyzer: bool = False
    analyzer_params: dict[str, Any] | None = None
    role: FieldRole = FieldRole.PROPERTY
    source: str | None = None
    source_type: str = ""
    weaviate_type: WeaviateType | None = None
    note: str = ""
    description: str = ""
    """What the Milvus console shows for the field: Weaviate's description, name and type."""

    @property
    def type_text(self) -> str:
        if self.data_type == "VARCHAR":
            return f"VARCHAR({self.max_length})"
        if self.data_type == "ARRAY":
            element = f"VARCHAR({self.max_length})" if self.element_type == "VARCHAR" else self.element_type
            return f"ARRAY<{element}>[{self.max_capacity}]"
        if self.dim is not None:
            return f"{self.data_type}({self.dim})"
        return self.data_type


IndexParam = int | float | str


class IndexPlan(BaseModel):
    """A vector, sparse (metric BM25) or scalar index (metric empty) on one field."""

    model_config = ConfigDict(frozen=True)

    field: str
    index_type: str
    metric: str
    params: dict[str, IndexParam] = Field(default_factory=dict)

    @property
    def text(self) -> str:
        params = " ".join(f"{k}={v}" for k, v in self.params.items())
        return " ".join(part for part in (self.index_type, params, self.metric) if part)


class FunctionPlan(BaseModel):
    """A Milvus BM25 function: the analyzed keyword text in, its sparse vector out."""

    model_config = ConfigDict(frozen=True)

    name: str
    input_field: str
    output_field: str
    sources: tuple[str, ...]
    """The Weaviate properties joined into `input_field`, in schema order."""
    tokenization: str


class SkippedProperty(BaseModel):
    model_config = ConfigDict(frozen=True)

    source: str
    source_type: str
    reason: str


class MappingOptions(BaseModel):
    """The mapping choices a user makes (W2Z_STORE_BLOBS, W2Z_MISSING_VECTOR, W2Z_MAX_VECTOR_FIELDS,
    W2Z_VECTOR_DIMENSIONS, W2Z_SEARCH_INDEXES); the plan records them, so every later step follows the
    same choices."""

    model_config = ConfigDict(frozen=True)

    blobs: Literal["skip", "store"] = "skip"
    missing_vector: Literal["reject", "null"] = "reject"
    vector_dimensions: dict[str, int] = Field(default_factory=dict)
    max_vector_fields: int | None = Field(default=None, ge=1)
    search_indexes: bool = True
    """Keyword search (analyzers, BM25 functions, sparse fields) and scalar indexes; Milvus < 2.5 has neither."""

    @classmethod
    def from_settings(
        cls,
        store_blobs: bool,
        missing_vector: str,
        max_vector_fields: int | None,
        vector_dimensions: str,
        search_indexes: bool = True,
    ) -> MappingOptions:
        return cls(
            blobs="store" if store_blobs else "skip",
            missing_vector=missing_vector,
            max_vector_fields=max_vector_fields,
            vector_dimensions=parse_dimensions(vector_dimensions),
            search_indexes=search_indexes,
        )


def parse_dimensions(text: str) -> dict[str, int]:
    """`title=768,body=1024`: dimensions for vectors no object has shown yet."""
    dimensions = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, value = item.partition("=")
        if not value.strip().isdigit():
            raise PlanError(f"W2Z_VECTOR_DIMENSIONS entry '{item}' is not name=dimension, e.g. 'body=768'")
        dimensions[name.strip()] = int(value)
    return dimensions


class MigrationPlan(BaseModel):
    """The target schema plus everything `transform` and verification need to follow it."""

    model_config = ConfigDict(frozen=True)

    source: str
    source_schema: CollectionSchema
    description: str = ""
    target: str
    profile: TargetProfile
    multi_tenant: bool
    fields: tuple[MilvusField, ...]
    indexes: tuple[IndexPlan, ...]
    functions: tuple[FunctionPlan, ...] = ()
    notes: tuple[str, ...] = ()
    search_parity_expected: dict[str, bool] = Field(default_factory=dict)
    dimensions: dict[str, int] = Field(default_factory=dict)
    skipped: tuple[SkippedProperty, ...] = ()
    source_properties: tuple[PropertySpec, ...] = ()
    options: MappingOptions = MappingOptions()

    def field(self, name: str) -> MilvusField:
        return next(f for f in self.fields if f.name == name)

    @property
    def reads_blobs(self) -> bool:
        """Weaviate returns blobs only when asked, so the source must know the plan stores them."""
        return self.options.blobs == "store"

    def fields_with(self, *roles: FieldRole) -> tuple[MilvusField, ...]:
        return tuple(f for f in self.fields if f.role in roles)

    def field_by_role(self, role: FieldRole) -> MilvusField:
        """The first field of `role`; for ID, UUID and TENANT the only one."""
        return next(f for f in self.fields if f.role == role)

    def field_for(self, role: FieldRole, source: str | None = None) -> MilvusField | None:
        """The field holding Weaviate property/reference/vector `source`, or the w2z field of `role`."""
        return next((f for f in self.fields if f.role == role and f.source == source), None)

    def index_for(self, field: str) -> IndexPlan | None:
        return next((i for i in self.indexes if i.field == field), None)

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    @property
    def limits(self) -> TargetLimits:
        return limits_for(self.profile)


class PlanError(ValueError):
    """The collection cannot be planned as asked; the message says what is wrong and how to fix it."""
