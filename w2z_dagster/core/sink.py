"""The Milvus / Zilliz Cloud side: the only module that writes and reads through pymilvus.

Writes are upserts keyed by the Weaviate UUID (inserts only where the stream proves no key can repeat),
so replaying a write after a crash never duplicates a row.
A batch the target refuses because of one bad row is bisected, so every good row still lands and only the
bad ones come back as rejects. Only an input error (the server blames the data) is bisected: a server
failure is never blamed on the rows (see `write`). Requests are packed column by column ahead of the
write where `core/fast_paths.py` allows it, and by pymilvus's public `upsert` / `insert` otherwise.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

import grpc
from pymilvus import (
    AnnSearchRequest,
    DataType,
    Function,
    FunctionType,
    MilvusClient,
    MilvusException,
    RRFRanker,
    WeightedRanker,
)
from pymilvus.client.types import LoadState
from pymilvus.exceptions import DataNotMatchException, ParamError, SchemaMismatchRetryableException
from pymilvus.grpc_gen import schema_pb2

from w2z_dagster.core import fast_paths
from w2z_dagster.core.compatibility import plan_matches
from w2z_dagster.core.plan import (
    UPDATED_FIELD,
    FieldRole,
    FunctionPlan,
    IndexPlan,
    MigrationPlan,
    MilvusField,
)
from w2z_dagster.core.retry import RetryPolicy, grpc_status, is_input_error, is_transient, too_large
from w2z_dagster.core.schema import HybridQuery
from w2z_dagster.core.uri import REDACTED, redacted, uri_secrets

STRONG = "Strong"
EVENTUALLY = "Eventually"
ID_PAGE = 5000


MIN_VERSION = (2, 5)
AUTH_STATUSES = {grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED}
AUTH_CODES = {1800, 1801, 1802, 1803}
CONNECT_FAILED = 2

log = logging.getLogger(__name__)


class SinkError(RuntimeError):
    """A target problem the user must fix; the message says what and how."""


class ExpressionRefused(SinkError):
    """Milvus refused a filter expression: a gap of the translation, not a fault of the copy."""


def connect(uri: str, token: str | None, database: str) -> MilvusClient:
    """Check the database before anything is written: pymilvus would otherwise fail later, mid-run."""
    shown = redacted(uri)
    try:
        client = MilvusClient(uri=uri, token=token or "")
        if database and database != "default":
            if database not in client.list_databases():
                raise SinkError(
                    f"database '{database}' does not exist on the target: create it or set ZILLIZ_CLOUD_DATABASE"
                )
            client.use_database(database)
        return client
    except SinkError:
        raise
    except MilvusException as exc:
        if grpc_status(exc) in AUTH_STATUSES or exc.code in AUTH_CODES:
            raise SinkError(
                f"the target at {shown} refused the credentials: check ZILLIZ_CLOUD_API_KEY"
            ) from exc
        if exc.code == CONNECT_FAILED:
            raise SinkError(f"cannot reach the target at {shown}: check ZILLIZ_CLOUD_URI") from exc
        raise SinkError(f"cannot use the target at {shown}: {exc.message}") from exc
    except Exception as exc:
        detail = str(exc)
        for secret in uri_secrets(uri):
            detail = detail.replace(secret, REDACTED)
        raise SinkError(
            f"cannot reach the target at {shown}: check ZILLIZ_CLOUD_URI ({type(exc).__name__}: {detail})"
        ) from None


def _add_field(schema: Any, field: MilvusField) -> None:
    kwargs: dict[str, Any] = {}
    for key in ("max_length", "max_capacity", "dim"):
        value = getattr(field, key)
        if value is not None:
            kwargs[key] = value
    if field.element_type:
        kwargs["element_type"] = DataType[field.element_type]
    if field.nullable:
        kwargs["nullable"] = True
    if field.is_primary:
        kwargs["is_primary"] = True
    if field.is_partition_key:
        kwargs["is_partition_key"] = True
    if field.description:
        kwargs["description"] = field.description
    if field.enable_analyzer:
        kwargs["enable_analyzer"] = True
        kwargs["analyzer_params"] = field.analyzer_params
    schema.add_field(field.name, DataType[field.data_type], **kwargs)


def _described_field(raw: dict[str, Any]) -> MilvusField:
    params = raw.get("params") or {}
    element = raw.get("element_type")

    def _int(key: str) -> int | None:
        return int(params[key]) if key in params else None

    analyzer = params.get("analyzer_params")

    return MilvusField(
        name=raw["name"],
        data_type=DataType(raw["type"]).name,
        element_type=DataType(element).name if element not in (None, DataType.NONE, 0) else None,
        max_length=_int("max_length"),
        max_capacity=_int("max_capacity"),
        dim=_int("dim"),
        nullable=bool(raw.get("nullable", False)),
        is_primary=bool(raw.get("is_primary", False)),
        is_partition_key=bool(raw.get("is_partition_key", False)),
        enable_analyzer=str(params.get("enable_analyzer", "")).lower() == "true",
        analyzer_params=json.loads(analyzer) if isinstance(analyzer, str) else analyzer,
        role=FieldRole.PROPERTY,
        source=None,
        source_type="",
    )


KEYWORD_GROUP_LIMIT = 1000
"""Matches each keyword group answers when several are summed."""
RRF_K = 60
"""rankedFusion's constant, Weaviate's and RRFRanker's: a result at rank r (from 0) adds weight / (r + 60)."""
HYBRID_SET_LIMIT = 100
"""Results each search of a hybrid contributes at least, as Weaviate's QUERY_HYBRID_MAXIMUM_RESULTS."""


class Packed(NamedTuple):
    """Rows and the request columns built for them; `columns` is None where pymilvus packs them itself."""

    rows: list[dict[str, Any]]
    described: dict[str, Any]
    columns: list[schema_pb2.FieldData] | None


class MilvusSink:
    """Write side of one migration, and the read side of verification.

    With `fast_paths.request_columns`, writes send request columns packed ahead (`core/fast_paths.py`);
    without it, every write is pymilvus's public `upsert` / `insert` of the rows.
    """

    def __init__(
        self, client: MilvusClient, retry: RetryPolicy, fast: fast_paths.FastPaths = fast_paths.OFF
    ) -> None:
        self.client = client
        self.retry = retry
        self.fast_paths = fast
        self._loaded_targets: set[str] = set()
        self._write_schemas: dict[str, dict[str, Any]] = {}
        self._levels: dict[str, str] = {}

    def check_version(self) -> str:
        """The plan needs nullable fields and partition keys: Milvus 2.5 or a Zilliz cluster compatible with it."""
        version = str(self.retry.call(self.client.get_server_version))
        found = re.search(r"(\d+)\.(\d+)", version)
        if found and (int(found[1]), int(found[2])) < MIN_VERSION:
            raise SinkError(
                f"the target runs {version}, older than Milvus {MIN_VERSION[0]}.{MIN_VERSION[1]} which w2z needs "
                "(nullable fields): upgrade the cluster or migrate into a newer one"
            )
        return version

    def exists(self, target: str) -> bool:
        return bool(self.retry.call(lambda: self.client.has_collection(target)))

    def describe(self, target: str) -> list[MilvusField]:
        return _fields(self._described(target))

    def _described(self, target: str) -> dict[str, Any]:
        return self.retry.call(lambda: self.client.describe_collection(target))

    def describe_indexes(self, target: str) -> list[IndexPlan]:
        """The target's indexes with the parameters it reports (Lite reports none)."""
        names = self.retry.call(lambda: self.client.list_indexes(target))
        described = [self.retry.call(lambda n=n: self.client.describe_index(target, n)) for n in names]
        return [
            IndexPlan(
                field=d["field_name"],
                index_type=d["index_type"],
                metric=_metric(d.get("metric_type")),
                params={k: d[k] for k in ("bm25_k1", "bm25_b", "M", "efConstruction") if k in d},
            )
            for d in described
        ]

    def describe_functions(self, target: str) -> list[FunctionPlan]:
        return _functions(self._described(target))

    def ensure_collection(self, plan: MigrationPlan) -> bool:
        """Create the target, or accept an existing one only if its schema is what the plan needs."""
        if self.exists(plan.target):
            described = self._described(plan.target)
            _check_reusable(plan.target, described)
            differences = plan_matches(plan, _fields(described), _functions(described))
            if differences:
                raise SinkError(
                    f"target collection '{plan.target}' exists with a different schema ({'; '.join(differences)}): "
                    "drop it or migrate into another target"
                )
            self._loaded(plan.target)
            return False
        schema = self.client.create_schema(
            auto_id=False, enable_dynamic_field=False, description=plan.description
        )
        for field in plan.fields:
            _add_field(schema, field)
        for function in plan.functions:
            schema.add_function(
                Function(
                    name=function.name,
                    function_type=FunctionType.BM25,
                    input_field_names=[function.input_field],
                    output_field_names=[function.output_field],
                )
            )
        # Indexes are created without pymilvus's wait, which polls each one after sleeping 0.5 s: the
        # collection is empty, so they are built at once, and loading waits for them in any case.
        index_params = self.client.prepare_index_params()
        for index in plan.indexes:
            metric = {"metric_type": index.metric} if index.metric else {}
            index_params.add_index(
                field_name=index.field, index_type=index.index_type, params=index.params, **metric
            )
        self.retry.call(
            lambda: self.client.create_collection(plan.target, schema=schema, consistency_level=STRONG)
        )
        if len(index_params):
            self.retry.call(lambda: self.client.create_index(plan.target, index_params, sync=False))
            self.retry.call(lambda: self.client.load_collection(plan.target))
        return True

    def pack(self, target: str, rows: list[dict[str, Any]]) -> Packed | None:
        """The request columns for `rows`, built ahead so the write itself only sends them.

        The stream packs the next write while the previous one is in flight. Anything unusual (the
        target cannot be described now, rows pymilvus must pack itself) gives None, and `write` then
        does everything at send time, with its own retries and errors. None too where the fast path
        is off: pymilvus packs every write then.
        """
        if not rows or not self.fast_paths.request_columns:
            return None
        try:
            return self._pack(target, rows)
        except Exception as exc:  # write() repeats the work at send time and reports what is wrong
            log.debug("%d rows for %s not packed ahead, packed at send time: %r", len(rows), target, exc)
            return None

    def _pack(self, target: str, rows: list[dict[str, Any]]) -> Packed:
        described = self._write_schema(target, rows[0])
        try:
            return Packed(rows, described, fast_paths.request_columns(described, rows))
        except Exception as exc:
            # Anything unusual: pymilvus packs it, and raises its own errors for bad rows.
            log.debug("%d rows for %s left to pymilvus's packing: %r", len(rows), target, exc)
            return Packed(rows, described, None)

    def write(
        self,
        target: str,
        rows: list[dict[str, Any]],
        *,
        insert: bool = False,
        packed: Packed | None = None,
    ) -> list[tuple[dict[str, Any], str]]:
        """Upsert rows; returns the rows the target refused, each with the target's reason.

        With `insert` the caller vouches that the target holds none of the keys, and one plain insert is
        tried first (Milvus takes it faster than an upsert, which also deletes). pymilvus's own retries are
        off for it: a retried insert whose first attempt did land would duplicate rows. Whatever makes the
        insert fail, the rows then go the idempotent upsert way, which retries and bisects as usual.
        `packed` is `pack(target, rows)` done earlier; it is used for these very rows only.

        Only an input error (Milvus blames the data) is bisected down to the rows at fault; a request too
        large for the server is halved at once. Any other server error the retries could not absorb
        fails the write as a `SinkError` naming its code, so no row is blamed and no checkpoint moves
        past it; backpressure that outlasts its long backoff surfaces as `Overloaded`.
        """
        if not rows:
            return []
        ready = packed if packed is not None and packed.rows is rows else None
        if insert:
            try:
                self._send(target, rows, True, ready)
                return []
            except Exception as exc:  # the upsert below is correct whatever the insert left behind
                log.debug("insert of %d rows into %s failed, upserting them: %r", len(rows), target, exc)
        try:
            self._upsert(target, rows, ready)
            return []
        except Exception as exc:
            if too_large(exc):
                if len(rows) == 1:
                    raise SinkError(
                        f"the target refuses even a single row as too large ({_reason(exc)}): raise the "
                        "server's gRPC message limit (proxy.grpc.serverMaxRecvSize) or exclude the property"
                    ) from None
            elif isinstance(exc, SchemaMismatchRetryableException):
                raise SinkError(
                    f"target collection '{target}' kept changing while w2z wrote to it (schema mismatch "
                    "again after describing it anew): stop whatever alters it, then run again"
                ) from None
            elif _row_error(exc):
                if len(rows) == 1:
                    return [(rows[0], _reason(exc))]
            elif isinstance(exc, MilvusException) and not is_transient(exc):
                raise SinkError(
                    f"the target failed a write of {len(rows)} rows (code {exc.code}: {_reason(exc)}); "
                    "nothing after the last checkpoint is recorded: run again to resume once the target is "
                    "healthy"
                ) from None
            else:
                raise
            half = len(rows) // 2
            return self.write(target, rows[:half]) + self.write(target, rows[half:])

    def _upsert(self, target: str, rows: list[dict[str, Any]], packed: Packed | None) -> None:
        """One upsert, retried; a target altered since it was described is described again, once.

        The request carries the described `update_timestamp`; Milvus refuses it with SchemaMismatch once
        the collection changed (a field added, a property altered), and a fresh description fixes that.
        """
        try:
            self.retry.call(lambda: self._send(target, rows, False, packed))
        except SchemaMismatchRetryableException:
            self._write_schemas.pop(target, None)
            self.retry.call(lambda: self._send(target, rows, False, None))

    def _send(self, target: str, rows: list[dict[str, Any]], insert: bool, packed: Packed | None) -> None:
        """One insert or upsert request, of columns packed ahead where the fast path can (see there)."""
        # Rate limits are backpressure that `RetryPolicy` waits out and reports; pymilvus would retry them
        # silently for minutes.
        retries: dict[str, Any] = {"retry_on_rate_limit": False}
        if insert:
            retries["retry_times"] = 0
        if self.fast_paths.request_columns:
            packed = packed or self._pack(target, rows)
            if packed.columns is not None:
                fast_paths.send_columns(
                    self.client, target, packed.described, packed.columns, len(rows), insert, **retries
                )
                return
        (self.client.insert if insert else self.client.upsert)(target, rows, **retries)

    def _write_schema(self, target: str, row: dict[str, Any]) -> dict[str, Any]:
        """The described target, fetched again when the rows stop matching it (a recreated target)."""
        described = self._write_schemas.get(target)
        if described is None or _written_names(described) != set(row):
            described = self.retry.call(lambda: self.client.describe_collection(target))
            self._write_schemas[target] = described
        return described

    def keys_after(self, plan: MigrationPlan, tenant: str | None, after: str | None, limit: int) -> list[str]:
        """Up to `limit` primary keys of `tenant` above `after` (any of the tenant's keys when None).

        Tells the stream which keys an insert could duplicate; key order does not matter here. On a real
        Milvus the limit counts duplicate rows before they are removed: compare with `count_after`.
        """
        if not self._loaded(plan.target):
            return []
        pk = plan.field_by_role(FieldRole.ID).name
        rows = self.retry.call(
            lambda: self.client.query(
                plan.target,
                filter=self._above(plan, tenant, after),
                output_fields=[pk],
                limit=limit,
                consistency_level=STRONG,
            )
        )
        return [row[pk] for row in rows]

    def count_after(self, plan: MigrationPlan, tenant: str | None, after: str | None) -> int:
        """Rows of `tenant` with a key above `after`, every copy of a duplicated key counted (Strong)."""
        if not self._loaded(plan.target):
            return 0
        result = self.retry.call(
            lambda: self.client.query(
                plan.target,
                filter=self._above(plan, tenant, after),
                output_fields=["count(*)"],
                consistency_level=STRONG,
            )
        )
        return int(result[0]["count(*)"])

    def _above(self, plan: MigrationPlan, tenant: str | None, after: str | None) -> str:
        pk = plan.field_by_role(FieldRole.ID).name
        above = f'{pk} > "{after}"' if after is not None else ""
        return " and ".join(c for c in (self._tenant_filter(plan, tenant), above) if c) or f'{pk} != ""'

    def count_keys(self, plan: MigrationPlan, keys: Sequence[str], level: str = STRONG) -> int:
        """Rows holding any of `keys`, each copy counted (Strong): more rows than keys means duplicates.

        `count(*)` counts every row, where `query` and `get` return one row per key; and a key list is
        looked up through the primary-key index, so this stays cheap on any collection size. Like every
        Strong read it waits for the target's next time tick (~0.2-0.6 s on a real Milvus); `level`
        "Eventually" skips that wait, for re-counts of rows a Strong read has already shown visible.
        """
        if not keys or not self._loaded(plan.target):
            return 0
        pk = plan.field_by_role(FieldRole.ID).name
        result = self.retry.call(
            lambda: self.client.query(
                plan.target,
                filter=f"{pk} in {json.dumps(list(keys))}",
                output_fields=["count(*)"],
                consistency_level=level,
            )
        )
        return int(result[0]["count(*)"])

    def updated_times(self, plan: MigrationPlan, keys: Sequence[str]) -> dict[str, int]:
        """The Weaviate last-update ms each key's row carries (Strong); a key without a row is absent."""
        if not keys or not self._loaded(plan.target):
            return {}
        pk = plan.field_by_role(FieldRole.ID).name
        rows = self.retry.call(
            lambda: self.client.query(
                plan.target,
                filter=f"{pk} in {json.dumps(list(keys))}",
                output_fields=[pk, UPDATED_FIELD],
                consistency_level=STRONG,
            )
        )
        return {row[pk]: int(row.get(UPDATED_FIELD) or 0) for row in rows}

    def consistency(self, target: str) -> str:
        """The target's own consistency level: what reads without an explicit level (the user's) get."""
        if target not in self._levels:
            described = self.retry.call(lambda: self.client.describe_collection(target))
            self._levels[target] = _level_name(described)
        return self._levels[target]

    def _tenant_filter(self, plan: MigrationPlan, tenant: str | None) -> str:
        if tenant is None:
            return ""
        field = plan.field_by_role(FieldRole.TENANT).name
        return f'{field} == "{tenant}"'

    def _outside_filter(self, plan: MigrationPlan, tenants: Sequence[str]) -> str:
        field = plan.field_by_role(FieldRole.TENANT).name
        return f"{field} not in {json.dumps(list(tenants))}" if tenants else f'{field} != ""'

    def count_outside(self, plan: MigrationPlan, tenants: Sequence[str]) -> int:
        """Exact `count(*)` of the rows of every tenant not in `tenants` (tenants Weaviate no longer has)."""
        if not self._loaded(plan.target):
            return 0
        result = self.retry.call(
            lambda: self.client.query(
                plan.target,
                filter=self._outside_filter(plan, tenants),
                output_fields=["count(*)"],
                consistency_level=STRONG,
            )
        )
        return int(result[0]["count(*)"])

    def tenants_outside(self, plan: MigrationPlan, tenants: Sequence[str]) -> Iterator[str]:
        """The tenants the target holds rows of that are not in `tenants`, one query each.

        Milvus has no DISTINCT; asking for one row outside every tenant seen so far costs one query per
        tenant, however many rows each has.
        """
        if not self._loaded(plan.target):
            return
        field = plan.field_by_role(FieldRole.TENANT).name
        seen = list(tenants)
        while rows := self.retry.call(
            lambda: self.client.query(
                plan.target,
                filter=self._outside_filter(plan, seen),
                output_fields=[field],
                limit=1,
                consistency_level=STRONG,
            )
        ):
            seen.append(rows[0][field])
            yield rows[0][field]

    def delete_tenant(self, plan: MigrationPlan, tenant: str) -> None:
        self.retry.call(lambda: self.client.delete(plan.target, filter=self._tenant_filter(plan, tenant)))

    def _loaded(self, target: str) -> bool:
        """Whether the target exists, loading it first: Milvus keeps a reopened collection released."""
        if target in self._loaded_targets:
            return True
        if not self.exists(target):
            return False
        state = self.retry.call(lambda: self.client.get_load_state(target))
        if state.get("state") != LoadState.Loaded:
            self.retry.call(lambda: self.client.load_collection(target))
        self._loaded_targets.add(target)
        return True

    def count(self, plan: MigrationPlan, tenant: str | None = None) -> int:
        """Exact `count(*)` with strong consistency; collection stats are inexact after upserts."""
        if not self._loaded(plan.target):
            return 0
        result = self.retry.call(
            lambda: self.client.query(
                plan.target,
                filter=self._tenant_filter(plan, tenant),
                output_fields=["count(*)"],
                consistency_level=STRONG,
            )
        )
        return int(result[0]["count(*)"])

    def ids(
        self, plan: MigrationPlan, tenant: str | None, fields: Sequence[str] = ()
    ) -> Iterator[dict[str, Any]]:
        """Rows in primary-key order (id fields plus `fields`), streamed in pages for bounded memory.

        Only Milvus's query iterator promises key order (a plain query with a limit does not), and the
        merge-based checks rely on it, so the order is checked as the rows stream by. The iterator reads
        at the collection's own consistency level whatever it is asked (pymilvus 3.0.2 drops the level
        of iterator requests, `client/ts_utils.py`), so on a target that is not Strong a Strong count of
        the same rows goes first: it returns only once the query nodes hold every write acknowledged
        before it, and the iterator then reads at a later timestamp, so it sees them all.
        """
        if not self._loaded(plan.target):
            return
        if self.consistency(plan.target) != STRONG:
            self.count(plan, tenant)
        pk = plan.field_by_role(FieldRole.ID).name
        iterator = self.retry.call(
            lambda: self.client.query_iterator(
                plan.target,
                batch_size=ID_PAGE,
                filter=self._tenant_filter(plan, tenant),
                output_fields=[pk, *fields],
            )
        )
        previous = ""
        try:
            while page := self.retry.call(iterator.next):
                for row in page:
                    if row[pk] <= previous:
                        raise SinkError(
                            f"the target returned '{row[pk]}' after '{previous}': keys out of order"
                        )
                    previous = row[pk]
                    yield row
        finally:
            iterator.close()

    def get(self, plan: MigrationPlan, keys: Sequence[str]) -> list[dict[str, Any]]:
        if not keys or not self._loaded(plan.target):
            return []
        return list(
            self.retry.call(
                lambda: self.client.get(
                    plan.target, ids=list(keys), output_fields=["*"], consistency_level=STRONG
                )
            )
        )

    def delete(self, plan: MigrationPlan, keys: Sequence[str]) -> None:
        if keys:
            self.retry.call(lambda: self.client.delete(plan.target, ids=list(keys)))

    def search(
        self,
        plan: MigrationPlan,
        field: str,
        vector: Sequence[float],
        k: int,
        tenant: str | None,
        expression: str | None = None,
    ) -> list[dict[str, Any]]:
        """`expression`, when given, is the whole filter (a translated one carries its tenant condition)."""
        pk = plan.field_by_role(FieldRole.ID).name
        if not self._loaded(plan.target):
            return []
        condition = self._tenant_filter(plan, tenant) if expression is None else expression

        def call() -> Any:
            return self.client.search(
                plan.target,
                data=[list(vector)],
                anns_field=field,
                limit=k,
                filter=condition,
                output_fields=[pk],
                consistency_level=STRONG,
            )

        hits = self.retry.call(call) if expression is None else self._filtered(expression, call)
        return [dict(h["entity"]) for h in hits[0]]

    def keyword_search(
        self, plan: MigrationPlan, text: str, k: int, tenant: str | None
    ) -> list[tuple[str, float]]:
        """BM25 over every keyword group, scores summed as Weaviate sums its properties' (keys, best first).

        Scores are taken by magnitude: Milvus Lite reports a BM25 score as a negative distance. With
        several groups each answers KEYWORD_GROUP_LIMIT, so a sum is not cut short by one group's k.
        """
        if not plan.functions or not self._loaded(plan.target):
            return []
        pk = plan.field_by_role(FieldRole.ID).name
        limit = k if len(plan.functions) == 1 else max(k, KEYWORD_GROUP_LIMIT)
        scores: dict[str, float] = {}
        for function in plan.functions:
            hits = self.retry.call(
                lambda f=function: self.client.search(
                    plan.target,
                    data=[text],
                    anns_field=f.output_field,
                    limit=limit,
                    filter=self._tenant_filter(plan, tenant),
                    search_params={"metric_type": "BM25"},
                    output_fields=[pk],
                    consistency_level=STRONG,
                )
            )
            for hit in hits[0]:
                key = str(hit["entity"][pk])
                scores[key] = scores.get(key, 0.0) + abs(float(hit["distance"]))
        return sorted(scores.items(), key=lambda item: -item[1])[:k]

    def hybrid_search(
        self, plan: MigrationPlan, field: str, query: HybridQuery, k: int, tenant: str | None
    ) -> list[tuple[str, float]]:
        """Weaviate's hybrid as Milvus `hybrid_search`: the vector request and one BM25 request per
        keyword group, fused by WeightedRanker (alpha on the vector, 1 - alpha shared by the keyword
        requests) for relativeScoreFusion or RRFRanker(60) for rankedFusion (keys, best first).

        RRFRanker weighs every request alike, so with several keyword groups it would give keyword
        matches more than Weaviate's one BM25F set: then rankedFusion is done here over the vector
        search and the summed keyword search, as docs/cutover.md shows an application doing it."""
        if not self._loaded(plan.target):
            return []
        pk = plan.field_by_role(FieldRole.ID).name
        where = self._tenant_filter(plan, tenant)
        limit = max(k, HYBRID_SET_LIMIT)
        if query.fusion == "ranked" and len(plan.functions) > 1:
            vector = [str(e[pk]) for e in self.search(plan, field, query.vector, limit, tenant)]
            keyword = [key for key, _ in self.keyword_search(plan, query.text, limit, tenant)]
            return ranked_fusion(vector, keyword, query.alpha)[:k]
        index = plan.index_for(field)
        requests = [
            AnnSearchRequest(
                data=[list(query.vector)],
                anns_field=field,
                param={"metric_type": index.metric} if index else {},
                limit=limit,
                expr=where or None,
            )
        ]
        requests += [
            AnnSearchRequest(
                data=[query.text],
                anns_field=f.output_field,
                param={"metric_type": "BM25"},
                limit=limit,
                expr=where or None,
            )
            for f in plan.functions
        ]
        keyword_weight = (1 - query.alpha) / max(len(plan.functions), 1)
        ranker = (
            RRFRanker(RRF_K)
            if query.fusion == "ranked"
            else WeightedRanker(query.alpha, *[keyword_weight] * len(plan.functions))
        )
        hits = self.retry.call(
            lambda: self.client.hybrid_search(
                plan.target, requests, ranker, limit=k, output_fields=[pk], consistency_level=STRONG
            )
        )
        return [(str(h["entity"][pk]), float(h["distance"])) for h in hits[0]]

    def matching(self, plan: MigrationPlan, expression: str, limit: int) -> list[str]:
        """The bare Weaviate UUIDs of at most `limit` rows passing the expression, read Strong."""
        if not self._loaded(plan.target):
            return []
        role = FieldRole.UUID if plan.multi_tenant else FieldRole.ID
        name = plan.field_by_role(role).name
        rows = self._filtered(
            expression,
            lambda: self.client.query(
                plan.target, filter=expression, output_fields=[name], limit=limit, consistency_level=STRONG
            ),
        )
        return [str(r[name]) for r in rows]

    def count_matching(self, plan: MigrationPlan, expression: str) -> int:
        if not self._loaded(plan.target):
            return 0
        result = self._filtered(
            expression,
            lambda: self.client.query(
                plan.target, filter=expression, output_fields=["count(*)"], consistency_level=STRONG
            ),
        )
        return int(result[0]["count(*)"])

    def _filtered(self, expression: str, call: Callable[[], Any]) -> Any:
        """A read under a caller's expression; an error that retrying cannot cure is reported as the
        expression's, so a translation gap shows Milvus's own message instead of failing the caller."""
        try:
            return self.retry.call(call)
        except MilvusException as exc:
            if is_transient(exc):
                raise
            raise ExpressionRefused(f"Milvus refused the expression {expression}: {_reason(exc)}") from None

    def drop(self, target: str) -> None:
        self._loaded_targets.discard(target)
        self._levels.pop(target, None)
        if self.exists(target):
            self.retry.call(lambda: self.client.drop_collection(target))


_LEVEL_NAMES = {0: "Strong", 1: "Session", 2: "Bounded", 3: "Eventually", 4: "Customized"}


def _fields(described: dict[str, Any]) -> list[MilvusField]:
    return [_described_field(f) for f in described["fields"]]


def _functions(described: dict[str, Any]) -> list[FunctionPlan]:
    """The target's BM25 functions, as the plan spells them (no sources: Milvus does not know them)."""
    return [
        FunctionPlan(
            name=f["name"],
            input_field=f["input_field_names"][0],
            output_field=f["output_field_names"][0],
            sources=(),
            tokenization="",
        )
        for f in described.get("functions") or ()
        if FunctionType(f["type"]) is FunctionType.BM25
    ]


def _written_names(described: dict[str, Any]) -> set[str]:
    """The fields a row carries: all but the BM25 outputs, which Milvus fills itself."""
    return {f["name"] for f in described["fields"] if not f.get("is_function_output")}


def _metric(described: str | None) -> str:
    """A scalar index reports metric NONE (Lite) or nothing; the plan spells it empty."""
    return "" if described in (None, "", "NONE") else described


def _level_name(described: dict[str, Any]) -> str:
    level = described.get("consistency_level", 0)
    return described.get("consistency_level_name") or _LEVEL_NAMES.get(level, str(level))


def _check_reusable(target: str, described: dict[str, Any]) -> None:
    """An existing target w2z cannot keep exact: one that makes its own primary keys.

    With `auto_id` Milvus gives every upserted row a new key (`task_upsert.go`), so reruns and syncs
    would pile up copies instead of replacing them. A dynamic field is harmless (w2z writes declared
    fields only), and any consistency level is read Strong where correctness needs it.
    """
    if described.get("auto_id") or any(f.get("auto_id") for f in described.get("fields", [])):
        raise SinkError(
            f"target collection '{target}' generates its own primary keys (auto_id), so every upsert "
            "would add a row instead of replacing one: drop it or migrate into another target"
        )


def _row_error(exc: BaseException) -> bool:
    """Whether the rows are at fault: pymilvus refused them before sending, or Milvus called it input."""
    if isinstance(exc, SchemaMismatchRetryableException):
        return False
    return isinstance(exc, (DataNotMatchException, ParamError)) or is_input_error(exc)


def _reason(exc: BaseException) -> str:
    return str(getattr(exc, "message", "") or exc)


@contextmanager
def open_sink(
    uri: str, token: str | None, database: str, retry: RetryPolicy, use_fast_paths: bool = True
) -> Iterator[MilvusSink]:
    """`use_fast_paths` is W2Z_FAST_PATHS: off, every write is pymilvus's public upsert or insert."""
    client = connect(uri, token, database)
    try:
        yield MilvusSink(client, retry, fast_paths.chosen(use_fast_paths))
    finally:
        client.close()


def ranked_fusion(vector: Sequence[str], keyword: Sequence[str], alpha: float) -> list[tuple[str, float]]:
    """Weaviate's rankedFusion (`hybrid_fusion.go`): each set adds weight / (rank + 60), rank from 0."""
    scores: dict[str, float] = {}
    for keys, weight in ((vector, alpha), (keyword, 1 - alpha)):
        for rank, key in enumerate(keys):
            scores[key] = scores.get(key, 0.0) + weight / (rank + RRF_K)
    return sorted(scores.items(), key=lambda item: -item[1])
