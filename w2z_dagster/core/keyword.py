"""Keyword search and filter indexes carried over: Weaviate's inverted index as Milvus analyzers, BM25
functions and scalar indexes. Table-driven; the choices and their reasons are in docs/mapping.md.

Weaviate scores every searchable property of a BM25 query and sums the scores (BM25F over the
properties). A Milvus BM25 function reads exactly one VARCHAR field, so the searchable properties that
share an analyzer are joined into one keyword text field (`w2z_text`) that feeds one BM25 function into
one sparse field (`w2z_bm25`): one query, one field, the same terms. Properties with another analyzer
form their own group (`w2z_text_<tokenization>`).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from w2z_dagster.core.plan import FieldRole, FunctionPlan, IndexPlan, MilvusField
from w2z_dagster.core.profiles import TargetLimits
from w2z_dagster.core.schema import CollectionSchema, InvertedIndexSpec, PropertySpec, WeaviateType

KEYWORD_TEXT_FIELD = "w2z_text"
SPARSE_FIELD = "w2z_bm25"

EN_STOPWORDS = (
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
)
"""Weaviate's `en` preset (`adapters/repos/db/inverted/stopwords/presets.go`), Lucene's English list."""
STOPWORD_PRESETS: dict[str, tuple[str, ...]] = {"en": EN_STOPWORDS, "none": ()}


class AnalyzerRule(NamedTuple):
    tokenizer: str | dict[str, Any] | None
    lowercase: bool = False
    note: str = ""


TOKENIZATION_TABLE: dict[str, AnalyzerRule] = {
    "word": AnalyzerRule(
        "standard",
        True,
        "standard tokenizer splits at Unicode word boundaries, Weaviate at every non-alphanumeric "
        "character (apostrophes and underscores inside words differ)",
    ),
    "lowercase": AnalyzerRule("whitespace", True),
    "whitespace": AnalyzerRule("whitespace"),
    "field": AnalyzerRule(None, note="Milvus has no whole-value tokenizer; filter it with == instead"),
    "trigram": AnalyzerRule(None, note="Milvus has no trigram tokenizer"),
    "gse": AnalyzerRule("jieba", note="gse (Chinese) becomes jieba"),
    "gse_ch": AnalyzerRule("jieba", note="gse_ch (Chinese) becomes jieba"),
    "kagome_ja": AnalyzerRule(
        {"type": "lindera", "dict_kind": "ipadic"}, note="kagome_ja becomes lindera (ipadic dictionary)"
    ),
    "kagome_kr": AnalyzerRule(
        {"type": "lindera", "dict_kind": "ko-dic"}, note="kagome_kr becomes lindera (ko-dic dictionary)"
    ),
}


class KeywordGroup(NamedTuple):
    tokenization: str
    properties: tuple[PropertySpec, ...]
    analyzer: dict[str, Any]
    note: str


def stopwords(spec: InvertedIndexSpec) -> list[str]:
    """The collection's stopwords: its preset, plus additions, minus removals, spelled out.

    Spelled out rather than Milvus's `_english_` because removals cannot be taken out of a named list,
    and Milvus Lite reads `_english_` as a literal word.
    """
    words = set(STOPWORD_PRESETS.get(spec.stopwords_preset, ())) | set(spec.stopwords_additions)
    return sorted(words - set(spec.stopwords_removals))


def analyzer_for(
    tokenization: str, spec: InvertedIndexSpec, limits: TargetLimits
) -> tuple[dict[str, Any] | None, str]:
    """The Milvus analyzer for a Weaviate tokenization, with what the reader should know; None: no match."""
    rule = TOKENIZATION_TABLE.get(tokenization)
    if rule is None:
        return None, f"Weaviate tokenization '{tokenization}' has no Milvus analyzer"
    if rule.tokenizer is None:
        return None, rule.note
    name = rule.tokenizer if isinstance(rule.tokenizer, str) else rule.tokenizer["type"]
    tokenizer, note = rule.tokenizer, rule.note
    if name not in limits.analyzer_tokenizers:
        if name == "whitespace":
            tokenizer, note = (
                "standard",
                "the target has no whitespace tokenizer: standard (splits at punctuation)",
            )
        else:
            return None, f"the target has no {name} tokenizer"
    filters: list[Any] = ["lowercase"] if rule.lowercase else []
    # Weaviate drops stopwords only for `word` (`bm25_searcher.go`).
    words = stopwords(spec) if tokenization == "word" else []
    if words:
        filters.append({"type": "stop", "stop_words": words})
    analyzer: dict[str, Any] = {"tokenizer": tokenizer}
    if filters:
        analyzer["filter"] = filters
    return analyzer, note


def keyword_groups(schema: CollectionSchema, limits: TargetLimits, notes: list[str]) -> list[KeywordGroup]:
    """Searchable text properties grouped by the analyzer they get, in schema order."""
    groups: dict[str, KeywordGroup] = {}
    for prop in schema.properties:
        if not (prop.is_text and prop.index_searchable):
            continue
        tokenization = prop.text_tokenization
        analyzer, note = analyzer_for(tokenization, schema.inverted_index, limits)
        if analyzer is None:
            notes.append(f"property '{prop.name}' ({tokenization}) is left out of keyword search: {note}")
            continue
        key = repr(analyzer)
        found = groups.get(key)
        members = (*found.properties, prop) if found else (prop,)
        groups[key] = KeywordGroup(found.tokenization if found else tokenization, members, analyzer, note)
    return list(groups.values())


def keyword_names(groups: list[KeywordGroup]) -> list[tuple[str, str]]:
    """(keyword text field, sparse field) per group: plain names for one group, suffixed for several."""
    if len(groups) == 1:
        return [(KEYWORD_TEXT_FIELD, SPARSE_FIELD)]
    return [(f"{KEYWORD_TEXT_FIELD}_{g.tokenization}", f"{SPARSE_FIELD}_{g.tokenization}") for g in groups]


def keyword_plan(
    groups: list[KeywordGroup], spec: InvertedIndexSpec, limits: TargetLimits, notes: list[str]
) -> tuple[list[MilvusField], list[FunctionPlan], list[IndexPlan]]:
    """The keyword text and sparse fields, BM25 functions and sparse indexes for `groups`."""
    fields: list[MilvusField] = []
    functions: list[FunctionPlan] = []
    indexes: list[IndexPlan] = []
    for group, (text, sparse) in zip(groups, keyword_names(groups), strict=True):
        sources = tuple(p.name for p in group.properties)
        joined = ", ".join(sources)
        if group.note:
            notes.append(f"keyword search on {joined}: {group.note}")
        fields.append(
            MilvusField(
                name=text,
                data_type="VARCHAR",
                max_length=limits.max_varchar_bytes,
                nullable=True,
                enable_analyzer=True,
                analyzer_params=group.analyzer,
                role=FieldRole.KEYWORD_TEXT,
                source_type=f"keyword text ({group.tokenization})",
                note=f"{joined} joined by newlines, cut at {limits.max_varchar_bytes} bytes; BM25 input",
            )
        )
        fields.append(
            MilvusField(
                name=sparse,
                data_type="SPARSE_FLOAT_VECTOR",
                role=FieldRole.SPARSE,
                source_type="BM25 of keyword text",
                note=f"filled by Milvus from '{text}' (BM25 function)",
            )
        )
        functions.append(
            FunctionPlan(
                name=f"{text}_bm25",
                input_field=text,
                output_field=sparse,
                sources=sources,
                tokenization=group.tokenization,
            )
        )
        index_type = "AUTOINDEX" if limits.autoindex_only else "SPARSE_INVERTED_INDEX"
        indexes.append(
            IndexPlan(
                field=sparse,
                index_type=index_type,
                metric="BM25",
                params={"bm25_k1": spec.bm25_k1, "bm25_b": spec.bm25_b},
            )
        )
    return fields, functions, indexes


_NUMERIC = frozenset({"INT64", "DOUBLE"})


def scalar_index_type(field: MilvusField, prop: PropertySpec, limits: TargetLimits) -> str | None:
    """The Milvus scalar index for a filterable / range-filterable property on this target; None: none.

    BITMAP for booleans (two values: the low-cardinality case BITMAP is built for), STL_SORT for numbers
    Weaviate range-indexes (a sorted array answers ranges), INVERTED for everything else filterable.
    """
    if not (prop.index_filterable or prop.index_range_filters) or field.data_type == "JSON":
        return None
    if prop.data_type is WeaviateType.BLOB:
        return None
    if limits.scalar_index == "autoindex":
        return "AUTOINDEX"
    if limits.scalar_index == "inverted":
        return None if field.data_type == "ARRAY" else "INVERTED"
    if field.data_type == "BOOL" or field.element_type == "BOOL":
        return "BITMAP"
    if field.data_type in _NUMERIC and prop.index_range_filters:
        return "STL_SORT"
    return "INVERTED"
