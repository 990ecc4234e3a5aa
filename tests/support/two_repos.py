"""Two repositories served by one fixloop: each its own checkout, GitHub repository, interpreter
(a second virtual environment) and test paths, behind one fake GitHub API."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.demo.sample_repo import build_demo_repo
from tests.support.fakes.github import FakeGitHub
from tests.support.fakes.http import FakeServer, Request
from tests.support.repo_builder import git

_REPO = re.compile(r"^/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)")

EXTRA_TESTS = """\
from app import reports


def test_average_of_one_order():
    assert reports.average_basket([{"total_cents": 250}]) == 250


def test_average_of_two_orders():
    orders = [{"total_cents": 100}, {"total_cents": 300}]
    assert reports.average_basket(orders) == 200
"""

INTERPRETER_CHECK = """\
import os
import sys

EXPECTED = {expected!r}


def pytest_configure(config):
    here = os.path.realpath(sys.prefix)
    if here != EXPECTED:
        raise RuntimeError("this suite runs in " + EXPECTED + ", not in " + here)
"""


class _BehindFront(FakeGitHub):
    """A fake GitHub repository whose API URLs are the front's (PyGithub follows them)."""

    front_url = ""

    def _repo_url(self) -> str:
        return f"{self.front_url}/repos/{self.full_name}"


class FakeGitHubs(FakeServer):
    """Several fake GitHub repositories behind one API URL, each request routed by the
    `owner/name` it names; a repository it does not hold is a 404."""

    def __init__(self, fakes: list[_BehindFront]) -> None:
        self.fakes = {fake.full_name.lower(): fake for fake in fakes}
        super().__init__([])
        for fake in fakes:
            fake.front_url = self.url

    def dispatch(self, request: Request) -> tuple[Any, ...]:
        match = _REPO.match(request.path)
        fake = self.fakes.get(f"{match['owner']}/{match['name']}".lower()) if match else None
        if fake is None:
            return 404, {"message": f"Not Found: {request.method} {request.path}"}
        return fake.dispatch(request)


@dataclass(frozen=True)
class Repo:
    table: str
    project: str
    github_repo: str
    checkout: Path
    bare: Path
    python: str
    test_paths: list[str]
    tests: int
    """How many tests `test_paths` collect."""


def build_two_repos(root: Path) -> tuple[Repo, Repo]:
    """`shop` runs in this interpreter with `tests/`; `web` in a second virtual environment
    with `tests/` and `extra_tests/`. Each suite's root conftest refuses any other interpreter."""
    venv = root / "venv-web"
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)],
        check=True,
    )
    shop = _repo(root / "shop", sys.executable, {})
    web_python = str(venv / "bin" / "python")
    web = _repo(root / "web", web_python, {"extra_tests/test_more.py": EXTRA_TESTS})
    return (
        Repo("shop", "4504", "acme/shop", shop, root / "shop.git", sys.executable, ["tests"], 16),
        Repo(
            "web",
            "web-frontend",
            "acme/web",
            web,
            root / "web.git",
            web_python,
            ["tests", "extra_tests"],
            18,
        ),
    )


def _repo(where: Path, python: str, files: dict[str, str]) -> Path:
    checkout = build_demo_repo(where)
    prefix = subprocess.run(
        [python, "-c", "import os, sys; print(os.path.realpath(sys.prefix))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    for name, text in {"conftest.py": INTERPRETER_CHECK.format(expected=prefix), **files}.items():
        (checkout / name).parent.mkdir(parents=True, exist_ok=True)
        (checkout / name).write_text(text)
        git(checkout, "add", "--", name)
    identity = ["-c", "user.name=Test Author", "-c", "user.email=author@example.com"]
    git(checkout, *identity, "commit", "--quiet", "-m", "tests: check the interpreter")
    return checkout


def table(repo: Repo) -> dict[str, Any]:
    """The repository's table in fixloop's settings."""
    return {
        "checkout": str(repo.checkout),
        "projects": [repo.project],
        "github_repo": repo.github_repo,
        "github_remote_url": str(repo.bare),
        "python": repo.python,
        "test_paths": repo.test_paths,
    }


@contextmanager
def github_for_all(*repos: Repo) -> Iterator[FakeGitHubs]:
    """Clone each repository bare as its origin; serve them all behind one fake GitHub."""
    with ExitStack() as stack:
        fakes = []
        for repo in repos:
            git(repo.bare.parent, "clone", "--quiet", "--bare", str(repo.checkout), str(repo.bare))
            fakes.append(stack.enter_context(_BehindFront(repo.github_repo, repo.bare)))
        yield stack.enter_context(FakeGitHubs(fakes))
