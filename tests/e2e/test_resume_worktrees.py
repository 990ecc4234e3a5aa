"""A run killed while it has a git worktree out leaves none behind once it is resumed."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from agent.intake.payloads import parse_payload
from tests.support.cli import fixloop_env, fixloop_json
from tests.support.paths import FIXTURES, ROOT
from tests.support.payloads import fixture_payload

pytestmark = pytest.mark.slow

EVENT = FIXTURES / "sentry_api_event.json"

DIE_AFTER_NTH_WORKTREE = """
import os, signal, sys
from tools.git_repo import GitRepo
original, calls = GitRepo.add_worktree, []
def add_then_die(self, where, rev):
    tree = original(self, where, rev)
    calls.append(tree)
    if len(calls) == int(sys.argv[1]):
        os.kill(os.getpid(), signal.SIGKILL)
    return tree
GitRepo.add_worktree = add_then_die
from agent.service.cli import main
sys.exit(main(sys.argv[2:]))
"""


def worktrees(repo: Path) -> list[str]:
    out = subprocess.run(
        ["git", "-C", str(repo), "worktree", "list", "--porcelain"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [
        line.removeprefix("worktree ") for line in out.splitlines() if line.startswith("worktree ")
    ]


@pytest.mark.parametrize("nth", [1, 3], ids=["detect", "validation"])
def test_resume_removes_the_worktrees_of_the_killed_run(
    tmp_path: Path, demo_repo: Path, nth: int
) -> None:
    home = tmp_path / "state"
    run = ["run", "--repo", str(demo_repo), "--event", str(EVENT)]
    killed = subprocess.run(
        [sys.executable, "-c", DIE_AFTER_NTH_WORKTREE, str(nth), *run],
        env=fixloop_env(home),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    left = [tree for tree in worktrees(demo_repo) if Path(tree) != demo_repo.resolve()]
    assert left, "the killed run had a worktree out"

    incident = parse_payload(fixture_payload("sentry_api_event.json")).id
    fixloop_json(home, "resume", incident)

    remaining = worktrees(demo_repo)
    assert not [tree for tree in left if tree in remaining or Path(tree).exists()]
