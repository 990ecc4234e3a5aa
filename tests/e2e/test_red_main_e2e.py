"""End to end: GitHub says CI failed on main -> fixloop finds the test the commit broke by running
the suite at the commit and its parent in the sandbox -> one incident, one ticket, one draft PR on
GitHub. The same webhook redelivered, and a check_suite of the same commit, make nothing more.
Git, SQLite, pytest and the sandbox are real; GitHub is a local fake PyGithub talks to."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from agent import wiring
from agent.service.server import create_app
from agent.service.worker import Worker
from agent.settings import Settings
from tests.support import signed
from tests.support.github_setup import FULL_NAME, TOKEN, github_for
from tests.support.local_client import local_client
from tests.support.red_main import BROKEN_TEST, FLAKY_TEST, red_inventory_repo
from tests.support.repo_builder import git
from tests.support.sandbox import FAST

pytestmark = pytest.mark.slow


def test_a_red_main_on_github_becomes_one_incident_one_ticket_and_one_pr(tmp_path: Path) -> None:
    repo, red = red_inventory_repo(tmp_path / "shop", flaky=True)
    with github_for(repo, tmp_path / "origin.git") as github:
        settings = Settings(
            home=tmp_path / "state",
            worker=False,
            test_timeout=120,
            pytest_args=FAST,
            repos={"shop": repo},
            github_webhook_secret=SecretStr(signed.GITHUB_SECRET),
            forge="github",
            github_repo=FULL_NAME,
            github_token=SecretStr(TOKEN),
            github_api_url=github.fake.url,
            github_remote_url=str(github.bare),
        )
        worker = Worker(settings, wiring.inbox(settings))
        with local_client(create_app(settings)) as client:
            body, headers = signed.github("workflow_run", signed.workflow_run(FULL_NAME, red))
            first = client.post("/webhooks/github", content=body, headers=headers).json()
            assert first["outcome"] == "new"
            assert worker.drain() == 1
            record = client.get(f"/incidents/{first['incident_id']}").json()

            again = client.post("/webhooks/github", content=body, headers=headers).json()
            body, headers = signed.github("check_suite", signed.check_suite(FULL_NAME, red))
            suite = client.post("/webhooks/github", content=body, headers=headers).json()
            assert worker.drain() == 0

    run = record["run"]
    assert run["status"] == "awaiting_review", run["audit"]
    assert run["incident"] == first["incident_id"]
    assert run["title"].startswith("KeyError")
    tests = next(n for n in record["incident"]["notes"] if n["kind"] == "tests")["detail"]
    assert (tests["commit"], tests["broken"], tests["flaky"]) == (red, [BROKEN_TEST], [FLAKY_TEST])
    assert (again["outcome"], suite["outcome"]) == ("duplicate_delivery", "duplicate_delivery")
    assert wiring.inbox(settings).stats()["incidents"] == 1
    [ticket] = wiring.tracker(settings).all()
    assert f"`{BROKEN_TEST}`" in ticket.body and FLAKY_TEST not in ticket.body
    [flaky] = [c for c in wiring.tracker(settings).comments(ticket.key) if "Flaky" in c]
    assert f"`{FLAKY_TEST}`" in flaky and "not fixed" in flaky
    assert list(github.fake.pulls) == [1]
    pr = github.fake.pulls[1]
    assert BROKEN_TEST in pr["body"] and FLAKY_TEST not in pr["body"]
    assert (pr["draft"], pr["head"]) == (True, f"fixloop/{first['incident_id']}")
    branch = git(github.bare, "rev-parse", f"refs/heads/fixloop/{first['incident_id']}")
    assert git(github.bare, "rev-parse", f"{branch}^") == red
