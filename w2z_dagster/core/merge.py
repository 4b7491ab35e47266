"""Merge two key-sorted streams into matched, left-only and right-only items, in one pass.

Verification (are the UUID sets equal?) and sync (what changed?) both ask the same question of two
collections far too large to hold in memory; both sides can be read in UUID order, so a merge answers it
with one item of look-ahead per side. The merge refuses input that is not strictly increasing: an
out-of-order page would otherwise be silently reported as missing and extra objects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar


class _Ordered(Protocol):
    def __lt__(self, other: Any, /) -> bool: ...


K = TypeVar("K", bound=_Ordered)
L = TypeVar("L")
R = TypeVar("R")


class Side(StrEnum):
    BOTH = "both"
    LEFT = "left"
    RIGHT = "right"


@dataclass(frozen=True, slots=True)
class Merged(Generic[K, L, R]):
    """One key and the item each side holds for it; the absent side's item is None."""

    key: K
    left: L | None
    right: R | None

    @property
    def side(self) -> Side:
        if self.left is None:
            return Side.RIGHT
        return Side.LEFT if self.right is None else Side.BOTH


class UnsortedInputError(ValueError):
    """A side yielded a key not strictly greater than its previous one."""


def _checked(items: Iterable[Any], key: Callable[[Any], K], label: str) -> Iterator[tuple[K, Any]]:
    previous: K | None = None
    for item in items:
        current = key(item)
        if previous is not None and not previous < current:
            raise UnsortedInputError(
                f"the {label} side is not in strictly increasing key order: {current!r} came after {previous!r}"
            )
        previous = current
        yield current, item


def merge_sorted(
    left: Iterable[L],
    right: Iterable[R],
    left_key: Callable[[L], K],
    right_key: Callable[[R], K],
    labels: tuple[str, str] = ("left", "right"),
) -> Iterator[Merged[K, L, R]]:
    """Items of both sides in key order, each paired with its counterpart when the other side has one.

    Both inputs must be strictly increasing by key; `labels` name the sides in the error if one is not.
    """
    lefts = _checked(left, left_key, labels[0])
    rights = _checked(right, right_key, labels[1])
    lk, litem = next(lefts, (None, None))
    rk, ritem = next(rights, (None, None))
    while lk is not None and rk is not None:
        if lk < rk:
            yield Merged(lk, litem, None)
            lk, litem = next(lefts, (None, None))
        elif rk < lk:
            yield Merged(rk, None, ritem)
            rk, ritem = next(rights, (None, None))
        else:
            yield Merged(lk, litem, ritem)
            lk, litem = next(lefts, (None, None))
            rk, ritem = next(rights, (None, None))
    while lk is not None:
        yield Merged(lk, litem, None)
        lk, litem = next(lefts, (None, None))
    while rk is not None:
        yield Merged(rk, None, ritem)
        rk, ritem = next(rights, (None, None))
