"""Each fast path produces exactly what the public library path produces, and each can be turned off.

The decoder's arrays are bit-equal to the client's lists, the packed columns equal pymilvus's own
`Prepare` output, and a migration with the fast paths off lands the same rows as one with them on. The
capability check is shown stand-in internals (never a patched library), and `W2Z_FAST_PATHS=false`
is followed from the environment through the resources to every path.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import dagster as dg
import numpy as np
import pytest
import weaviate

# Private by name: protobuf's own varint encoder, the reference `fast_paths.varint` must match.
from google.protobuf.internal.encoder import _VarintBytes
from pymilvus import MilvusClient
from pymilvus.client.prepare import Prepare

# Private by name: the client's vector unpacking, which calls the decoder the fast path swaps.
from weaviate.collections.grpc.shared import _Unpack

from w2z_dagster.core import fast_paths
from w2z_dagster.core.checkpoint import Checkpoint
from w2z_dagster.core.fast_paths import INSTALLED, OFF, FastPaths, capabilities
from w2z_dagster.core.mapping import build_plan
from w2z_dagster.core.plan import FieldRole, MigrationPlan
from w2z_dagster.core.profiles import profile_for_uri
from w2z_dagster.core.retry import RetryPolicy
from w2z_dagster.core.schema import CollectionSchema
from w2z_dagster.core.settings import load_settings
from w2z_dagster.core.sink import MilvusSink, open_sink
from w2z_dagster.core.source import WeaviateSource, open_source
from w2z_dagster.core.stream import migrate
from w2z_dagster.core.transform import to_rows
from w2z_dagster.defs.assets import MigrationConfig, migrated_batches, source_schema, zilliz_collection
from w2z_dagster.defs.resources import WeaviateResource, ZillizResource, resources_from_settings
from w2z_dagster_tests.support.seeding import seed_articles
from w2z_dagster_tests.support.weaviate_server import WeaviateTestServer

RETRY = RetryPolicy(2, 0.01)
ALL_ON = FastPaths(vector_arrays=True, request_columns=True, frozen_heap=True)
DEMO = ("DemoArticle", "DemoTenants", "DemoLegacy")


def _grpc(server: WeaviateTestServer) -> str:
    return f"http://{server.host}:{server.grpc_port}"


@pytest.fixture
def source(weaviate_server: WeaviateTestServer) -> Iterator[WeaviateSource]:
    with open_source(weaviate_server.http_url, _grpc(weaviate_server), None, RETRY) as opened:
        yield opened


@pytest.fixture
def sink(milvus_uri: str) -> Iterator[MilvusSink]:
    with open_sink(milvus_uri, None, "default", RETRY) as opened:
        yield opened


def _prepare(source: WeaviateSource, sink: MilvusSink, name: str) -> tuple[CollectionSchema, MigrationPlan]:
    schema = source.read_schema(name)
    plan = build_plan(schema, profile_for_uri("./target.db"))
    sink.ensure_collection(plan)
    return schema, plan


def test_the_installed_libraries_have_every_internal_as_pinned(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger=fast_paths.__name__):
        found = capabilities(INSTALLED)

    assert found == ALL_ON
    assert caplog.records == []
    assert fast_paths.chosen(True) == ALL_ON
    assert fast_paths.chosen(False) == OFF


def _decoder_returning(decoded: Any) -> SimpleNamespace:
    return SimpleNamespace(decode_float32s=lambda byte_vector: decoded)


def _handler(**overrides: Any) -> type:
    """A stand-in GrpcHandler: the real one's methods, some replaced."""
    return type("GrpcHandler", (INSTALLED.grpc_handler,), overrides)


def _resend(self: Any, collection_name: str, entities: list, *args: Any, **kwargs: Any) -> Any:
    """A request builder that ignores the prebuilt request it is given."""
    return type(kwargs.get("insert_param") or kwargs["upsert_param"])()


def _renamed_upsert(self: Any, name: str, rows: list, partition: Any = None, **kwargs: Any) -> None:
    """An upsert whose parameters no longer match the pinned ones."""


@pytest.mark.parametrize(
    ("path", "internals", "reason"),
    [
        ("vector_arrays", {"byte_ops": SimpleNamespace()}, "weaviate-client has no _ByteOps.decode_float32s"),
        (
            "vector_arrays",
            {"byte_ops": _decoder_returning((1.5, -0.0))},
            "weaviate-client's _ByteOps.decode_float32s no longer returns the list of float32 values",
        ),
        (
            "vector_arrays",
            {"byte_ops": None},
            "weaviate-client has no _ByteOps.decode_float32s",
        ),
        (
            "request_columns",
            {"milvus_client": type("MilvusClient", (), {"_generate_call_context": lambda self: None})},
            "pymilvus's MilvusClient has no _get_connection()",
        ),
        (
            "request_columns",
            {"grpc_handler": _handler(upsert=_renamed_upsert)},
            "pymilvus's GrpcHandler.upsert takes (name, rows, partition) now",
        ),
        (
            "request_columns",
            {"grpc_handler": _handler(_prepare_batch_upsert_request=_resend)},
            "pymilvus's GrpcHandler rebuilds a prebuilt request instead of sending it",
        ),
        (
            "request_columns",
            {"prepare": SimpleNamespace(row_insert_param=lambda rows, fields: None)},
            "pymilvus's Prepare.row_insert_param takes (rows, fields) now",
        ),
        (
            "frozen_heap",
            {"collector": SimpleNamespace(unfreeze=gc.unfreeze)},
            "this Python has no gc.freeze()",
        ),
    ],
)
def test_the_capability_check_turns_off_a_path_whose_internal_changed(
    caplog: pytest.LogCaptureFixture, path: str, internals: dict[str, Any], reason: str
) -> None:
    with caplog.at_level(logging.WARNING, logger=fast_paths.__name__):
        found = capabilities(dataclasses.replace(INSTALLED, **internals))

    assert found == ALL_ON._replace(**{path: False})
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        (
            "WARNING",
            f"fast path {path} is off: {reason} (w2z was built against {fast_paths.PINNED}); the public "
            "library path is used, which is correct but costs more CPU per object",
        )
    ]


def _float32_bytes() -> list[bytes]:
    rng = np.random.default_rng(11)
    specials = np.array([0.0, -0.0, np.inf, -np.inf, 1e-45, -1e-45, 3.4028235e38, 1.1754944e-38], "<f4")
    return [
        b"",
        specials.tobytes(),
        rng.standard_normal(768).astype("<f4").tobytes(),
        (rng.random(1536, dtype=np.float32) * 1e6).astype("<f4").tobytes(),
        rng.integers(0, 2**32, 256, dtype=np.uint32).astype("<u4").tobytes(),
    ]


QUIET = np.uint32(0x0040_0000)
"""The quiet bit of a float32 NaN."""


@pytest.mark.parametrize("raw", _float32_bytes(), ids=["empty", "specials", "768", "1536", "any-bits"])
def test_the_decoder_arrays_are_bit_equal_to_the_clients_lists(raw: bytes) -> None:
    theirs = np.asarray(fast_paths.client_decode_float32s(raw), dtype="<f4")
    with fast_paths.vector_arrays(True):
        ours = fast_paths.decode_float32s(raw)
        through_the_client = _Unpack.single(raw)
    outside = fast_paths.decode_float32s(raw)

    assert isinstance(ours, np.ndarray) and ours.dtype == np.dtype("<f4")
    assert ours.tobytes() == raw
    assert isinstance(through_the_client, np.ndarray) and through_the_client.tobytes() == raw
    # Bit for bit the client's values, except that its float round trip quiets a signalling NaN (only
    # arbitrary bits hold one): the array keeps the wire's bits.
    bits = ours.view("<u4")
    signalling = np.isnan(ours) & ((bits & QUIET) == 0)
    assert theirs.view("<u4").tolist() == np.where(signalling, bits | QUIET, bits).tolist()
    assert bool(signalling.any()) == (raw == _float32_bytes()[-1])
    assert type(outside) is list and np.asarray(outside, dtype="<f4").tobytes() == theirs.tobytes()


def test_the_decoder_answers_arrays_only_in_the_thread_asking_for_them() -> None:
    raw = np.arange(4, dtype="<f4").tobytes()
    inside = threading.Event()
    release = threading.Event()
    seen: dict[str, Any] = {}

    def reader() -> None:
        with fast_paths.vector_arrays(True):
            seen["reader"] = _Unpack.single(raw)
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=reader)
    thread.start()
    assert inside.wait(10)
    seen["other"] = _Unpack.single(raw)
    with fast_paths.vector_arrays(False):
        seen["off"] = _Unpack.single(raw)
    release.set()
    thread.join(10)

    assert type(seen["reader"]) is np.ndarray
    assert seen["other"] == seen["off"] == [0.0, 1.0, 2.0, 3.0]


def test_cursor_pages_carry_the_same_vectors_with_the_fast_path_off(
    weaviate_server: WeaviateTestServer, weaviate_client: weaviate.WeaviateClient
) -> None:
    seed_articles(weaviate_client, n=12, dim=16)
    pages = {}
    for on in (True, False):
        with open_source(weaviate_server.http_url, _grpc(weaviate_server), None, RETRY, False, on) as opened:
            schema = opened.read_schema("Articles")
            pages[on] = [o for page in opened.pages(schema, None, None, 5) for o in page]

    assert {type(o.vectors["default"]) for o in pages[True]} == {np.ndarray}
    assert {type(o.vectors["default"]) for o in pages[False]} == {list}
    assert [(o.uuid, np.asarray(o.vectors["default"], "<f4").tobytes()) for o in pages[False]] == [
        (o.uuid, o.vectors["default"].tobytes()) for o in pages[True]
    ]
    assert [o.model_dump(exclude={"vectors"}) for o in pages[False]] == [
        o.model_dump(exclude={"vectors"}) for o in pages[True]
    ]


def test_columns_are_packed_exactly_as_pymilvus_packs_rows(
    weaviate_server: WeaviateTestServer, source: WeaviateSource, sink: MilvusSink
) -> None:
    weaviate_server.seed_demo()
    for name in DEMO:
        schema, plan = _prepare(source, sink, name)
        tenant = next((t.name for t in schema.tenants if t.active), None)
        rows = to_rows(next(source.pages(schema, tenant, None, 50)), plan).rows
        described = sink.client.describe_collection(plan.target)

        ours = {d.field_name: d for d in fast_paths.request_columns(described, rows)}
        theirs = {
            d.field_name: d
            for d in Prepare.row_insert_param(plan.target, rows, "", described["fields"]).fields_data
        }

        assert ours == theirs, name
        # Milvus fills the BM25 outputs itself: neither packing sends them.
        assert list(ours) == [f["name"] for f in described["fields"] if not f.get("is_function_output")]


def test_every_fallback_of_the_packing_is_a_debug_line(
    weaviate_client: weaviate.WeaviateClient,
    source: WeaviateSource,
    sink: MilvusSink,
    caplog: pytest.LogCaptureFixture,
) -> None:
    seed_articles(weaviate_client, n=3)
    schema, plan = _prepare(source, sink, "Articles")
    rows = to_rows(next(source.pages(schema, None, None, 3)), plan).rows
    mismatched = [{**row, "extra": 1} for row in rows]

    with caplog.at_level(logging.DEBUG, logger="w2z_dagster.core.sink"):
        packed = sink.pack("Articles", rows)
        left_to_pymilvus = sink.pack("Articles", mismatched)
        not_ahead = sink.pack("Missing", rows)

    assert packed is not None and packed.columns is not None
    assert left_to_pymilvus is not None and left_to_pymilvus.columns is None
    assert not_ahead is None
    ours = [r for r in caplog.records if r.name == "w2z_dagster.core.sink"]
    assert [(r.levelname, r.getMessage().split(": ")[0]) for r in ours] == [
        ("DEBUG", "3 rows for Articles left to pymilvus's packing"),
        ("DEBUG", "3 rows for Missing not packed ahead, packed at send time"),
    ]
    assert "rows do not match the target's fields" in ours[0].getMessage()


@pytest.mark.parametrize("value", [0, 1, 127, 128, 300, 16_383, 16_384, 3072, 65_536 * 4, 2**31, 2**63 - 1])
def test_the_varint_is_protobufs_own(value: int) -> None:
    assert fast_paths.varint(value) == _VarintBytes(value)


def _all_rows(uri: str, plan: MigrationPlan) -> list[dict[str, Any]]:
    pk = plan.field_by_role(FieldRole.ID).name
    client = MilvusClient(uri)
    try:
        rows = client.query(plan.target, filter=f'{pk} != ""', output_fields=["*"], limit=16_384)
    finally:
        client.close()
    return sorted(rows, key=lambda row: row[pk])


class SendSpy:
    """Counts which send each write took; the real sends run unchanged."""

    def __init__(self, sink: MilvusSink, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[str] = []
        for name in ("upsert", "insert"):
            monkeypatch.setattr(sink.client, name, self._counted(name, getattr(sink.client, name)))
        monkeypatch.setattr(fast_paths, "send_columns", self._counted("columns", fast_paths.send_columns))

    def _counted(self, name: str, send: Any) -> Any:
        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            return send(*args, **kwargs)

        return counted


@pytest.mark.slow
@pytest.mark.parametrize("insert_when_safe", [False, True])
def test_a_migration_with_fast_paths_off_lands_the_same_rows_as_with_them_on(
    weaviate_server: WeaviateTestServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    insert_when_safe: bool,
) -> None:
    weaviate_server.seed_demo()
    landed: dict[bool, dict[str, list[dict[str, Any]]]] = {}
    sends: dict[bool, set[str]] = {}
    frozen: dict[bool, set[int]] = {}
    for on in (True, False):
        uri = str(tmp_path / f"fast-{on}.db")
        landed[on], frozen[on] = {}, set()
        with (
            open_source(weaviate_server.http_url, _grpc(weaviate_server), None, RETRY, False, on) as source,
            open_sink(uri, None, "default", RETRY, on) as sink,
        ):
            assert (source.fast_paths, sink.fast_paths) == ((ALL_ON, ALL_ON) if on else (OFF, OFF))
            spy = SendSpy(sink, monkeypatch)
            for name in DEMO:
                schema, plan = _prepare(source, sink, name)
                for outcome in migrate(
                    source,
                    sink,
                    schema,
                    plan,
                    Checkpoint(collection=name),
                    100,
                    insert_when_safe=insert_when_safe,
                    use_fast_paths=on,
                ):
                    frozen[on].add(gc.get_freeze_count())
                    assert outcome.rejects == []
                landed[on][name] = _all_rows(uri, plan)
            sends[on] = set(spy.calls)
            monkeypatch.undo()

    assert {name: len(rows) for name, rows in landed[True].items()} == {
        "DemoArticle": 1500,
        "DemoTenants": 500,
        "DemoLegacy": 500,
    }
    assert landed[False] == landed[True]
    assert sends == {True: {"columns"}, False: {"insert", "upsert"} if insert_when_safe else {"upsert"}}
    assert 0 not in frozen[True] and frozen[False] == {0}


def _context(instance: dg.DagsterInstance) -> dg.AssetExecutionContext:
    return dg.build_asset_context(partition_key="Articles", instance=instance)


def test_w2z_fast_paths_false_reaches_the_resources_and_turns_every_path_off(
    weaviate_server: WeaviateTestServer,
    weaviate_client: weaviate.WeaviateClient,
    instance: dg.DagsterInstance,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed_articles(weaviate_client, n=12)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WEAVIATE_ENDPOINT", weaviate_server.http_url)
    monkeypatch.setenv("WEAVIATE_GRPC_ENDPOINT", _grpc(weaviate_server))
    monkeypatch.setenv("ZILLIZ_CLOUD_URI", str(tmp_path / "target.db"))
    monkeypatch.setenv("W2Z_FAST_PATHS", "false")

    resources = resources_from_settings(load_settings())
    weaviate_resource = resources["weaviate"].process_config_and_initialize()
    zilliz_resource = resources["zilliz"].process_config_and_initialize()
    assert isinstance(weaviate_resource, WeaviateResource) and isinstance(zilliz_resource, ZillizResource)
    with weaviate_resource.open() as opened_source, zilliz_resource.open() as opened_sink:
        paths = (opened_source.fast_paths, opened_sink.fast_paths)

    schema = source_schema(_context(instance), weaviate=weaviate_resource).value
    plan = zilliz_collection(_context(instance), schema=schema, zilliz=zilliz_resource).value
    frozen = set()
    for event in migrated_batches(
        _context(instance),
        config=MigrationConfig(batch_size=5),
        plan=plan,
        weaviate=weaviate_resource,
        zilliz=zilliz_resource,
    ):
        if isinstance(event, dg.AssetObservation):
            frozen.add(gc.get_freeze_count())

    assert (weaviate_resource.fast_paths, zilliz_resource.fast_paths) == (False, False)
    assert paths == (OFF, OFF)
    assert frozen == {0}
    assert len(_all_rows(str(tmp_path / "target.db"), plan)) == 12


def test_the_fast_paths_are_on_unless_the_setting_says_otherwise(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("W2Z_FAST_PATHS", raising=False)
    default = resources_from_settings(load_settings())

    assert load_settings().fast_paths is True
    assert default["weaviate"].fast_paths is True and default["zilliz"].fast_paths is True
    assert WeaviateResource(endpoint="http://x").fast_paths is True
