"""A pytest session pointed at a real server without the opt-in stops before any test, in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_session_refuses_a_real_server_without_the_opt_in() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("W2Z_TEST_")}
    env["W2Z_TEST_MILVUS_URI"] = "http://127.0.0.1:1"
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "w2z_dagster_tests/unit/core/test_uri.py",
    ]
    session = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert session.returncode == 4, session.stdout + session.stderr
    # pytest ends a usage error with an empty line; the message itself is one line.
    assert session.stderr.rstrip("\n") == (
        "ERROR: W2Z_TEST_MILVUS_URI set: the tests delete every collection there first; "
        "set W2Z_TEST_ALLOW_WIPE=1 to allow it, or unset it"
    )
    assert session.stdout == ""
