"""How the schema and the plan travel between assets: in the catalog, as their asset's own metadata.

The values are small pydantic models. Kept as JSON metadata on the producing materialization, they show
in the catalog exactly as the next step read them, and any process that reaches the instance (a later
`verification_report` alone, a run in its own Kubernetes pod) loads them without further storage.
"""

from __future__ import annotations

import types
from typing import Any, TypeVar, Union, get_args, get_origin

import dagster as dg
from pydantic import BaseModel

from w2z_dagster.lib.metadata import ValueMetadataSet

CATALOG = "catalog"
"""The resource key the assets store their values under."""

M = TypeVar("M", bound=BaseModel)


class MissingRecordError(RuntimeError):
    """Downstream asked for something upstream never recorded for this partition."""


def _model(annotation: Any) -> type[BaseModel]:
    """`MigrationPlan | None` → `MigrationPlan`: the input's declared type says what to validate."""
    if get_origin(annotation) in (Union, types.UnionType):
        return next(a for a in get_args(annotation) if a is not type(None))
    return annotation


class CatalogIOManager(dg.ConfigurableIOManager):
    """Stores a model (or None, "nothing to create") as metadata; loads the latest one of the partition."""

    def handle_output(self, context: dg.OutputContext, obj: BaseModel | None) -> None:
        value = dg.MetadataValue.null() if obj is None else dg.MetadataValue.json(obj.model_dump(mode="json"))
        context.add_output_metadata(dict(ValueMetadataSet(value=value)))

    def load_input(self, context: dg.InputContext) -> BaseModel | None:
        model = _model(context.dagster_type.typing_type)
        return recorded(context.instance, context.asset_key, context.asset_partition_key, model)


def recorded(instance: dg.DagsterInstance, asset: dg.AssetKey, partition: str, model: type[M]) -> M | None:
    """The value `asset` last stored for `partition`, as the next asset loads it."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=asset, asset_partitions=[partition]), limit=1
    ).records
    stored = ValueMetadataSet.extract(records[0].asset_materialization.metadata if records else {}).value
    if stored is None:
        raise MissingRecordError(
            f"'{asset.to_user_string()}' has no materialization for partition '{partition}' yet: "
            "materialize it (or the whole chain) first"
        )
    return None if isinstance(stored, dg.NullMetadataValue) else model.model_validate(stored.value)
