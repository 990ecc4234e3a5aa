"""Where a proof runs: the repository, the sandbox that runs its tests, and scratch space.

Each run of the tests gets its own git worktree under `scratch`, removed when the run ends.
Adding and removing worktrees is serialised, since proofs of several candidates run in threads.
A run killed mid-proof cannot remove its worktrees; the repository marks each with the process
that made it, and the next `add_worktree` (the next run's, or the resume's) removes those whose
process is gone (`GitRepo.remove_dead_worktrees` in tools/git_repo.py).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from agent.ports import Repo, Sandbox


@dataclass(frozen=True)
class Workbench:
    repo: Repo
    sandbox: Sandbox
    scratch: Path
    """Where the worktrees live."""
    lock: threading.Lock = field(default_factory=threading.Lock, compare=False)

    def add_worktree(self, rev: str, label: str) -> Path:
        """A fresh worktree of `rev`; the caller removes it with `remove_worktree`."""
        with self.lock:
            self.scratch.mkdir(parents=True, exist_ok=True)
            return self.repo.add_worktree(self.scratch / f"{label}-{uuid.uuid4().hex[:8]}", rev)

    def remove_worktree(self, tree: Path) -> None:
        with self.lock:
            self.repo.remove_worktree(tree)

    @contextmanager
    def worktree(self, rev: str, label: str) -> Iterator[Path]:
        """A fresh worktree of `rev` for the duration of the block."""
        tree = self.add_worktree(rev, label)
        try:
            yield tree
        finally:
            self.remove_worktree(tree)
