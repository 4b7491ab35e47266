"""`w2z`: the older migration script's command line, running the same Dagster assets as the UI.

`migrate` and `verify` materialize the assets through `runs.py`, so every CLI run is a Dagster run in the
instance's history. `--dry-run`, `--mode download` and `collections` only read: they never start a run,
register a partition or create anything on the target.

Exit codes: 0 all good; 1 a collection failed, was rejected in part, or failed verification; 2 bad
input (unknown collection, invalid option or setting, unreachable endpoint); 130 interrupted.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from dotenv import load_dotenv

from w2z_dagster.cli.context import Context, UsageError
from w2z_dagster.cli.logs import SecretMask
from w2z_dagster.cli.options import build_parser
from w2z_dagster.core.sink import SinkError
from w2z_dagster.core.source import SourceError

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    # Into the environment too, not only into Settings: the Dagster resources read secrets via EnvVar.
    load_dotenv(Path.cwd() / ".env", override=False)
    mask = SecretMask([])
    try:
        ctx = Context(args)
        mask = ctx.mask
        return args.handler(ctx)
    except (UsageError, SourceError, SinkError) as exc:
        print(f"w2z {args.command}: error: {mask.mask(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            f"w2z {args.command}: interrupted; run it again to resume from the last checkpoint",
            file=sys.stderr,
        )
        return 130
