"""Build the demo's sample service, `shop-service`: a git repo whose history introduces a bug.

The sources at HEAD live under `shop_service/` as `<path>.txt` files (package data). The
history is five commits with fixed authors and dates, so the same shas come out every time.
Commit 2 adds `app/reports.py` with an empty-orders guard; commit 4 ("reports: simplify
average_basket") drops it. No test covers a merchant without orders, so the suite passes on
HEAD while `GET /merchants/m-404/summary` raises ZeroDivisionError in `average_basket`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import git

from agent.errors import ConfigError

SOURCES = Path(__file__).parent / "shop_service"
REPO_NAME = "shop-service"
BUG_COMMIT_MESSAGE = "reports: simplify average_basket"
BUGGY_FILE = "app/reports.py"
BUGGY_FUNCTION = "average_basket"
CRASH_PATH = "/merchants/m-404/summary"
"""The URL that crashes: merchant m-404 has no orders yet."""

BUGGY_AVERAGE_BASKET = '''\
def average_basket(orders: list[dict]) -> float:
    """Mean order total in cents over the given orders."""
    total = sum(order["total_cents"] for order in orders)
    return total / len(orders)
'''

GUARDED_AVERAGE_BASKET = '''\
def average_basket(orders: list[dict]) -> float:
    """Mean order total in cents over the given orders."""
    if not orders:
        return 0.0
    total = 0
    for order in orders:
        total += order["total_cents"]
    return total / len(orders)
'''

GITIGNORE = "__pycache__/\n*.pyc\n.pytest_cache/\n"


@dataclass(frozen=True)
class SampleCommit:
    message: str
    author: str
    email: str
    date: str
    """Git's internal date format: epoch seconds and UTC offset."""
    files: tuple[str, ...]
    """Paths written at this commit, from the HEAD sources unless overridden."""
    overrides: Mapping[str, str] = field(default_factory=dict)
    """Path -> content where this commit's version differs from HEAD."""


def _guarded_reports() -> str:
    head = (SOURCES / f"{BUGGY_FILE}.txt").read_text()
    if head.count(BUGGY_AVERAGE_BASKET) != 1:
        raise RuntimeError(f"{BUGGY_FILE}.txt no longer holds the buggy average_basket")
    return head.replace(BUGGY_AVERAGE_BASKET, GUARDED_AVERAGE_BASKET)


HISTORY: tuple[SampleCommit, ...] = (
    SampleCommit(
        message="Initial shop service: in-memory order store",
        author="Ana Lima",
        email="ana@shop.example",
        date="1709539920 +0100",
        files=(
            ".gitignore",
            "pyproject.toml",
            "app/__init__.py",
            "app/orders.py",
            "tests/test_orders.py",
        ),
    ),
    SampleCommit(
        message="Add merchant summary report",
        author="Ana Lima",
        email="ana@shop.example",
        date="1709731800 +0100",
        files=("app/reports.py", "tests/test_reports.py"),
        overrides={"app/reports.py": _guarded_reports()},
    ),
    SampleCommit(
        message="Serve merchant summaries over HTTP",
        author="Ben Okafor",
        email="ben@shop.example",
        date="1709892300 +0100",
        files=("app/handlers.py", "app/web.py", "tests/test_handlers.py", "tests/test_web.py"),
    ),
    SampleCommit(
        message=BUG_COMMIT_MESSAGE,
        author="Chris Novak",
        email="chris@shop.example",
        date="1710258420 +0100",
        files=("app/reports.py",),
    ),
    SampleCommit(
        message="Add serve.py to run the service locally with Sentry reporting",
        author="Ben Okafor",
        email="ben@shop.example",
        date="1710408000 +0100",
        files=("serve.py", "README.md"),
    ),
)


def build_demo_repo(workdir: Path) -> Path:
    """Create `<workdir>/shop-service` as a fresh git repo with the sample history; return it."""
    target = workdir / REPO_NAME
    if target.exists():
        raise ConfigError(f"{target} exists already; build the demo repo in a fresh directory")
    target.mkdir(parents=True)
    repo = git.Repo.init(target, initial_branch="main")
    with repo.config_writer() as config:
        config.set_value("user", "name", "Shop Service Dev")
        config.set_value("user", "email", "dev@shop.example")
        config.set_value("commit", "gpgsign", "false")
    for commit in HISTORY:
        for path in commit.files:
            destination = target / path
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_text(_content(path, commit))
        repo.index.add(list(commit.files))
        actor = git.Actor(commit.author, commit.email)
        repo.index.commit(
            commit.message,
            author=actor,
            committer=actor,
            author_date=commit.date,
            commit_date=commit.date,
        )
    repo.close()
    return target


def _content(path: str, commit: SampleCommit) -> str:
    if path in commit.overrides:
        return commit.overrides[path]
    if path == ".gitignore":
        return GITIGNORE
    return (SOURCES / f"{path}.txt").read_text()
