"""Eval cases on the fleet: `fixloop eval --broker URL` sends each case to a worker, which
replays it the way the local runner does (`python -m evals.replay`, one process per case, in
its own state directory under the worker's), and sends the scored result back.

The case directory must be readable on the worker at the same path (the repository's
`evals/cases` in the same checkout location, or shared storage).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from agent.settings import Settings

# The replay is an embedded run of its own: no fleet store, no broker.
_NOT_PASSED = ("FIXLOOP_DATABASE_URL", "FIXLOOP_BROKER_URL", "FIXLOOP_HOME")


def replay_here(
    settings: Settings, case: str, engines: list[str], timeout: float
) -> dict[str, Any]:
    """Replay case directory `case` in a child process; its result, or why there is none."""
    workdir = (settings.home / "evals" / "cases").resolve()
    env = {key: value for key, value in os.environ.items() if key not in _NOT_PASSED}
    with tempfile.TemporaryDirectory(prefix="fixloop-eval-") as scratch:
        out = Path(scratch) / "result.json"
        command = [sys.executable, "-m", "evals.replay", case, "--workdir", str(workdir)]
        command += ["--engine", ",".join(engines), "--out", str(out)]
        try:
            process = subprocess.run(
                command, capture_output=True, text=True, timeout=timeout, env=env
            )
        except subprocess.TimeoutExpired:
            return {"error": f"timed out after {timeout:g}s"}
        if not out.is_file():
            tail = " | ".join(process.stderr.strip().splitlines()[-3:])
            return {"error": f"the replay process died (exit {process.returncode}): {tail}"}
        result: dict[str, Any] = json.loads(out.read_text())
        result["worker"] = f"{os.uname().nodename}:{os.getpid()}"
        return result
