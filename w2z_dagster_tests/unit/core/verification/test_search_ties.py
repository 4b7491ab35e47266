"""Ties in keyword and hybrid parity: a hit Weaviate's own tied scores could have put in its top k is found."""

from __future__ import annotations

import pytest

from w2z_dagster.core.verification.hybrid_parity import ResultSet, hybrid_answers, reachable
from w2z_dagster.core.verification.keyword_parity import Answers, keyword_answers

KEYWORD = ResultSet({"a": 2.0, "b": 1.0, "c": 1.0}, limit=3, weight=0.5)
"""A full keyword set cut inside the tie group at 1.0: `d`, also at 1.0, is one it left out."""
VECTOR = ResultSet({"a": 0.9, "x": 0.8, "y": 0.7}, limit=3, weight=0.5)
OWN = {
    "a": [2.0, 0.9],
    "b": [1.0, None],
    "c": [1.0, None],
    "d": [1.0, None],
    "x": [None, 0.8],
    "y": [None, 0.7],
    "e": [0.5, None],
}


@pytest.mark.parametrize(
    ("ranked", "k", "expected"),
    [
        (True, 1, {"a"}),
        (True, 2, {"a", "b", "c", "d", "x"}),
        (False, 2, {"a", "x"}),
        (False, 3, {"a", "b", "c", "d", "x", "y"}),
    ],
)
def test_an_object_is_reachable_when_some_order_of_the_ties_fuses_it_into_the_top_k(
    ranked: bool, k: int, expected: set[str]
) -> None:
    """rankedFusion: b, c and d may each take rank 1 of the keyword set (0.5 / 61, as much as x's vector
    rank 1), y's rank 2 never reaches x; relativeScoreFusion normalises the tie group at the cut to 0, so
    only the set's order matters. `e`, below the cut, is in no set."""
    assert reachable([KEYWORD, VECTOR], OWN, k, ranked) == expected


def _answers(milvus: list[str], calls: list[str]) -> Answers:
    def sets() -> list[ResultSet]:
        calls.append("sets")
        return [KEYWORD, VECTOR]

    def rescore(i: int, uuids: list[str]) -> dict[str, float]:
        calls.append(f"rescore {i} {','.join(uuids)}")
        return {u: own for u in uuids if (own := OWN[u][i]) is not None}

    return hybrid_answers([("a", 0.02), ("x", 0.01)], milvus, 2, sets, rescore, ranked=True)


@pytest.mark.parametrize(
    ("milvus", "ties", "calls"),
    [
        (["a", "x"], [], []),
        (["a", "d"], ["d"], ["sets", "rescore 0 d", "rescore 1 d"]),
        (["a", "y"], [], ["sets", "rescore 0 y"]),
    ],
)
def test_weaviate_is_asked_only_about_the_hits_outside_its_top_k(
    milvus: list[str], ties: list[str], calls: list[str]
) -> None:
    made: list[str] = []

    assert _answers(milvus, made) == Answers(["a", "x"], milvus, ties)
    assert made == calls


@pytest.mark.parametrize(
    ("weaviate", "milvus", "rescored", "ties", "asked"),
    [
        ([("a", 3.0), ("b", 2.0), ("c", 1.0)], ["a", "b", "d"], {"d": 1.0}, ["d"], ["d"]),
        ([("a", 3.0), ("b", 2.0), ("c", 1.0)], ["a", "b", "d"], {"d": 0.5}, [], ["d"]),
        ([("a", 3.0), ("b", 2.0)], ["a", "b", "d"], {}, [], []),
    ],
)
def test_a_keyword_hit_ties_when_weaviate_scores_it_as_its_kth(
    weaviate: list[tuple[str, float]],
    milvus: list[str],
    rescored: dict[str, float],
    ties: list[str],
    asked: list[str],
) -> None:
    """Fewer than k Weaviate matches: a hit beyond them does not match there, so nobody is asked."""
    made: list[str] = []

    def rescore(uuids: list[str]) -> list[tuple[str, float]]:
        made.extend(uuids)
        return [(u, rescored[u]) for u in uuids if u in rescored]

    answers = keyword_answers(weaviate, milvus, 3, rescore)

    assert answers == Answers([u for u, _ in weaviate], milvus, ties)
    assert made == asked
