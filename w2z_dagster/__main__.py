"""`python -m w2z_dagster`: the `w2z` command where the console script is not on PATH."""

from w2z_dagster.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
