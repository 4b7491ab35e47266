"""Identity: both UUID sets streamed in key order and merged, drawing the content sample on the way."""

from __future__ import annotations

import hashlib
import heapq
from typing import NamedTuple

from w2z_dagster.core.merge import Side, UnsortedInputError, merge_sorted
from w2z_dagster.core.plan import FieldRole, MigrationPlan
from w2z_dagster.core.schema import CollectionSchema
from w2z_dagster.core.sink import MilvusSink
from w2z_dagster.core.source import WeaviateSource
from w2z_dagster.core.tenants import tenants_to_read
from w2z_dagster.core.transform import primary_key
from w2z_dagster.core.verification.report import IDENTITY, CheckResult, Listed, VerifyOptions


class SampleKey(NamedTuple):
    tenant: str | None
    uuid: str


def sample_rank(key: SampleKey) -> int:
    """A stable pseudo-random rank: the same objects are sampled on every run, on every machine."""
    digest = hashlib.blake2b(f"{key.tenant or ''}/{key.uuid}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


class Sampler:
    """Keeps the `size` keys of lowest rank seen so far (bottom-k), so a single pass over any number
    of ids yields a uniform, reproducible sample in O(size) memory."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._heap: list[tuple[int, str, str]] = []

    def offer(self, key: SampleKey) -> None:
        if self.size == 0:
            return
        item = (-sample_rank(key), key.tenant or "", key.uuid)
        if len(self._heap) < self.size:
            heapq.heappush(self._heap, item)
        elif item > self._heap[0]:
            heapq.heapreplace(self._heap, item)

    def picked(self, multi_tenant: bool) -> list[SampleKey]:
        """Lowest rank first, so any prefix of the sample is itself a sample."""
        ordered = sorted(self._heap, reverse=True)
        return [SampleKey(t if multi_tenant else None, u) for _, t, u in ordered]


def scan_identity(
    source: WeaviateSource,
    sink: MilvusSink,
    schema: CollectionSchema,
    plan: MigrationPlan,
    options: VerifyOptions,
) -> tuple[CheckResult, list[SampleKey]]:
    """Merge both id streams in primary-key order: count matched, missing and extra; sample the matched."""
    pk = plan.field_by_role(FieldRole.ID).name
    uuid_field = plan.field_by_role(FieldRole.UUID).name if plan.multi_tenant else pk
    sampler = Sampler(options.sample_size)
    missing, extra = Listed(options.listed), Listed(options.listed)
    matched = weaviate_total = milvus_total = 0
    error = ""
    try:
        for tenant in tenants_to_read(schema):
            merged = merge_sorted(
                source.ids(schema.name, tenant),
                sink.ids(plan, tenant, [uuid_field] if uuid_field != pk else []),
                left_key=lambda item, t=tenant: primary_key(plan, item[0], t),
                right_key=lambda row: row[pk],
                labels=("Weaviate", "Milvus"),
            )
            for item in merged:
                side = item.side
                if side is Side.BOTH:
                    matched += 1
                    sampler.offer(SampleKey(tenant, item.left[0]))
                elif side is Side.LEFT:
                    missing.add({"tenant": tenant or "", "uuid": item.left[0], "detail": "missing in Milvus"})
                else:
                    uuid = item.right.get(uuid_field, item.key)
                    extra.add({"tenant": tenant or "", "uuid": uuid, "detail": "extra in Milvus"})
                weaviate_total += side is not Side.RIGHT
                milvus_total += side is not Side.LEFT
    except UnsortedInputError as exc:
        error = str(exc)
    passed = not (missing.count or extra.count or error)
    summary = f"{matched} matched, {missing.count} missing in Milvus, {extra.count} extra in Milvus"
    result = CheckResult(
        name=IDENTITY,
        passed=passed,
        summary=summary + (f"; merge stopped: {error}" if error else ""),
        numbers={
            "weaviate": weaviate_total,
            "milvus": milvus_total,
            "matched": matched,
            "missing": missing.count,
            "extra": extra.count,
        },
        mismatches=missing.rows + extra.rows + ([{"detail": error}] if error else []),
    )
    return result, sampler.picked(plan.multi_tenant)
