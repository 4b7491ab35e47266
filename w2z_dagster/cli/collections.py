"""`w2z collections`: the source's collections, their target names and whether they are selected."""

from __future__ import annotations

from w2z_dagster.cli.context import Context, new_table
from w2z_dagster.core import selection
from w2z_dagster.core.names import collection_name
from w2z_dagster.core.profiles import limits_for


def command(ctx: Context) -> int:
    max_bytes = limits_for(ctx.profile).max_name_bytes
    table = new_table(
        "Collection", "Tenants", "Objects", "Vectors", "Target name", "Selected", title="Weaviate"
    )
    with ctx.source() as source:
        for name in source.list_collections():
            schema = source.read_schema(name)
            active = sum(t.active for t in schema.tenants)
            tenants = f"{len(schema.tenants)} ({active} active)" if schema.multi_tenant else "—"
            vectors = ", ".join(
                f"{v.name}({v.dimension or '?'}{', multi' if v.multi else ''})" for v in schema.vectors
            )
            selected = selection.is_selected(
                name, ctx.settings.include_collections, ctx.settings.exclude_collections
            )
            table.add_row(
                name,
                tenants,
                f"{schema.object_count:,}",
                vectors or "—",
                collection_name(name, max_bytes),
                "yes" if selected else "no",
            )
    ctx.out.print(table)
    return 0
