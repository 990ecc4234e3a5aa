"""Two repositories on one server with the GitHub forge: each incident is routed to its own
repository table, its suite runs with that table's interpreter and test paths, and its PR opens
on that table's GitHub repository. Git, pytest, the sandbox and PyGithub are real; GitHub is a
local fake serving both repositories behind one API URL."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from agent import wiring
from agent.service.server import create_app
from agent.service.worker import Worker
from agent.settings import Settings
from tests.support import signed
from tests.support.github_setup import TOKEN
from tests.support.local_client import local_client
from tests.support.payloads import alert
from tests.support.repo_builder import git
from tests.support.sandbox import FAST
from tests.support.two_repos import build_two_repos, github_for_all, table

pytestmark = pytest.mark.slow


def test_each_repository_gets_its_own_pr_interpreter_and_test_paths(tmp_path: Path) -> None:
    shop, web = build_two_repos(tmp_path / "repos")
    with github_for_all(shop, web) as github:
        settings = Settings(
            home=tmp_path / "state",
            test_timeout=120,
            worker=False,
            pytest_args=FAST,
            python=str(tmp_path / "no-such-python"),  # a run that falls back to it fails
            forge="github",
            github_repo="acme/not-this-one",
            github_token=SecretStr(TOKEN),
            github_api_url=github.url,
            sentry_client_secret=SecretStr(signed.SENTRY_SECRET),
            repos={shop.table: table(shop), web.table: table(web)},
        )
        with local_client(create_app(settings)) as client:
            ids = {
                repo.table: signed.post_sentry(client, _alert(repo.project)).json()["incident_id"]
                for repo in (shop, web)
            }
            assert Worker(settings, wiring.inbox(settings)).drain() == 2
            runs = {name: client.get(f"/incidents/{i}").json()["run"] for name, i in ids.items()}

    for repo in (shop, web):
        run = runs[repo.table]
        assert run["status"] == "awaiting_review", run["audit"]
        assert run["repo_table"] == repo.table
        assert Path(run["repo"]) == repo.checkout.resolve()
        assert run["proof"]["baseline_passed"] == repo.tests
        fake = github.fakes[repo.github_repo]
        assert [pr["head"] for pr in fake.pulls.values()] == [f"fixloop/{ids[repo.table]}"]
        branches = git(repo.bare, "for-each-ref", "--format=%(refname:short)", "refs/heads/fixloop")
        assert branches == f"fixloop/{ids[repo.table]}"

    state = _state(settings, ids[web.table])
    assert state["run"]["repo_table"] == "web"
    assert state["run"]["settings"]["repo_table"] == "web"
    assert state["run"]["settings"]["github_repo"] == "acme/web"
    assert state["run"]["settings"]["python"] == web.python
    assert state["run"]["settings"]["test_paths"] == ["tests", "extra_tests"]


def _alert(project: str) -> dict[str, Any]:
    payload = alert(uuid.uuid4().hex)
    payload["data"]["event"]["project"] = project
    return payload


def _state(settings: Settings, incident_id: str) -> dict[str, Any]:
    from agent.service import runner

    return runner.incident_state(settings, incident_id)
