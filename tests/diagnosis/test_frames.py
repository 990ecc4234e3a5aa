"""Frames to code: a frame is the repository's when its path names a tracked file, whatever its
prefix or `in_app` says; deploy prefixes; source-line search; releases."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.diagnosis.frames import RepoFiles, map_frame, resolve_release
from agent.domain import Frame
from agent.errors import RepoError
from tests.support.repo_builder import RepoBuilder, git
from tools.git_repo import GitRepo

FILES = {"app/__init__.py", "app/reports.py", "src/shop/cart.py", "json/helpers.py", "jobs.py"}


@pytest.mark.parametrize(
    ("frame", "path", "origin"),
    [
        # Container and deploy paths, with in_app missing or wrong.
        (Frame(filename="/app/app/reports.py", in_app=False), "app/reports.py", "application"),
        (
            Frame(filename="x", abs_path="/srv/shop/releases/42/app/reports.py"),
            "app/reports.py",
            "application",
        ),
        (
            Frame(filename="cart.py", abs_path="/usr/src/app/src/shop/cart.py"),
            "src/shop/cart.py",
            "application",
        ),
        (Frame(filename="C:\\deploy\\app\\reports.py"), "app/reports.py", "application"),
        (Frame(filename="<unknown>", module="app.reports"), "app/reports.py", "application"),
        # A repository package that shadows a standard-library name is application code.
        (Frame(filename="helpers.py", module="json.helpers"), "json/helpers.py", "application"),
        # The repository's own package installed into a virtualenv, an egg, a wheel's zip.
        (
            Frame(
                filename="app/reports.py",
                abs_path="/venv/lib/python3.12/site-packages/app/reports.py",
                in_app=False,
            ),
            "app/reports.py",
            "application",
        ),
        (
            Frame(filename="/usr/lib/python3/dist-packages/shop/cart.py"),
            "src/shop/cart.py",
            "application",
        ),
        (
            Frame(filename="/opt/eggs/shop-1.0-py3.11.egg/shop/cart.py"),
            "src/shop/cart.py",
            "application",
        ),
        (Frame(filename="~/code/other-machine/app/reports.py"), "app/reports.py", "application"),
        # Library code is what the repository does not have, even when the SDK says in_app.
        (
            Frame(
                filename="json/decoder.py",
                abs_path="/usr/local/lib/python3.11/json/decoder.py",
                in_app=True,
            ),
            None,
            "library",
        ),
        (Frame(filename="C:\\Python311\\Lib\\json\\decoder.py"), None, "library"),
        (Frame(filename="decoder.py", module="json.decoder", in_app=True), None, "library"),
        (Frame(filename="<frozen runpy>", module="runpy"), None, "library"),
        (Frame(filename="vendor/other.py", module="vendor.other"), None, "library"),
        (Frame(filename="<stdin>", function="<module>"), None, "unknown"),
        # A file name alone names no file inside a package: not the repository's app/reports.py.
        (Frame(filename="/usr/lib/python3.11/reports.py"), None, "library"),
        (
            Frame(filename="/venv/lib/python3.12/site-packages/other/jobs.py", module="other.jobs"),
            None,
            "library",
        ),
        (Frame(filename="/srv/worker/jobs.py", module=None), "jobs.py", "application"),
    ],
)
def test_frames_map_to_files_or_libraries(frame: Frame, path: str | None, origin: str) -> None:
    mapping = map_frame(frame, FILES)
    assert (mapping.path, mapping.origin) == (path, origin), mapping.how


def test_a_deploy_prefix_beats_a_longer_accidental_suffix() -> None:
    tracked = {"jobs.py", "worker/jobs.py"}
    frame = Frame(filename="/srv/worker/jobs.py")
    assert map_frame(frame, tracked).path == "worker/jobs.py"
    prefixed = map_frame(frame, tracked, prefixes=["/srv/worker"])
    assert (prefixed.path, prefixed.how) == ("jobs.py", "deploy prefix /srv/worker/")


def test_a_frame_without_a_path_is_placed_by_its_one_source_line() -> None:
    sources = {
        "app/reports.py": "def total(rows):\n    return sum(row.amount for row in rows)\n",
        "app/other.py": "def total(rows):\n    return sum(row.amount for row in rows)\n"
        "def summary(rows):\n    return sum(row.amount for row in rows)\n",
    }

    def search(text: str) -> list[tuple[str, int]]:
        return [
            (path, number)
            for path, source in sources.items()
            for number, line in enumerate(source.splitlines(), start=1)
            if line.strip() == text
        ]

    files = RepoFiles(sources, search, sources.get)
    line = "return sum(row.amount for row in rows)"
    cell = Frame(filename="Cell In[3]", function="summary", lineno=2, context_line=line)
    mapping = map_frame(cell, files)
    assert (mapping.path, mapping.line, mapping.origin) == ("app/other.py", 4, "application")
    assert "app/other.py:4" in mapping.how
    # In two files, and the function does not tell which: not placed.
    ambiguous = map_frame(cell.model_copy(update={"function": "<module>"}), files)
    assert (ambiguous.path, ambiguous.origin) == (None, "unknown")
    # A library frame's line is never searched for, even when the repository has it.
    library = cell.model_copy(update={"filename": "/usr/lib/python3.11/stats.py"})
    assert map_frame(library, files).origin == "library"


@pytest.fixture
def released(tmp_path: Path) -> tuple[GitRepo, str, str]:
    builder = RepoBuilder(tmp_path / "repo")
    first = builder.commit({"app.py": "x = 1\n"}, "one")
    git(builder.path, "tag", "v1.4.2", first)
    second = builder.commit({"app.py": "x = 2\n"}, "two")
    return GitRepo(builder.path), first, second


@pytest.mark.parametrize(
    ("release", "expected", "named"),
    [
        ("v1.4.2", "first", "v1.4.2"),
        ("shop@1.4.2", "first", "v1.4.2"),
        ("shop@1.4.2+build7", "first", "v1.4.2"),
        ("shop@9.9.9+{second7}", "second", "{second7}"),
        ("{second}", "second", "{second}"),
        ("v1.4.2-1-g{second7}", "second", "v1.4.2-1-g{second7}"),  # git reads describe output
        ("v9.9-3-g{second7}", "second", "v9.9-3-g{second7}"),  # a tag this clone lacks
        ("prod-2024-05-01", "first", "deploy-may"),
        ("shop@0.0.1", None, None),
    ],
)
def test_releases_resolve_to_commits(
    released: tuple[GitRepo, str, str], release: str, expected: str | None, named: str | None
) -> None:
    repo, first, second = released
    shas = {"first": first, "second": second}
    fill = {"second": second, "second7": second[:7]}

    def resolve(revision: str) -> str | None:
        try:
            return repo.head(revision)
        except RepoError:
            return None

    git(repo.path, "tag", "deploy-may", first)
    found = resolve_release(release.format(**fill), resolve, {"prod-2024-05-01": "deploy-may"})
    if expected is None:
        assert found is None
    else:
        assert found == (shas[expected], (named or "").format(**fill))
