"""Run the real `fixloop` command line in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support.paths import ROOT


def fixloop_env(home: Path, database_url: str | None = None) -> dict[str, str]:
    """The environment of a `fixloop` process: state in `home`, the stores in PostgreSQL at
    `database_url` when given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIXLOOP_")}
    env["FIXLOOP_HOME"] = str(home)
    env["PYTHONPATH"] = str(ROOT)
    if database_url is not None:
        env["FIXLOOP_DATABASE_URL"] = database_url
    return env


def fixloop(
    home: Path, *args: str, cwd: Path | None = None, database_url: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent.service.cli", *args],
        env=fixloop_env(home, database_url),
        cwd=cwd or ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def fixloop_json(home: Path, *args: str, database_url: str | None = None) -> dict[str, Any]:
    result = fixloop(home, *args, "--json", database_url=database_url)
    assert result.returncode == 0, result.stderr
    summary: dict[str, Any] = json.loads(result.stdout)
    return summary
