"""Every Python example of docs/cutover.md's "Queries after cut-over" runs, on a collection w2z migrated.

The test Weaviate holds the guide's two collections (`Article`, module-vectorized; `Note`, multi-tenant),
the real asset chain migrates them into a Milvus Lite file, and each fenced `python` block of the section
is executed as written; the blocks end with asserts that Weaviate and Milvus agree. The first block (the
connection) runs once and every other block runs in a copy of what it defined, with `embed` standing for
the application's call to the embedding model (here the test Weaviate's stand-in for it).

One marker line before a block is honoured: `<!-- requires: bm25 -->` means the block needs the plan's
BM25 sparse field: where the plan has none (`W2Z_SEARCH_INDEXES=false`), such blocks are only compiled;
every other block must run, and an unknown marker fails the test.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import dagster as dg
import pytest
import weaviate
from weaviate.classes.config import Configure, DataType, Property, Tokenization
from weaviate.classes.data import DataObject
from weaviate.classes.tenants import Tenant

from w2z_dagster.core.filter_translation import tokenization_of, translate_filter
from w2z_dagster.core.plan import MigrationPlan
from w2z_dagster.defs.io_managers import CATALOG, CatalogIOManager
from w2z_dagster.defs.resources import WeaviateResource, ZillizResource
from w2z_dagster_tests.support.seeding import ALL_CHECKS, migrate, uuid_of, verdicts
from w2z_dagster_tests.support.weaviate_server import start_server
from w2z_dagster_tests.support.weaviate_server.vectorizer import embed

pytestmark = pytest.mark.slow

GUIDE = Path(__file__).parents[2] / "docs" / "cutover.md"
SECTION = "## Queries after cut-over"
DIMS = 256
MARKER = re.compile(r"<!-- requires: (?P<need>[\w-]+) -->")
FENCE = re.compile(r"^```(?P<lang>\w*)\n(?P<code>.*?)^```", re.S | re.M)

ARTICLES = [
    ("Apple pie", "Apples, butter and a flaky crust, baked warm.", "baking", 2023, (2023, 11, 2)),
    ("Apple crumble", "Baked apples under an oat crumble.", "baking", 2024, (2024, 2, 14)),
    ("Cherry pie", "Sour cherries in a lattice pie.", "baking", 2024, (2024, 6, 30)),
    ("Banana bread", "Ripe bananas, walnuts and a loaf tin.", "baking", 2022, (2022, 3, 5)),
    ("Sourdough", "A starter, flour, water and time.", "baking", 2024, (2024, 9, 9)),
    ("Green tea", "Steeped at eighty degrees for two minutes.", "drinks", 2021, (2021, 5, 1)),
    ("Apple juice", "Pressed apples, cold and cloudy.", "drinks", 2024, (2024, 8, 20)),
    ("Black coffee", "A dark roast, brewed strong.", "drinks", 2023, (2023, 1, 17)),
    ("Tomato soup", "Roasted tomatoes and basil.", None, 2020, (2020, 10, 10)),
    ("Lemon tart", "A sharp lemon curd in a sweet crust.", "baking", 2025, (2025, 1, 3)),
]
NOTE_VECTORS = [[1.0, 0.0, 0.0, 0.0], [0.9, 0.6, 0.0, 0.1], [0.0, 1.0, 0.0, 0.0], [0.5, 0.5, 0.5, 0.5]]


class Block(NamedTuple):
    title: str
    line: int
    code: str
    needs: str | None


def guide_blocks() -> tuple[list[Block], list[tuple[int, str]]]:
    """The section's python blocks (titled by their `###` heading) and its bash blocks, in order."""
    text = GUIDE.read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    section = text[start : end if end != -1 else len(text)]
    offset = text[:start].count("\n")
    blocks, shell = [], []
    for match in FENCE.finditer(section):
        before = section[: match.start()]
        line = offset + before.count("\n") + 1
        if match["lang"] == "bash":
            shell.append((line, match["code"]))
            continue
        if match["lang"] != "python":
            continue
        headings = re.findall(r"^### (.+)$", before, re.M)
        previous = before.rstrip("\n").rsplit("\n", 1)[-1]
        marker = MARKER.fullmatch(previous.strip())
        blocks.append(Block(headings[-1] if headings else "", line, match["code"], marker and marker["need"]))
    return blocks, shell


BLOCKS, SHELL = guide_blocks()
SETUP, EXAMPLES = BLOCKS[0], BLOCKS[1:]


class Guide(NamedTuple):
    namespace: dict[str, Any]
    plans: dict[str, MigrationPlan]
    tokenization: dict[str, dict[str, str]]


def _seed(client: weaviate.WeaviateClient) -> None:
    articles = client.collections.create(
        "Article",
        vector_config=Configure.Vectors.text2vec_openai(
            name="main", source_properties=["title", "body"], dimensions=DIMS, vectorize_collection_name=False
        ),
        properties=[
            Property(name="title", data_type=DataType.TEXT),
            Property(name="body", data_type=DataType.TEXT),
            Property(name="category", data_type=DataType.TEXT, tokenization=Tokenization.FIELD),
            Property(name="year", data_type=DataType.INT),
            Property(name="published", data_type=DataType.DATE),
        ],
        inverted_index_config=Configure.inverted_index(index_null_state=True),
    )
    articles.data.insert_many(
        [
            DataObject(
                properties={
                    "title": title,
                    "body": body,
                    "year": year,
                    "published": datetime(*day, 12, tzinfo=UTC) + timedelta(microseconds=i),
                    **({"category": category} if category else {}),
                },
                uuid=uuid_of(i),
            )
            for i, (title, body, category, year, day) in enumerate(ARTICLES)
        ]
    )
    notes = client.collections.create(
        "Note",
        vector_config=Configure.Vectors.self_provided(),
        properties=[Property(name="n", data_type=DataType.INT)],
        multi_tenancy_config=Configure.multi_tenancy(enabled=True),
    )
    notes.tenants.create([Tenant(name="alpha"), Tenant(name="beta")])
    for shift, tenant in enumerate(("alpha", "beta")):
        notes.with_tenant(tenant).data.insert_many(
            [
                DataObject(properties={"n": i + 10 * shift}, uuid=uuid_of(100 + i), vector=vector)
                for i, vector in enumerate(NOTE_VECTORS[shift:])
            ]
        )


@pytest.fixture(scope="module")
def guide(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Guide]:
    server = start_server()
    uri = str(tmp_path_factory.mktemp("cutover") / "target.db")
    try:
        with server.connect() as client:
            _seed(client)
            tokenization = {
                name: tokenization_of(client.collections.export_config(name).to_dict())
                for name in ("Article", "Note")
            }
        resources = {
            CATALOG: CatalogIOManager(),
            "weaviate": WeaviateResource(
                endpoint=server.http_url,
                grpc_endpoint=f"http://{server.host}:{server.grpc_port}",
                retry_delay=0.01,
            ),
            "zilliz": ZillizResource(uri=uri, retry_delay=0.01),
        }
        plans = {}
        with dg.instance_for_test() as instance:
            for name in ("Article", "Note"):
                result = migrate(instance, resources, name)
                assert verdicts(result) == dict.fromkeys(ALL_CHECKS, True)
                plans[name] = result.output_for_node("zilliz_collection")
        namespace: dict[str, Any] = {
            "WEAVIATE_HOST": server.host,
            "WEAVIATE_PORT": server.http_port,
            "WEAVIATE_GRPC_PORT": server.grpc_port,
            "ZILLIZ_CLOUD_URI": uri,
            "ZILLIZ_CLOUD_API_KEY": "",
            "embed": lambda text: embed(text, DIMS).tolist(),
        }
        exec(compile(SETUP.code, f"{GUIDE}:{SETUP.line}", "exec"), namespace)
        try:
            yield Guide(namespace, plans, tokenization)
        finally:
            namespace["client"].close()
            namespace["milvus"].close()
    finally:
        server.stop()


def _has_bm25(plan: MigrationPlan) -> bool:
    return any(f.data_type == "SPARSE_FLOAT_VECTOR" for f in plan.fields)


def test_the_guide_has_the_query_forms_issue_17_lists() -> None:
    assert SETUP.title == "The collection as migrated"
    assert [b.title for b in EXAMPLES] == [
        "near_vector",
        "near_text",
        "bm25",
        "hybrid",
        "Filters",
        "Filters",
        "Tenants",
        "Fetch by id",
        "Aggregate count",
    ]
    assert {b.title for b in EXAMPLES if b.needs} == {"bm25", "hybrid"}


@pytest.mark.parametrize("block", EXAMPLES, ids=[f"{b.title}@{b.line}" for b in EXAMPLES])
def test_example_runs_and_both_sides_agree(guide: Guide, block: Block) -> None:
    code = compile(block.code, f"{GUIDE}:{block.line}", "exec")
    if block.needs is not None:
        assert block.needs == "bm25", f"unknown marker 'requires: {block.needs}' at {GUIDE}:{block.line - 1}"
        if not _has_bm25(guide.plans["Article"]):
            return
    exec(code, dict(guide.namespace))


def test_the_translate_filter_output_shown_is_what_the_translator_prints(guide: Guide) -> None:
    ((line, text),) = SHELL
    command, *printed = text.strip().splitlines()
    continued = [command] + [
        p for p in printed if not p.startswith(("collection:", "expression:", "filter:"))
    ]
    argv = shlex.split(" ".join(continued).removeprefix("$ "))
    assert argv[:2] == ["w2z", "translate-filter"], f"{GUIDE}:{line}"
    collection, where = argv[2], json.loads(argv[3])
    translation = translate_filter(
        where, guide.plans[collection], tokenization=guide.tokenization[collection]
    )
    assert [p for p in printed if p.startswith(("collection:", "expression:", "filter:"))] == [
        f"collection: {guide.plans[collection].target}",
        f"expression: {translation.expression}",
        f"filter: {translation.filter}",
    ]


def test_the_plan_names_the_model_the_guide_tells_the_application_to_embed_with(guide: Guide) -> None:
    notes = [n for n in guide.plans["Article"].notes if n.startswith("vector 'main' is embedded by")]
    assert notes == [
        "vector 'main' is embedded by text2vec-openai (model text-embedding-3-small): after cut-over the "
        "application must embed its queries with the same model"
    ]
    assert not any("embedded by" in n for n in guide.plans["Note"].notes)
