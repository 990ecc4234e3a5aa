"""A target repo with a bare `origin`, a fake GitHub over it, and a GitHubForge that uses both."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from github import Auth, Github

from tests.support.fakes.github import FakeGitHub
from tests.support.repo_builder import git
from tools.git_repo import GitRepo
from tools.github_forge import GitHubForge

FULL_NAME = "acme/shop"
TOKEN = "ghs_test_token_0123456789"


@dataclass
class GitHubSetup:
    fake: FakeGitHub
    bare: Path
    repo: GitRepo

    def forge(self, labels: list[str] | None = None) -> GitHubForge:
        client = Github(
            auth=Auth.Token(TOKEN),
            base_url=self.fake.url,
            seconds_between_requests=0,
            seconds_between_writes=0,
        )
        return GitHubForge(
            client,
            FULL_NAME,
            self.repo,
            "main",
            remote_url=str(self.bare),
            token=TOKEN,
            labels=["fixloop"] if labels is None else labels,
        )


@contextmanager
def github_for(repo_path: Path, bare: Path) -> Iterator[GitHubSetup]:
    """Clone `repo_path` bare as its origin and serve a fake GitHub over the clone."""
    git(bare.parent, "clone", "--quiet", "--bare", str(repo_path), str(bare))
    with FakeGitHub(FULL_NAME, bare) as fake:
        yield GitHubSetup(fake=fake, bare=bare, repo=GitRepo(repo_path))
