"""`w2z translate-filter` against the test Weaviate: the plan as the migration builds it, the where filter
from an argument, a file or stdin, the tenant condition, and one-line errors with exit code 2."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import weaviate.classes.config as wc
from weaviate.classes.data import DataObject

from w2z_dagster.cli import main
from w2z_dagster_tests.support.weaviate_server import WeaviateTestServer, start_server

WHERE = {
    "operator": "And",
    "operands": [
        {"operator": "Equal", "path": ["and"], "valueInt": 3},
        {"operator": "GreaterThan", "path": ["published"], "valueDate": "2024-05-06T07:08:09+02:00"},
        {"operator": "Like", "path": ["code"], "valueText": "A*"},
    ],
}
EXPRESSION = 'and_1 == 3 and published > "2024-05-06T05:08:09.000000Z" and code like "A%"'


@pytest.fixture(scope="module")
def server() -> Iterator[WeaviateTestServer]:
    server = start_server()
    with server.connect() as client:
        plain = client.collections.create(
            "Articles",
            properties=[
                wc.Property(name="and", data_type=wc.DataType.INT),
                wc.Property(name="published", data_type=wc.DataType.DATE),
                wc.Property(name="code", data_type=wc.DataType.TEXT, tokenization=wc.Tokenization.FIELD),
                wc.Property(name="title", data_type=wc.DataType.TEXT),
            ],
            vector_config=wc.Configure.Vectors.self_provided(),
        )
        plain.data.insert_many([DataObject(properties={"and": 3}, vector=[0.5, 0.5])])
        tenanted = client.collections.create(
            "Tenanted",
            properties=[wc.Property(name="n", data_type=wc.DataType.INT)],
            multi_tenancy_config=wc.Configure.multi_tenancy(enabled=True),
            vector_config=wc.Configure.Vectors.self_provided(),
        )
        tenanted.tenants.create(["a"])
        tenanted.with_tenant("a").data.insert_many([DataObject(properties={"n": 1}, vector=[0.5, 0.5])])
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def run(
    server: WeaviateTestServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):
    monkeypatch.chdir(tmp_path)
    for name in ("WEAVIATE_API_KEY", "ZILLIZ_CLOUD_API_KEY", "W2Z_PROFILE", "DAGSTER_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WEAVIATE_ENDPOINT", server.http_url)
    monkeypatch.setenv("WEAVIATE_GRPC_ENDPOINT", f"http://{server.host}:{server.grpc_port}")
    monkeypatch.setenv("ZILLIZ_CLOUD_URI", str(tmp_path / "t.db"))
    monkeypatch.setenv("W2Z_LOG_FILE", str(tmp_path / "w2z.log"))

    def invoke(*args: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(["translate-filter", *args])
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


def test_argument_prints_the_expression_over_the_mapped_fields(run, tmp_path: Path) -> None:
    code, out, err = run("Articles", json.dumps(WHERE))
    assert (code, err) == (0, "")
    assert out.splitlines() == ["collection: Articles", f"expression: {EXPRESSION}", f"filter: {EXPRESSION}"]
    assert not (tmp_path / "t.db").exists()


def test_file_and_stdin_read_the_same_filter(run, tmp_path: Path) -> None:
    path = tmp_path / "where.json"
    path.write_text(json.dumps(WHERE), encoding="utf-8")
    from_file = run("Articles", "--file", str(path))
    from_stdin = run("Articles", stdin=json.dumps(WHERE))
    from_dash = run("Articles", "-", stdin=json.dumps(WHERE))
    assert from_file == from_stdin == from_dash
    assert from_file[0] == 0 and f"filter: {EXPRESSION}" in from_file[1]


def test_tenant_condition(run) -> None:
    where = json.dumps({"operator": "Equal", "path": ["n"], "valueInt": 1})
    code, out, err = run("Tenanted", where, "--tenant", "a")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "collection: Tenanted",
        "expression: n == 1",
        'tenant: tenant == "a"',
        'filter: tenant == "a" and (n == 1)',
    ]


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("Tenanted", '{"operator": "Equal", "path": ["n"], "valueInt": 1}'), "",
         "collection 'Tenanted' is multi-tenant: name the tenant the query runs in, as Weaviate requires"),
        (("Articles", '{"operator": "Equal", "path": ["title"], "valueText": "x"}'), "",
         "cannot translate to Milvus: Equal on text property 'title' (tokenization 'word') (Weaviate matches its "
         "words case-insensitively, Milvus compares whole strings; only 'field' tokenization translates)"),
        (("Articles", '{"operator": "Equal", "path": ["nope"], "valueInt": 1}'), "",
         "collection 'Articles' has no property 'nope' (properties: and, published, code, title)"),
        (("Articles", "{not json"), "", "invalid where filter at the filter: Invalid JSON"),
        (("Articles",), "  ", "no where filter given; pass its JSON"),
        (("Missing", '{"operator": "Equal", "path": ["n"], "valueInt": 1}'), "",
         "collection 'Missing' does not exist in Weaviate (collections: Articles, Tenanted)"),
        (("Articles", "{}", "--file", "where.json"), "", "give the where filter either as an argument or with --file"),
        (("Articles", "--file", "absent.json"), "", "cannot read the where filter from absent.json: No such file"),
    ],
    ids=["no tenant", "unsupported", "unknown property", "not json", "empty", "unknown collection", "both", "no file"],
)  # fmt: skip
def test_bad_input_is_one_line_with_exit_code_2(run, args: tuple[str, ...], stdin: str, message: str) -> None:
    code, out, err = run(*args, stdin=stdin)
    assert (code, out) == (2, "")
    assert err.startswith(f"w2z translate-filter: error: {message}")
    assert err.count("\n") == 1
