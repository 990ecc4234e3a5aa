"""Replay one case through the real graph with embedded backends, then score it.

`python -m evals.replay CASE_DIR --workdir DIR --engine NAME --out RESULT.json` is what the
eval runner starts, one process per case, so that a case that crashes, hangs or runs out of
memory costs only its own result. Settings come from the environment and `fixloop.toml` as
for any fixloop command; the case decides the test command and the state directory.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from agent import wiring
from agent.domain import Patch, TestRun
from agent.errors import FixloopError
from agent.intake.payloads import load_event_file
from agent.proof.prove import apply_patch
from agent.service import runner
from agent.settings import Settings
from evals.case import Case, load_case, parse_pytest_command
from evals.score import error_result, score

SETUP_TIMEOUT = 600


def replay_case(case: Case, base: Settings, engines: list[str], workdir: Path) -> dict[str, Any]:
    """Run `case` from a fresh scratch directory under `workdir` and return its result record."""
    scratch = (workdir / case.id).resolve()
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    repo = scratch / "repo"
    _git("clone", "--quiet", str(case.bundle), str(repo))
    settings = case_settings(case, base, engines, scratch, repo)
    incident, payload = load_event_file(case.incident_file)
    started = time.monotonic()
    summary = runner.run_incident(settings, repo, incident, payload)
    seconds = time.monotonic() - started
    state = runner.incident_state(settings, summary["incident"])
    hidden = None
    if case.expect == "fix" and state.get("proven") and case.hidden_test_command:
        hidden = run_hidden_tests(case, settings, repo, state, scratch)
    return score(case, state, seconds, hidden)


def case_settings(
    case: Case, base: Settings, engines: list[str], scratch: Path, repo: Path
) -> Settings:
    """The user's settings, with the case's own test command, interpreter and state directory."""
    command = parse_pytest_command(case.test_command, case.path / "case.toml")
    python = case.python or base.python
    if case.setup:
        python = _setup(case, scratch, repo, python)
    return base.model_copy(
        update={
            "home": scratch / "home",
            "engines": engines,
            "python": python,
            "pytest_args": [*base.pytest_args, *command.options],
            "test_paths": command.paths,
            "base_branch": None,
            # A replay is scored as the whole loop: the operator's controls (a day's spend on a
            # shared store, a repository's automation level) are not the case's.
            "automation": "pr",
            "max_model_cost_usd_per_day": 1e9,
        }
    )


def run_hidden_tests(
    case: Case, settings: Settings, repo_path: Path, state: dict[str, Any], scratch: Path
) -> TestRun:
    """Apply the proven patch to the base commit, overlay `hidden/`, run the hidden command."""
    command = parse_pytest_command(case.hidden_test_command, case.path / "case.toml")
    patch = Patch.model_validate(state["proven"])
    repo = wiring.open_repo(repo_path)
    tree = repo.add_worktree(scratch / "hidden-check", state["base_commit"])
    try:
        refusal = apply_patch(tree, patch)
        if refusal is not None:
            return TestRun(exit_code=1, output=f"the proven patch does not apply: {refusal}")
        if case.hidden_dir.is_dir():
            shutil.copytree(case.hidden_dir, tree, dirs_exist_ok=True)
        hidden_settings = settings.model_copy(
            update={"pytest_args": [*settings.pytest_args, *command.options], "test_paths": []}
        )
        return wiring.sandbox(hidden_settings).run_tests(tree, command.paths or None)
    finally:
        repo.remove_worktree(tree)


def _setup(case: Case, scratch: Path, repo: Path, python: str) -> str:
    """Run the case's `setup` once in a virtualenv of its own that sees the base interpreter's
    packages; return that virtualenv's interpreter, which then runs the case's tests."""
    venv = scratch / "venv"
    _run([python, "-m", "venv", "--system-site-packages", str(venv)], scratch, "create venv")
    env = {
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "VIRTUAL_ENV": str(venv),
        "HOME": str(scratch),
        "LANG": "C.UTF-8",
    }
    assert case.setup is not None
    _run(["/bin/sh", "-c", case.setup], repo, "setup", env)
    return str(venv / "bin" / "python")


def _run(argv: list[str], cwd: Path, what: str, env: dict[str, str] | None = None) -> None:
    try:
        result = subprocess.run(
            argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=SETUP_TIMEOUT
        )
    except subprocess.TimeoutExpired:
        raise FixloopError(f"{what} did not finish in {SETUP_TIMEOUT}s") from None
    if result.returncode != 0:
        tail = " | ".join((result.stdout + result.stderr).strip().splitlines()[-3:])
        raise FixloopError(f"{what} failed (exit {result.returncode}): {tail}")


def _git(*args: str) -> None:
    result = subprocess.run(["git", *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise FixloopError(f"git {args[0]} failed: {result.stderr.strip()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.replay")
    parser.add_argument("case", type=Path)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--engine", required=True, help="engine names, comma-separated")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    started = time.monotonic()
    case: Case | None = None
    try:
        case = load_case(args.case)
        result = replay_case(case, Settings(), args.engine.split(","), args.workdir)
    except FixloopError as error:
        result = error_result(args.case.name, str(error), time.monotonic() - started, case)
    except Exception as error:  # one case's crash is its own result, never the run's end
        where = traceback.extract_tb(error.__traceback__)[-1]
        reason = f"{type(error).__name__}: {error} (at {Path(where.filename).name}:{where.lineno})"
        result = error_result(args.case.name, reason, time.monotonic() - started, case)
    if case is not None:
        result["id"] = case.id
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
