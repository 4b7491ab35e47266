from __future__ import annotations

import pytest

from w2z_dagster.core.names import (
    EXPRESSION_KEYWORDS,
    NameAllocator,
    collection_name,
    name_problem,
    sanitise,
)


@pytest.mark.parametrize(
    "name", ["title", "_private", "A1_b2", "x" * 255, "vector", "id_1", "Andrew", "isoDate"]
)
def test_valid_field_names(name: str) -> None:
    assert name_problem(name) is None


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("1bad", "is not of the form [A-Za-z_][A-Za-z0-9_]*"),
        ("bad-name", "is not of the form [A-Za-z_][A-Za-z0-9_]*"),
        ("中文", "is not of the form [A-Za-z_][A-Za-z0-9_]*"),
        ("", "is not of the form [A-Za-z_][A-Za-z0-9_]*"),
        ("x" * 256, "is 256 bytes; Milvus names hold at most 255"),
        ("$meta", "is not of the form [A-Za-z_][A-Za-z0-9_]*"),
        ("__virtual_pk__", "is a Milvus system field name"),
        ("_partition", "is a Milvus system field name"),
        ("_seq", "is a Milvus system field name"),
        ("RowID", "is a Milvus system field name"),
        ("Timestamp", "is a Milvus system field name"),
        ("and", "is a Milvus filter-expression keyword"),
        ("OR", "is a Milvus filter-expression keyword"),
        ("Not", "is a Milvus filter-expression keyword"),
        ("in", "is a Milvus filter-expression keyword"),
        ("like", "is a Milvus filter-expression keyword"),
        ("True", "is a Milvus filter-expression keyword"),
        ("false", "is a Milvus filter-expression keyword"),
        ("exists", "is a Milvus filter-expression keyword"),
        ("interval", "is a Milvus filter-expression keyword"),
        ("iso", "is a Milvus filter-expression keyword"),
        ("json_contains", "is a Milvus filter-expression keyword"),
        ("ARRAY_CONTAINS_ANY", "is a Milvus filter-expression keyword"),
        ("array_length", "is a Milvus filter-expression keyword"),
        ("text_match", "is a Milvus filter-expression keyword"),
    ],
)
def test_invalid_field_names(name: str, problem: str) -> None:
    assert name_problem(name) == problem


def test_keywords_are_lower_case_identifiers() -> None:
    assert all(k == k.lower() and name_problem(k, field=False) is None for k in EXPRESSION_KEYWORDS)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("bad-name", "bad_name"),
        ("1st", "_1st"),
        ("中文", "__"),
        ("", "_"),
        ("a.b c", "a_b_c"),
        ("fine", "fine"),
        ("x" * 300, "x" * 255),
    ],
)
def test_sanitise(name: str, expected: str) -> None:
    assert sanitise(name) == expected


def test_allocator_keeps_valid_names_and_suffixes_the_rest() -> None:
    names = NameAllocator()
    names.reserve("id")
    assert names.allocate(["title", "id", "and", "bad-name", "bad_name", "and_1"]) == {
        "title": "title",
        "id": "id_1",
        "and": "and_2",
        "bad-name": "bad_name_1",
        "bad_name": "bad_name",
        "and_1": "and_1",
    }


def test_allocator_is_deterministic_and_remembers_across_calls() -> None:
    def run() -> tuple[dict[str, str], dict[str, str]]:
        names = NameAllocator()
        names.reserve("vector")
        return names.allocate(["vector", "body"]), names.allocate(["body", "vector", "vector_1"])

    first = run()
    assert first == run()
    assert first == (
        {"vector": "vector_1", "body": "body"},
        {"body": "body_1", "vector": "vector_2", "vector_1": "vector_1_1"},
    )


def test_allocator_respects_the_byte_limit_with_suffixes() -> None:
    names = NameAllocator(max_bytes=10)
    assert names.allocate(["abcdefghij", "abcdefghij-"]) == {
        "abcdefghij": "abcdefghij",
        "abcdefghij-": "abcdefgh_1",
    }


@pytest.mark.parametrize(
    ("source", "target"),
    [("Article", "Article"), ("And", "And"), ("My-Things", "My_Things"), ("9Lives", "_9Lives")],
)
def test_collection_names(source: str, target: str) -> None:
    assert collection_name(source) == target
