"""JiraTracker through the real `jira` client against a fake Jira Server API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from agent import wiring
from agent.domain import Incident
from agent.errors import AdapterError, ConfigError, NotFound
from agent.settings import Settings
from tests.support.fakes.jira import FakeJira
from tools.jira_tracker import JiraTracker


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    with FakeJira("OPS") as fake:
        yield fake


def jira_settings(tmp_path: Path, fake: FakeJira) -> Settings:
    return Settings(
        home=tmp_path / "state",
        tracker="jira",
        jira_url=fake.url,
        jira_user="bot@acme.example",
        jira_token=SecretStr("jira-token"),
        jira_project="OPS",
    )


@pytest.fixture
def tracker(tmp_path: Path, jira: FakeJira) -> JiraTracker:
    built = wiring.tracker(jira_settings(tmp_path, jira))
    assert isinstance(built, JiraTracker)
    return built


def incident(number: int = 1, fingerprint: str = "ab" * 32, level: str = "fatal") -> Incident:
    return Incident(
        id=f"fx-00000000000{number}",
        source="sentry_event",
        fingerprint=fingerprint,
        title="ZeroDivisionError: division by zero",
        level=level,
    )


def test_a_ticket_is_created_once_with_priority_and_labels(
    tracker: JiraTracker, jira: FakeJira
) -> None:
    first = tracker.ensure_ticket(incident(), "ZeroDivisionError in average_basket", "body")
    again = tracker.ensure_ticket(incident(), "ZeroDivisionError in average_basket", "body")
    same_bug = tracker.ensure_ticket(incident(2), "another event", "body")

    assert first.key == again.key == same_bug.key == "OPS-1"
    assert (first.status, first.fingerprint, first.incident_id) == (
        "open",
        "ab" * 32,
        "fx-000000000001",
    )
    stored = jira.issues["OPS-1"]
    assert (stored["priority"], stored["issuetype"]) == ("Highest", "Bug")
    assert len(jira.issues) == 1
    assert tracker.find_open("ab" * 32) == first
    assert tracker.find_open("cd" * 32) is None


def test_comments_are_posted_once_per_key(tracker: JiraTracker, jira: FakeJira) -> None:
    key = tracker.ensure_ticket(incident(), "t", "b").key

    tracker.comment(key, "diagnosis", "Root cause: average_basket divides by len([])")
    tracker.comment(key, "diagnosis", "Root cause: average_basket divides by len([])")
    tracker.comment(key, "pr:1", "Pull request #1")

    assert tracker.comments(key) == [
        "Root cause: average_basket divides by len([])",
        "Pull request #1",
    ]
    assert len(jira.issues[key]["comments"]) == 2


def test_pr_opened_merged_and_regressed_move_the_workflow(
    tracker: JiraTracker, jira: FakeJira
) -> None:
    key = tracker.ensure_ticket(incident(), "t", "b").key

    assert tracker.transition(key, "in_review").status == "in_review"
    assert tracker.transition(key, "in_review").status == "in_review"
    closed = tracker.close(key, "Resolved by pull request #1")
    assert (closed.status, closed.resolution) == ("closed", "Resolved by pull request #1")
    assert tracker.find_open("ab" * 32) is None
    assert tracker.transition(key, "reopened").status == "reopened"
    assert jira.issues[key]["status"] == "Reopened"


def test_a_transition_the_workflow_does_not_offer_is_a_clear_error(tracker: JiraTracker) -> None:
    key = tracker.ensure_ticket(incident(), "t", "b").key
    tracker.close(key, "done")

    with pytest.raises(AdapterError, match="cannot take transition 'In Review' now"):
        tracker.transition(key, "in_review")
    with pytest.raises(NotFound):
        tracker.get("OPS-99")


def test_wiring_refuses_a_jira_tracker_without_its_settings(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="jira_url, jira_project, jira_token"):
        wiring.tracker(Settings(home=tmp_path, tracker="jira"))
