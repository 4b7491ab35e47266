"""Milvus naming rules and the deterministic renaming w2z applies when a Weaviate name breaks them.

Milvus Lite accepts names a server rejects, so these rules follow the Milvus server: names match
`[A-Za-z_][A-Za-z0-9_]*` and are at most 255 bytes; system field names are refused; and a field may not
be named like a keyword of the filter-expression grammar (milvus PR #36101), otherwise no filter could
ever name it. Keywords are compared case-insensitively, which is stricter than the grammar (it knows only
`like`/`LIKE`, `true`/`True`/`TRUE` …) but keeps working when the grammar grows a spelling.

Renaming rule: characters outside `[A-Za-z0-9_]` become `_`, a leading digit gets a `_` prefix, and a
name that is still reserved or already taken gets the first free suffix `_1`, `_2`, … . Names that are
valid and free are claimed before any renamed name, so a valid name is never displaced by a rename.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Field names that Milvus itself owns: `$meta` (dynamic field), `RowID`/`Timestamp` (segcore columns),
# `__virtual_pk__` (external collections) and `_partition`/`_seq` (refused by Milvus Lite).
SYSTEM_FIELD_NAMES = frozenset({"$meta", "RowID", "Timestamp", "__virtual_pk__", "_partition", "_seq"})

# Word tokens of milvus internal/parser/planparserv2/Plan.g4 (lower-cased).
EXPRESSION_KEYWORDS = frozenset(
    {
        "and",
        "or",
        "not",
        "in",
        "like",
        "exists",
        "true",
        "false",
        "interval",
        "iso",
        "threshold",
        "minimum_should_match",
        "text_match",
        "phrase_match",
        "random_sample",
        "match_all",
        "match_any",
        "match_least",
        "match_most",
        "match_exact",
        "element_filter",
        "json_contains",
        "json_contains_all",
        "json_contains_any",
        "array_contains",
        "array_contains_all",
        "array_contains_any",
        "array_length",
        "st_equals",
        "st_touches",
        "st_overlaps",
        "st_crosses",
        "st_contains",
        "st_intersects",
        "st_within",
        "st_dwithin",
        "st_isvalid",
    }
)

_VALID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INVALID_CHAR = re.compile(r"[^A-Za-z0-9_]")


def name_problem(name: str, max_bytes: int = 255, *, field: bool = True) -> str | None:
    """Why Milvus would refuse `name` as a field (or collection) name, or None when it is fine."""
    size = len(name.encode("utf-8"))
    if size > max_bytes:
        return f"is {size} bytes; Milvus names hold at most {max_bytes}"
    if not _VALID.fullmatch(name):
        return "is not of the form [A-Za-z_][A-Za-z0-9_]*"
    if field and name in SYSTEM_FIELD_NAMES:
        return "is a Milvus system field name"
    if field and name.lower() in EXPRESSION_KEYWORDS:
        return "is a Milvus filter-expression keyword"
    return None


def sanitise(name: str, max_bytes: int = 255) -> str:
    """Map any string to the Milvus charset; the result may still be reserved or taken."""
    cleaned = _INVALID_CHAR.sub("_", name) or "_"
    if cleaned[0].isdigit():
        cleaned = "_" + cleaned
    return cleaned[:max_bytes]


def _with_suffix(base: str, n: int, max_bytes: int) -> str:
    suffix = f"_{n}"
    return base[: max_bytes - len(suffix)] + suffix


class NameAllocator:
    """Hands out unique, valid Milvus field names in a deterministic order."""

    def __init__(self, max_bytes: int = 255) -> None:
        self._max_bytes = max_bytes
        self._taken: set[str] = set()

    def reserve(self, name: str) -> None:
        """Claim a name w2z itself defines (`id`, `uuid`, `tenant`, `vector`)."""
        self._taken.add(name)

    def is_free(self, name: str) -> bool:
        return name not in self._taken and name_problem(name, self._max_bytes) is None

    def allocate(self, wanted: Iterable[str]) -> dict[str, str]:
        """Map each wanted name to its Milvus name: free valid names first, then renamed ones in order."""
        wanted = list(wanted)
        result: dict[str, str] = {}
        for name in wanted:
            if self.is_free(name):
                self._taken.add(name)
                result[name] = name
        for name in wanted:
            if name in result:
                continue
            base = sanitise(name, self._max_bytes)
            candidate, n = base, 0
            while not self.is_free(candidate):
                n += 1
                candidate = _with_suffix(base, n, self._max_bytes)
            self._taken.add(candidate)
            result[name] = candidate
        return {name: result[name] for name in wanted}


def collection_name(source: str, max_bytes: int = 255) -> str:
    """Target collection name: the source name when Milvus accepts it, else its sanitised form."""
    if name_problem(source, max_bytes, field=False) is None:
        return source
    return sanitise(source, max_bytes)
