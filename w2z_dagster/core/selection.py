"""Which Weaviate collections w2z works on.

Discovery (the CLI without `-c`, the discovery sensor) filters the source's collections through the
shell patterns of `W2Z_INCLUDE_COLLECTIONS` / `W2Z_EXCLUDE_COLLECTIONS`. Names given explicitly must exist
(a typo must stop the command rather than silently migrate nothing) and must pass the same patterns:
the sensor removes the partition of an excluded collection, so the CLI must not add one.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from fnmatch import fnmatchcase


def patterns(text: str) -> list[str]:
    """Comma-separated patterns; blanks around commas and empty entries are ignored."""
    return [p.strip() for p in text.split(",") if p.strip()]


def is_selected(name: str, include: str = "*", exclude: str = "") -> bool:
    """Case-sensitive, like Weaviate's names; an empty include list means every collection."""
    included = patterns(include) or ["*"]
    return any(fnmatchcase(name, p) for p in included) and not any(
        fnmatchcase(name, p) for p in patterns(exclude)
    )


def select(available: Iterable[str], include: str = "*", exclude: str = "") -> list[str]:
    return [name for name in available if is_selected(name, include, exclude)]


def requested(available: Sequence[str], names: Sequence[str]) -> tuple[list[str], list[str]]:
    """(known names in the order asked, without repeats; unknown names)."""
    known = set(available)
    found = list(dict.fromkeys(n for n in names if n in known))
    unknown = list(dict.fromkeys(n for n in names if n not in known))
    return found, unknown


def excluded_message(names: Sequence[str], include: str, exclude: str) -> str:
    listed = ", ".join(f"'{n}'" for n in names)
    return (
        f"{listed} excluded by W2Z_INCLUDE_COLLECTIONS={include!r} / W2Z_EXCLUDE_COLLECTIONS={exclude!r}: "
        "change the patterns to migrate them"
    )


def unknown_message(unknown: Sequence[str], available: Sequence[str]) -> str:
    """One line naming what is missing, the likely intended name, and what exists."""
    parts = []
    for name in unknown:
        guess = _closest(name, available)
        parts.append(f"'{name}'" + (f" (did you mean '{guess}'?)" if guess else ""))
    noun = "collection" if len(unknown) == 1 else "collections"
    listed = ", ".join(available) or "none"
    return f"unknown {noun} {', '.join(parts)}; Weaviate has: {listed}"


def _closest(name: str, available: Sequence[str]) -> str | None:
    folded = {a.lower(): a for a in available}
    if name.lower() in folded:
        return folded[name.lower()]
    close = difflib.get_close_matches(name, available, n=1, cutoff=0.8)
    return close[0] if close else None
