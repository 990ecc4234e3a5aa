"""End to end: a GitHub issue with pytest's failure output pasted in it -> one incident whose
ticket is that issue -> a draft PR that says it fixes it. A redelivery makes nothing more, and an
issue fixloop opened itself (its ticket, with the stack) starts nothing. Git, SQLite, pytest and
the sandbox are real; GitHub is a local fake PyGithub talks to."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from agent import wiring
from agent.intake.payloads import parse_payload
from agent.prompting import render
from agent.service.server import create_app
from agent.service.worker import Worker
from agent.settings import RepoTable, Settings
from tests.support import signed
from tests.support.github_setup import FULL_NAME, TOKEN, github_for
from tests.support.local_client import local_client
from tests.support.red_main import BROKEN_TEST, red_inventory_repo
from tests.support.repo_builder import git
from tests.support.sandbox import FAST

pytestmark = pytest.mark.slow
CRASH = """\
Traceback (most recent call last):
  File "/srv/shop/inventory.py", line 3, in stock_level
    return item["quantity"] - item.get("reserved", 0)
TypeError: unsupported operand type(s) for -: 'str' and 'int'
"""


def pytest_output(repo: Path) -> str:
    """What pytest prints on the red commit, as a reporter would copy it from a terminal."""
    run = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *FAST]
    done = subprocess.run(run, cwd=repo, capture_output=True, text=True, check=False)
    assert done.returncode == 1, done.stdout + done.stderr
    return done.stdout


def test_an_issue_with_a_pasted_failure_becomes_a_pr_that_fixes_it(tmp_path: Path) -> None:
    repo, red = red_inventory_repo(tmp_path / "shop")
    body = f"Stock counts crash on main since today:\n\n```\n{pytest_output(repo)}```\n"
    with github_for(repo, tmp_path / "origin.git") as github:
        github.fake.issues[1] = {
            "number": 1,
            "title": "KeyError in stock_level",
            "body": body,
            "labels": ["bug"],
            "state": "open",
        }
        settings = Settings(
            home=tmp_path / "state",
            worker=False,
            test_timeout=120,
            pytest_args=FAST,
            repos={"shop": RepoTable(checkout=repo, issue_trigger="opened")},
            github_webhook_secret=SecretStr(signed.GITHUB_SECRET),
            forge="github",
            tracker="github",
            github_repo=FULL_NAME,
            github_token=SecretStr(TOKEN),
            github_api_url=github.fake.url,
            github_remote_url=str(github.bare),
        )
        worker = Worker(settings, wiring.inbox(settings))
        with local_client(create_app(settings)) as client:
            opened = signed.issue(FULL_NAME, 1, body, labels=("bug",))
            first = _post(client, opened)
            assert first["outcome"] == "new", first
            assert worker.drain() == 1
            record = client.get(f"/incidents/{first['incident_id']}").json()
            labelled = signed.issue(FULL_NAME, 1, body, action="labeled", label="fixloop:fix")
            again = _post(client, labelled)

            # A ticket fixloop opens itself carries the stack; its `opened` event starts nothing.
            other = parse_payload({"kind": "traceback", "text": CRASH})
            stack = render("ticket.md.j2", incident=other, repo=str(repo))
            own = wiring.tracker(settings).ensure_ticket(other, other.title, stack)
            number = int(own.key.removeprefix("#"))
            ticket_body = github.fake.issues[number]["body"]
            ignored = _post(client, signed.issue(FULL_NAME, number, ticket_body))
            assert worker.drain() == 0

    run = record["run"]
    assert run["status"] == "awaiting_review", run["audit"]
    assert run["incident"] == first["incident_id"]
    assert run["ticket"]["key"] == "#1"
    assert again["outcome"] == "duplicate_delivery"
    assert "opened by fixloop" in ignored["ignored"]
    assert wiring.inbox(settings).stats()["incidents"] == 1
    assert sorted(github.fake.issues) == [1, number]
    assert github.fake.issues[1]["body"] == body
    assert f"fixloop-{first['incident_id']}" in github.fake.issues[1]["labels"]
    [pr] = github.fake.pulls.values()
    assert "Fixes #1 " in pr["body"] and BROKEN_TEST in pr["body"]
    assert (pr["draft"], pr["head"]) == (True, f"fixloop/{first['incident_id']}")
    assert any(f"#{pr['number']}" in comment for comment in github.fake.comments[1])
    branch = git(github.bare, "rev-parse", f"refs/heads/fixloop/{first['incident_id']}")
    assert git(github.bare, "rev-parse", f"{branch}^") == red


def _post(client: TestClient, payload: dict[str, object]) -> dict[str, object]:
    body, headers = signed.github("issues", payload)  # type: ignore[arg-type]
    answer = client.post("/webhooks/github", content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    result: dict[str, object] = answer.json()
    return result
