"""Which collections w2z picks: patterns from the settings, names from the command line."""

from __future__ import annotations

import pytest

from w2z_dagster.core.selection import (
    excluded_message,
    is_selected,
    patterns,
    requested,
    select,
    unknown_message,
)

AVAILABLE = ["Articles", "ArticlesArchive", "Authors", "TmpScratch", "tmp_lower"]


def test_patterns_are_comma_separated_and_blank_entries_are_ignored() -> None:
    assert patterns(" Art*, ,Authors ,") == ["Art*", "Authors"]
    assert patterns("") == []


@pytest.mark.parametrize(
    ("include", "exclude", "expected"),
    [
        ("*", "", AVAILABLE),
        ("", "", AVAILABLE),
        ("Art*", "", ["Articles", "ArticlesArchive"]),
        ("Art*", "*Archive", ["Articles"]),
        ("*", "Tmp*,tmp*", ["Articles", "ArticlesArchive", "Authors"]),
        ("Authors,Articles", "", ["Articles", "Authors"]),
        ("tmp*", "", ["tmp_lower"]),
        ("A?thors", "", ["Authors"]),
        ("Nothing*", "", []),
    ],
)
def test_select_keeps_source_order_and_matches_case_sensitively(
    include: str, exclude: str, expected: list[str]
) -> None:
    assert select(AVAILABLE, include, exclude) == expected


def test_exclude_wins_over_include() -> None:
    assert not is_selected("Articles", "Articles", "Articles")
    assert is_selected("Articles")


def test_requested_names_keep_their_order_without_repeats_and_report_unknown_ones() -> None:
    assert requested(AVAILABLE, ["Authors", "Articles", "Authors", "articles", "Nope", "Nope"]) == (
        ["Authors", "Articles"],
        ["articles", "Nope"],
    )


def test_unknown_message_suggests_the_likely_name_and_lists_what_exists() -> None:
    message = unknown_message(["articles", "Autors", "Zzz"], ["Articles", "Authors"])
    assert message == (
        "unknown collections 'articles' (did you mean 'Articles'?), 'Autors' (did you mean 'Authors'?), "
        "'Zzz'; Weaviate has: Articles, Authors"
    )
    assert unknown_message(["X"], []) == "unknown collection 'X'; Weaviate has: none"


def test_excluded_message_names_the_patterns() -> None:
    assert excluded_message(["TmpScratch"], "*", "Tmp*") == (
        "'TmpScratch' excluded by W2Z_INCLUDE_COLLECTIONS='*' / W2Z_EXCLUDE_COLLECTIONS='Tmp*': "
        "change the patterns to migrate them"
    )
