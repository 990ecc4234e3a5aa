"""Frames to code: library or application whatever `in_app` says, deploy prefixes, releases."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.diagnosis.frames import is_installed_path, map_frame, resolve_release
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
        # Library code, even when the SDK says in_app.
        (
            Frame(
                filename="app/reports.py",
                abs_path="/venv/lib/python3.12/site-packages/app/reports.py",
                in_app=True,
            ),
            None,
            "library",
        ),
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
        (Frame(filename="vendor/other.py", module="vendor.other"), None, "unknown"),
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


def test_install_locations() -> None:
    assert is_installed_path("/usr/lib/python3/dist-packages/requests/api.py")
    assert is_installed_path("/root/.pyenv/versions/3.11.7/lib/python3.11/json/decoder.py")
    assert is_installed_path("<frozen importlib._bootstrap>")
    assert not is_installed_path("/home/me/project/lib/helpers.py")
    assert not is_installed_path("/app/python3/lib/x.py")


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
