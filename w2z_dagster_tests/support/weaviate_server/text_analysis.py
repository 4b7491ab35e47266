"""Tokenization and stopwords as Weaviate's inverted index applies them (`entities/tokenizer`).

Filters and BM25 share these, so a `word` property "Hello, World" holds the tokens `hello` and
`world` in both. Stopwords are never removed from what is indexed; Weaviate drops them only from a
BM25 query on a `word`-tokenized property (`adapters/repos/db/inverted/stopwords`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

EN_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "if",
        "in",
        "into",
        "is",
        "it",
        "no",
        "not",
        "of",
        "on",
        "or",
        "such",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "will",
        "with",
    ]
)
PRESETS = {"en": EN_STOPWORDS, "none": frozenset()}
_WORD = re.compile(r"[^\W_]+")


def stopword_set(
    preset: str, additions: Iterable[str] | None, removals: Iterable[str] | None
) -> frozenset[str]:
    """The preset, plus additions, minus removals (`NewDetectorFromConfig`)."""
    return (PRESETS[preset] | frozenset(additions or ())) - frozenset(removals or ())


def _word(text: str) -> list[str]:
    return [t.lower() for t in _WORD.findall(text)]


def _lowercase(text: str) -> list[str]:
    return text.lower().split()


def _field(text: str) -> list[str]:
    stripped = text.strip()
    return [stripped] if stripped else []


def _trigram(text: str) -> list[str]:
    compact = "".join(_word(text))
    return [compact[i : i + 3] for i in range(len(compact) - 2)] or ([compact] if compact else [])


TOKENIZERS: dict[str, Callable[[str], list[str]]] = {
    "word": _word,
    "lowercase": _lowercase,
    "whitespace": str.split,
    "field": _field,
    "trigram": _trigram,
}


def tokenize(tokenization: str | None, text: str) -> list[str]:
    return TOKENIZERS[tokenization or "word"](text)


def tokens_of(tokenization: str | None, value: object) -> list[str]:
    """Every token of a text or text[] value, in order, duplicates kept (they are term frequencies)."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    split = TOKENIZERS[tokenization or "word"]
    return [t for item in items for t in split(str(item))]
