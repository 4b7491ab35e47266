"""`w2z translate-filter`: how a Weaviate `where` filter reads in Milvus on the migrated collection.

The plan is built exactly as the migration builds it (`ctx.plan`), from the source schema read through the
CLI's own source, so renamed fields, stored date forms, the tenant field and each text property's
tokenization (which decides whether a text filter translates) are the ones the target has.
"""

from __future__ import annotations

import sys
from pathlib import Path

from w2z_dagster.cli.context import Context, UsageError
from w2z_dagster.core.filter_translation import FilterError, translate_filter


def _where_text(ctx: Context) -> str:
    where: str | None = ctx.args.where
    file: Path | None = ctx.args.file
    if where is not None and file is not None:
        raise UsageError("give the where filter either as an argument or with --file, not both")
    if file is not None:
        try:
            return file.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot read the where filter from {file}: {exc.strerror}") from None
    if where is None or where == "-":
        return sys.stdin.read()
    return where


def command(ctx: Context) -> int:
    text = _where_text(ctx)
    if not text.strip():
        raise UsageError('no where filter given; pass its JSON, e.g. \'{"operator": "Equal", ...}\'')
    with ctx.source() as source:
        schema = source.read_schema(ctx.args.collection)
    plan = ctx.plan(schema)
    try:
        translation = translate_filter(text, plan, tenant=ctx.args.tenant)
    except FilterError as exc:
        raise UsageError(str(exc)) from None
    ctx.out.print(f"collection: {plan.target}", markup=False, highlight=False, soft_wrap=True)
    ctx.out.print(f"expression: {translation.expression}", markup=False, highlight=False, soft_wrap=True)
    if translation.tenant_condition is not None:
        ctx.out.print(
            f"tenant: {translation.tenant_condition}", markup=False, highlight=False, soft_wrap=True
        )
    ctx.out.print(f"filter: {translation.filter}", markup=False, highlight=False, soft_wrap=True)
    return 0
