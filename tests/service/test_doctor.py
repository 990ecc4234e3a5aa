"""`fixloop doctor` on two healthy repositories and two broken tables, through the real command
line: one JSON object per repository, one line per problem, a non-zero exit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import fixloop
from tests.support.github_setup import TOKEN
from tests.support.sandbox import FAST
from tests.support.two_repos import Repo, build_two_repos, github_for_all, table

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def repos(tmp_path_factory: pytest.TempPathFactory) -> tuple[Repo, Repo]:
    return build_two_repos(tmp_path_factory.mktemp("doctor") / "repos")


def _write_settings(where: Path, tables: dict[str, dict[str, Any]], **top: Any) -> None:
    settings = {
        "forge": "github",
        "github_token": TOKEN,
        "pytest_args": FAST,
        "test_timeout": 120,
        **top,
    }
    lines = [f"{key} = {json.dumps(value)}" for key, value in settings.items()]
    for name, values in tables.items():
        lines.append(f"[repos.{name}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in values.items()]
    (where / "fixloop.toml").write_text("\n".join(lines) + "\n")


def _pytest_version(python: str) -> str:
    probe = [python, "-c", "import pytest; print(pytest.__version__)"]
    return subprocess.run(probe, check=True, capture_output=True, text=True).stdout.strip()


def test_doctor_reports_each_repository_and_names_each_broken_table(
    tmp_path: Path, repos: tuple[Repo, Repo]
) -> None:
    shop, web = repos
    bare = tmp_path / "bare-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    _write_settings(
        tmp_path,
        {
            "shop": table(shop),
            "web": table(web),
            "gone": {"checkout": str(tmp_path / "gone"), "projects": ["9"]},
            "nopytest": {
                "checkout": str(shop.checkout),
                "python": str(bare / "bin" / "python"),
                "github_repo": "acme/shop",
            },
        },
    )

    result = fixloop(tmp_path / "state", "doctor", "--json", cwd=tmp_path)

    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    found = {repo["name"]: repo for repo in report["repos"]}
    assert list(found) == ["shop", "web", "gone", "nopytest"]
    for repo in (shop, web):
        entry = found[repo.table]
        assert {k: entry[k] for k in ("checkout", "github_repo", "python", "tests")} == {
            "checkout": str(repo.checkout),
            "github_repo": repo.github_repo,
            "python": repo.python,
            "tests": repo.tests,
        }
        assert entry["pytest"] == _pytest_version(repo.python)
        assert entry["problems"] == []
    assert found["gone"]["problems"] == [
        f"checkout {tmp_path / 'gone'} does not exist",
        "forge 'github' needs the settings github_repo and github_token",
    ]
    assert found["nopytest"]["pytest"] is None
    assert found["nopytest"]["tests"] is None
    assert len(found["nopytest"]["problems"]) == 1
    assert "has no pytest" in found["nopytest"]["problems"][0]
    assert "No module named 'pytest'" in found["nopytest"]["problems"][0]
    assert report["sandbox"]["name"] in ("bwrap", "subprocess")
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 3, result.stderr
    assert [line.split(":")[1].strip() for line in lines] == [
        "repos.gone",
        "repos.gone",
        "repos.nopytest",
    ]


def test_doctor_exits_zero_on_a_healthy_configuration_and_asks_github_only_online(
    tmp_path: Path, repos: tuple[Repo, Repo]
) -> None:
    shop, web = repos
    with github_for_all(shop, web) as github:
        wrong = table(web) | {"github_repo": "acme/missing", "projects": ["w2"]}
        _write_settings(
            tmp_path, {"shop": table(shop), "elsewhere": wrong}, github_api_url=github.url
        )

        offline = fixloop(tmp_path / "state", "doctor", cwd=tmp_path)
        calls_offline = len(github.calls)
        online = fixloop(tmp_path / "state", "doctor", "--online", cwd=tmp_path)

    assert offline.returncode == 0, offline.stderr
    assert "repos.shop" in offline.stdout and "16 tests" in offline.stdout
    assert calls_offline == 0
    assert online.returncode == 1
    assert online.stderr.strip().splitlines() == [
        "fixloop doctor: repos.elsewhere: GitHub repository acme/missing: "
        "404 Not Found: GET /repos/acme/missing"
    ]


def test_doctor_names_a_missing_base_branch_a_plugin_that_does_not_load_and_an_empty_suite(
    tmp_path: Path,
) -> None:
    from agent.service.doctor import check_all
    from agent.settings import Settings
    from tests.support.repo_builder import RepoBuilder

    builder = RepoBuilder(tmp_path / "repo")
    builder.commit({"test_ok.py": "def test_ok():\n    assert True\n"}, "initial")
    checkout = str(builder.path)
    settings = Settings(
        home=tmp_path / "state",
        pytest_args=FAST,
        repos={
            "ok": {"checkout": checkout},
            "branch": {"checkout": checkout, "base_branch": "release"},
            "plugin": {"checkout": checkout, "pytest_args": [*FAST, "-p", "no_such_plugin"]},
            "empty": {"checkout": checkout, "test_paths": ["nothing_here"]},
        },
    )

    found = {repo["name"]: repo for repo in check_all(settings)["repos"]}

    assert (found["ok"]["tests"], found["ok"]["problems"]) == (1, [])
    assert found["branch"]["problems"] == [f"base branch 'release' is not a branch of {checkout}"]
    assert found["plugin"]["tests"] is None
    [plugin] = found["plugin"]["problems"]
    assert plugin.startswith("the baseline run failed: pytest in ")
    assert "No module named 'no_such_plugin'" in plugin
    assert found["empty"]["problems"] == [
        "the suite collects no test: ERROR: file or directory not found: nothing_here"
    ]


def test_doctor_opens_the_stores_and_names_where_they_are(
    tmp_path: Path, database_url: str | None
) -> None:
    from agent.service.doctor import check_all, render
    from agent.settings import Settings

    report = check_all(Settings(home=tmp_path / "state", database_url=database_url))

    assert report["store"]["problem"] is None
    expected = "sqlite in " if database_url is None else "postgresql://127.0.0.1:5432/test?"
    assert report["store"]["name"].startswith(expected)
    assert "\nstore: " + report["store"]["name"] + " (ok)" in render(report)


def test_doctor_names_a_database_it_cannot_open_without_its_password(tmp_path: Path) -> None:
    from agent.service.doctor import check_all
    from agent.settings import Settings

    url = "postgresql://fixloop:hunter2@127.0.0.1:5432/no_such_database_here"
    report = check_all(Settings(home=tmp_path / "state", database_url=url))

    problem = report["store"]["problem"]
    assert problem is not None and problem in report["problems"]
    assert "no_such_database_here" in problem and "hunter2" not in problem
    assert "hunter2" not in report["store"]["name"]
