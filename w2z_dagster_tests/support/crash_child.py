"""A migration run that kills its own process with SIGKILL at a chosen point, for the crash test.

The hooks wrap w2z's own core functions (never weaviate-client or pymilvus), so the run is otherwise the
ordinary Dagster run the UI would launch, against real servers.
"""

from __future__ import annotations

import argparse
import os
import signal
import uuid
from collections.abc import Callable
from typing import Any

import dagster as dg

from w2z_dagster.cli import runs
from w2z_dagster.core import sink as sink_module
from w2z_dagster.core import source as source_module
from w2z_dagster.core import stream as stream_module
from w2z_dagster.definitions import defs
from w2z_dagster.lib.slices import slice_partition

POINTS = ("before-write", "after-write", "in-transform", "in-read", "after-checkpoint")


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _on_call(owner: Any, name: str, nth: int, before: bool) -> None:
    original: Callable[..., Any] = getattr(owner, name)
    calls = {"n": 0}

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if before and calls["n"] == nth:
            _die()
        result = original(*args, **kwargs)
        if not before and calls["n"] == nth:
            _die()
        return result

    setattr(owner, name, wrapped)


def _on_page(nth: int) -> None:
    original = source_module.WeaviateSource.pages

    def pages(self: Any, *args: Any, **kwargs: Any) -> Any:
        for count, page in enumerate(original(self, *args, **kwargs), start=1):
            if count == nth:
                _die()
            yield page

    source_module.WeaviateSource.pages = pages  # type: ignore[method-assign]


def _on_checkpoint(nth: int) -> Callable[[dg.EventLogEntry], None]:
    """Dies at the n-th recorded checkpoint; the run then records one after every write."""
    seen = {"n": 0}

    def listener(entry: dg.EventLogEntry) -> None:
        event = entry.dagster_event
        if event is not None and event.event_type_value == "ASSET_OBSERVATION":
            seen["n"] += 1
            if seen["n"] == nth:
                _die()

    return listener


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("collection")
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--kill", choices=POINTS)
    parser.add_argument("--at", type=int, default=1, help="the n-th call at which to die")
    parser.add_argument("--slice", type=int, help="run only this slice of the recorded plan (`--plan` first)")
    parser.add_argument(
        "--plan", type=int, help="record a plan of this many slices of 100+ objects; copy nothing"
    )
    args = parser.parse_args()
    listener = None
    if args.kill == "before-write":
        _on_call(sink_module.MilvusSink, "write", args.at, before=True)
    elif args.kill == "after-write":
        _on_call(sink_module.MilvusSink, "write", args.at, before=False)
    elif args.kill == "in-transform":
        _on_call(stream_module, "to_rows", args.at, before=True)
    elif args.kill == "in-read":
        _on_page(args.at)
    config: dict[str, Any] = {"batch_size": args.batch_size}
    if args.kill == "after-checkpoint":
        listener = _on_checkpoint(args.at)
        config["checkpoint_interval_seconds"] = 0
    instance = dg.DagsterInstance.get()
    runs.register_partitions(instance, [args.collection])
    definitions = defs()
    if args.plan is not None:
        planned = definitions.resolve_job_def("plan_slices_job").execute_in_process(
            partition_key=args.collection,
            instance=instance,
            run_config={"ops": {"slice_plan": {"config": {"slices": args.plan, "min_slice_objects": 100}}}},
        )
        return 0 if planned.success else 1
    if args.slice is not None:
        return _slice(definitions, instance, args.collection, args.slice, config, listener)
    result = runs.materialize_collection(definitions, instance, args.collection, config, on_event=listener)
    return 0 if result.success else 1


def _slice(
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    collection: str,
    index: int,
    config: dict[str, Any],
    listener: Callable[[dg.EventLogEntry], None] | None,
) -> int:
    run_id = str(uuid.uuid4())
    if listener is not None:
        instance.add_event_listener(run_id, listener)
    result = definitions.resolve_job_def("migrate_slices_job").execute_in_process(
        partition_key=slice_partition(collection, index),
        instance=instance,
        run_config={"ops": {"migrated_slices": {"config": config}}},
        run_id=run_id,
        raise_on_error=False,
    )
    return 0 if result.success else 1


if __name__ == "__main__":
    raise SystemExit(main())
