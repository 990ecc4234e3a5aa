"""GitHub Issues as the tracker, through real PyGithub against the fake GitHub."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from agent import wiring
from agent.domain import Incident
from agent.errors import NotFound
from agent.settings import Settings
from tests.support.fakes.github import FakeGitHub
from tests.support.github_setup import FULL_NAME, TOKEN
from tools.github_issues import GitHubIssuesTracker

FINGERPRINT = "0123456789abcdef" * 4


@pytest.fixture
def github(tmp_path: Path) -> Iterator[FakeGitHub]:
    with FakeGitHub(FULL_NAME, tmp_path / "unused.git") as fake:
        yield fake


@pytest.fixture
def tracker(tmp_path: Path, github: FakeGitHub) -> GitHubIssuesTracker:
    settings = Settings(
        home=tmp_path / "state",
        tracker="github",
        github_repo=FULL_NAME,
        github_token=SecretStr(TOKEN),
        github_api_url=github.url,
    )
    built = wiring.tracker(settings)
    assert isinstance(built, GitHubIssuesTracker)
    return built


def incident(number: int = 1) -> Incident:
    return Incident(
        id=f"fx-00000000000{number}", source="sentry_event", fingerprint=FINGERPRINT, title="t"
    )


def test_one_issue_per_fingerprint_with_its_labels(
    tracker: GitHubIssuesTracker, github: FakeGitHub
) -> None:
    first = tracker.ensure_ticket(incident(), "KeyError in rate_for", "what happened")
    again = tracker.ensure_ticket(incident(2), "KeyError in rate_for", "what happened")

    assert first.key == again.key == "#1"
    assert (first.fingerprint, first.incident_id, first.body) == (
        FINGERPRINT,
        "fx-000000000001",
        "what happened",
    )
    assert all(len(label) <= 50 for label in github.issues[1]["labels"])
    assert tracker.find_open(FINGERPRINT) == first


def test_comments_once_per_key_and_the_status_cycle(
    tracker: GitHubIssuesTracker, github: FakeGitHub
) -> None:
    key = tracker.ensure_ticket(incident(), "t", "b").key
    tracker.comment(key, "pr:1", "Pull request #1")
    tracker.comment(key, "pr:1", "Pull request #1")

    assert tracker.transition(key, "in_review").status == "in_review"
    closed = tracker.close(key, "Resolved by pull request #1")
    assert (closed.status, closed.resolution) == ("closed", "Resolved by pull request #1")
    assert tracker.find_open(FINGERPRINT) is None
    assert tracker.transition(key, "reopened").status == "reopened"
    assert tracker.comments(key) == ["Pull request #1", "Resolved by pull request #1"]
    assert len(github.comments[1]) == 2
    with pytest.raises(NotFound):
        tracker.get("#42")


def test_the_issue_an_incident_was_reported_in_is_its_ticket(
    tracker: GitHubIssuesTracker, github: FakeGitHub
) -> None:
    github.issues[1] = {
        "number": 1,
        "title": "Crash on checkout",
        "body": "Traceback (most recent call last): ...",
        "labels": ["bug"],
        "state": "open",
    }
    reported = incident().model_copy(update={"tags": {"github_issue": "Acme/Shop#1"}})
    elsewhere = incident(2).model_copy(
        update={"fingerprint": "f" * 64, "tags": {"github_issue": "acme/other#1"}}
    )

    ticket = tracker.ensure_ticket(reported, "KeyError in rate_for", "fixloop's text")
    again = tracker.ensure_ticket(reported, "KeyError in rate_for", "fixloop's text")
    other = tracker.ensure_ticket(elsewhere, "KeyError", "fixloop's text")

    assert ticket == again
    assert (ticket.key, ticket.incident_id, ticket.title) == (
        "#1",
        reported.id,
        "Crash on checkout",
    )
    assert github.issues[1]["body"] == "Traceback (most recent call last): ..."
    assert github.issues[1]["labels"][0] == "bug" and len(github.issues[1]["labels"]) == 3
    assert other.key == "#2" and github.issues[2]["body"].startswith("fixloop's text")
