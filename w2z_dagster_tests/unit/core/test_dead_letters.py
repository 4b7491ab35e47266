"""Dead letters: whole files per write, on any store, each rejected object read back once."""

from __future__ import annotations

from pathlib import Path

import pytest
from upath import UPath

from w2z_dagster.core.dead_letters import DeadLetters, read_dead_letters
from w2z_dagster.core.transform import Reject


def _reject(i: int, tenant: str | None = None) -> Reject:
    return Reject(
        uuid=f"00000000-0000-0000-0000-{i:012d}", tenant=tenant, reason=f"reason {i}", object={"i": i}
    )


@pytest.fixture(params=["local", "memory"])
def folder(request: pytest.FixtureRequest, tmp_path: Path) -> UPath:
    """A local folder, and an fsspec store that cannot append (as object stores cannot)."""
    if request.param == "local":
        return UPath(tmp_path / "dead_letters" / "Articles")
    return UPath(f"memory://w2z-{tmp_path.name}/dead_letters/Articles")


def test_each_write_with_rejects_is_one_whole_file_read_back_in_order(folder: UPath) -> None:
    letters = DeadLetters(folder, resume=False)

    letters.extend([_reject(1), _reject(2)])
    letters.extend([])
    letters.extend([_reject(3, "t")])

    assert len(list(folder.glob("*.jsonl"))) == 2
    assert [(r.tenant, r.uuid[-1], r.object) for r in read_dead_letters(folder)] == [
        (None, "1", {"i": 1}),
        (None, "2", {"i": 2}),
        ("t", "3", {"i": 3}),
    ]
    assert (letters.count, len(letters.first)) == (3, 3)


def test_a_resumed_run_keeps_earlier_rejects_and_a_replay_is_read_once(folder: UPath) -> None:
    DeadLetters(folder, resume=False).extend([_reject(1), _reject(2)])

    DeadLetters(folder, resume=True).extend([_reject(2), _reject(2, "other tenant"), _reject(4)])

    assert [(r.tenant, r.uuid[-1]) for r in read_dead_letters(folder)] == [
        (None, "1"),
        (None, "2"),
        ("other tenant", "2"),
        (None, "4"),
    ]


def test_a_fresh_copy_starts_empty_and_a_missing_folder_holds_nothing(folder: UPath) -> None:
    assert list(read_dead_letters(folder)) == []
    DeadLetters(folder, resume=False).extend([_reject(1)])

    DeadLetters(folder, resume=False)

    assert list(read_dead_letters(folder)) == []
