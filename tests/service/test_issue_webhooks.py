"""`fixloop serve` takes GitHub issues with a pasted traceback: one run per issue and body."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from agent import wiring
from agent.intake.issues import TICKET_MARKER
from agent.service.server import create_app
from agent.settings import RepoTable, Settings
from tests.support import signed
from tests.support.local_client import local_client
from tests.support.repo_builder import RepoBuilder

REPO = "acme/shop"
TRACEBACK = """\
```
Traceback (most recent call last):
  File "/srv/shop/app/reports.py", line 4, in average_basket
    return total / len(orders)
ZeroDivisionError: division by zero
```
"""


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    RepoBuilder(tmp_path / "shop").commit({"app/reports.py": "x = 1\n"}, "Start")
    return Settings(
        home=tmp_path / "state",
        worker=False,
        github_webhook_secret=SecretStr(signed.GITHUB_SECRET),
        github_repo=REPO,
        github_login="fixloop-bot",
        repos={"shop": RepoTable(checkout=tmp_path / "shop", issue_trigger="opened")},
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with local_client(create_app(settings)) as client:
        yield client


def _post(client: TestClient, payload: dict[str, Any], event: str = "issues") -> Any:
    body, headers = signed.github(event, payload)
    return client.post("/webhooks/github", content=body, headers=headers)


def test_an_issue_is_queued_once_whichever_event_tells_of_it(
    client: TestClient, settings: Settings
) -> None:
    opened = _post(client, signed.issue(REPO, 3, TRACEBACK))
    again = _post(client, signed.issue(REPO, 3, TRACEBACK))
    labelled = _post(
        client, signed.issue(REPO, 3, TRACEBACK, action="labeled", label="fixloop:fix")
    )

    assert opened.status_code == 200, opened.text
    assert (opened.json()["outcome"], opened.json()["issue"]) == ("new", f"{REPO}#3")
    for answer in (again, labelled):
        assert answer.json()["outcome"] == "duplicate_delivery"
    record = client.get(f"/incidents/{opened.json()['incident_id']}").json()["incident"]
    assert [job["kind"] for job in record["jobs"]] == ["issue"]
    assert wiring.inbox(settings).stats()["jobs_queued"] == 1


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (signed.issue(REPO, 4, TRACEBACK, author="fixloop-bot"), "opened by fixloop"),
        (signed.issue(REPO, 4, f"{TRACEBACK}\n{TICKET_MARKER} ab -->"), "opened by fixloop"),
        (signed.issue(REPO, 4, "The logo is blurry."), "no readable traceback"),
        (signed.issue(REPO, 4, TRACEBACK, action="labeled", label="bug"), "trigger label"),
        (signed.issue("acme/other", 4, TRACEBACK), "not configured"),
    ],
)
def test_issues_that_start_nothing_are_acknowledged_with_the_reason(
    client: TestClient, settings: Settings, payload: dict[str, Any], reason: str
) -> None:
    answer = _post(client, payload)

    assert answer.status_code == 200
    assert reason in answer.json()["ignored"]
    assert wiring.inbox(settings).stats()["incidents"] == 0


def test_the_trigger_is_a_setting_of_each_repository(tmp_path: Path, settings: Settings) -> None:
    label_only = settings.model_copy(
        update={"repos": {"shop": RepoTable(checkout=tmp_path / "shop")}}
    )
    with local_client(create_app(label_only)) as client:
        opened = _post(client, signed.issue(REPO, 5, TRACEBACK))
        labelled = _post(
            client, signed.issue(REPO, 5, TRACEBACK, action="labeled", label="fixloop:fix")
        )
    assert "without the trigger label" in opened.json()["ignored"]
    assert labelled.json()["outcome"] == "new"


def test_malformed_issue_events_are_refused_with_the_reason(
    client: TestClient, settings: Settings
) -> None:
    no_issue = _post(client, {"action": "opened", "repository": {"full_name": REPO}})
    bad_number = signed.issue(REPO, 3, TRACEBACK)
    bad_number["issue"]["number"] = "three"

    assert no_issue.status_code == 400 and "'issue' object" in no_issue.json()["error"]
    answer = _post(client, bad_number)
    assert answer.status_code == 400 and "issue.number" in answer.json()["error"]
    assert wiring.inbox(settings).stats()["deliveries"] == 0
