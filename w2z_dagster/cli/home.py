"""The Dagster instance directory (`DAGSTER_HOME`) that w2z runs record into.

Dagster treats a home without `dagster.yaml` as a new installation: it prints its telemetry banner into
the user's migration output and runs with its own defaults instead of the project's concurrency and
run-retry settings. Every home w2z opens therefore starts from the project's `dagster.yaml`, shipped
inside the package (a link to the top-level file, so there is one copy).
"""

from __future__ import annotations

import shutil
from pathlib import Path

INSTANCE_SETTINGS = Path(__file__).with_name("dagster.yaml")


def prepare_home(home: Path) -> Path:
    """Create `home` with the project's instance settings unless it already has its own."""
    home.mkdir(parents=True, exist_ok=True)
    settings = home / "dagster.yaml"
    if not settings.exists():
        shutil.copyfile(INSTANCE_SETTINGS, settings)
    return home
