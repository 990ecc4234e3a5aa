"""Build real git repositories in temp dirs for tests: one call per commit, fixed dates."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        ["git", "-C", str(repo), *args],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )
    return result.stdout.strip()


class RepoBuilder:
    """A git repo whose commits have increasing, deterministic dates."""

    def __init__(self, path: Path, branch: str = "main") -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        git(path, "init", "--quiet", "-b", branch)
        git(path, "config", "user.name", "Test Author")
        git(path, "config", "user.email", "author@example.com")
        git(path, "config", "commit.gpgsign", "false")
        self._clock = 1_700_000_000

    def commit(
        self, files: dict[str, str | None], message: str, author: str = "Test Author"
    ) -> str:
        """Write (or with None, delete) `files`, commit them, return the sha."""
        for name, text in files.items():
            target = self.path / name
            if text is None:
                git(self.path, "rm", "--quiet", "--", name)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            git(self.path, "add", "--", name)
        self._clock += 3600
        stamp = f"@{self._clock} +0000"
        env = {
            "GIT_AUTHOR_DATE": stamp,
            "GIT_COMMITTER_DATE": stamp,
            "GIT_AUTHOR_NAME": author,
        }
        git(self.path, "commit", "--quiet", "-m", message, env=env)
        return git(self.path, "rev-parse", "HEAD")
