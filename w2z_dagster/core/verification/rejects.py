"""Rejects: nothing may be dead-lettered for a copy to count as right."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from upath import UPath

from w2z_dagster.core.dead_letters import read_dead_letters
from w2z_dagster.core.transform import Reject
from w2z_dagster.core.verification.report import REJECTS, CheckResult, Listed


def check_rejects(rejects: Iterable[Reject], listed: int = 20) -> CheckResult:
    """Any dead-lettered object means the copy is incomplete, whatever the other checks say."""
    found = Listed(listed)
    for reject in rejects:
        found.add({"tenant": reject.tenant or "", "uuid": reject.uuid, "detail": reject.reason})
    return CheckResult(
        name=REJECTS,
        passed=found.count == 0,
        summary=f"{found.count} object(s) dead-lettered",
        numbers={"dead_lettered": found.count},
        mismatches=found.rows,
    )


def dead_letters_in(folder: UPath | None) -> Iterator[Reject]:
    return read_dead_letters(folder) if folder is not None else iter(())
