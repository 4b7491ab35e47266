"""One writer per collection, whatever started the run: the UI, the daemon, a schedule or the CLI.

`dagster.yaml` limits launched runs to one per partition, but the CLI executes in process and bypasses
the run queue, and a run relaunched while a lost pod still writes is a second writer too. Two writers
of one collection duplicate rows on a real Milvus (an insert keeps both copies of a key) and race each
other's checkpoints, so `migrated_batches` claims its partition first: it tags its own run with where it
executes, then refuses to go on while another in-progress run of the same partition holds such a tag.
A claiming run whose process is known to be gone (same host, pid no longer alive: a killed CLI run
stays STARTED in the instance forever) does not count; one on another host counts until Dagster's run
monitoring, or the user, ends it, because a lost pod may still be writing.
"""

from __future__ import annotations

import os
import socket

import dagster as dg

WRITER_TAG = "w2z/writer"
PARTITION_TAG = "dagster/partition"
IN_PROGRESS = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]


class ConcurrentRunError(RuntimeError):
    """Another run is writing the same collection; the message names it and how to stop it."""


def _here() -> str:
    return f"{socket.gethostname()}/{os.getpid()}"


def _gone(writer: str) -> bool:
    """Whether the process behind a writer tag is known to have ended (only knowable on this host)."""
    host, _, pid = writer.rpartition("/")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def claim_partition(instance: dg.DagsterInstance, run_id: str, partition: str) -> None:
    """Tag this run as the partition's writer, or raise if another live run already is.

    Tagging comes before looking, so of two runs claiming at once at least one sees the other (both
    may refuse, neither writes beside the other). An asset invoked directly (a unit test) has no run in
    the instance, and nothing to claim.
    """
    if instance.get_run_by_id(run_id) is None:
        return
    instance.add_run_tags(run_id, {WRITER_TAG: _here()})
    records = instance.get_run_records(
        filters=dg.RunsFilter(statuses=IN_PROGRESS, tags={PARTITION_TAG: partition})
    )
    for record in records:
        other = record.dagster_run
        writer = other.tags.get(WRITER_TAG)
        if other.run_id == run_id or writer is None or _gone(writer):
            continue
        raise ConcurrentRunError(
            f"run {other.run_id} ({writer}) is already writing collection '{partition}': wait for it to "
            f"finish, or stop it (Terminate in the Dagster UI, Ctrl-C in its terminal) and migrate again"
        )
